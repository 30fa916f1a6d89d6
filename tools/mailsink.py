#!/usr/bin/python3
"""An SMTP server for the development stack that keeps every message it
receives as a file, so that a developer can open the links jamb emails.

    mailsink.py --dir DIR --port N [--host 127.0.0.1]

Message n (counting on from the files already there) is written whole
to DIR/<n>.eml.  It accepts every sender and recipient, prints nothing,
and runs until SIGTERM or SIGINT.  Needs Debian's python3-aiosmtpd.
"""

import argparse
import os
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    """The aiosmtpd handler: one file per message, written under a
    temporary name and renamed, so that no reader sees half of one."""

    def __init__(self, dir):
        self.dir = dir
        self.lock = threading.Lock()
        numbers = [int(p.stem) for p in dir.glob('*.eml')
                   if p.stem.isdigit()]
        self.next = max(numbers, default=0) + 1

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = self.next
            self.next += 1
        tmp = self.dir / f'.{n}.eml.tmp'
        tmp.write_bytes(envelope.original_content or envelope.content)
        os.replace(tmp, self.dir / f'{n}.eml')
        return '250 OK'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--dir', required=True, type=Path)
    ap.add_argument('--port', required=True, type=int)
    ap.add_argument('--host', default='127.0.0.1')
    args = ap.parse_args()

    args.dir.mkdir(parents=True, exist_ok=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    controller = Controller(Sink(args.dir), hostname=args.host,
                            port=args.port)
    controller.start()
    try:
        while not done.wait(1):
            pass
    finally:
        controller.stop()


if __name__ == '__main__':
    main()
