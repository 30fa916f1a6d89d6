"""Helpers shared by the integration tests: HTTP with timeouts, problem
checks, background load, running the jamb binary directly, and an SMTP
server that keeps what a pool's background process sends."""

import email
import email.header
import json
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools'))
import stack as stackmod  # noqa: E402

# Every request is bounded; a hung server fails the test instead of
# hanging the run.
TIMEOUT = 10

# The session stack's limits and CORS origin (see conftest.py).
BODY_LIMIT = 65536
ORIGIN = 'http://localhost:3000'

REQUEST_ID = re.compile(r'^[A-Za-z0-9._-]{1,64}$')
PROBLEM_KEYS = ('type', 'title', 'status', 'detail', 'instance')


def client():
    """A requests session that ignores proxy settings from the
    environment: every server here is on loopback."""
    s = requests.Session()
    s.trust_env = False
    return s


_http = threading.local()


def request(method, url, **kw):
    if not hasattr(_http, 'session'):
        _http.session = client()
    kw.setdefault('timeout', TIMEOUT)
    kw.setdefault('allow_redirects', False)
    return _http.session.request(method, url, **kw)


def get(url, **kw):
    return request('GET', url, **kw)


def media_type(response):
    return response.headers.get('Content-Type', '').split(';')[0].strip()


def assert_problem(response, status):
    """Check an RFC 9457 problem response; returns its body."""
    assert response.status_code == status, response.text
    assert media_type(response) == 'application/problem+json'
    body = response.json()
    missing = [k for k in PROBLEM_KEYS if k not in body]
    assert not missing, f'problem lacks {missing}: {body}'
    assert body['status'] == status
    return body


def wait_until(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.1)


def sleep_pids(url, n, ms=300):
    """Pids of the workers that served N concurrent slow requests.

    A worker serves one request at a time, so while all N sleep, each is
    on a different worker if there are N of them."""
    def one(_):
        r = client().get(f'{url}/v1/debug/sleep?ms={ms}',
                         timeout=TIMEOUT + ms / 1000)
        assert r.status_code == 200, r.text
        return r.json()['pid']

    with ThreadPoolExecutor(n) as ex:
        return list(ex.map(one, range(n)))


def workers_serving(url, n, exclude=(), timeout=20):
    """Wait until N concurrent requests land on N different workers, none
    of them in EXCLUDE; returns their pids."""
    deadline = time.monotonic() + timeout
    while True:
        pids = set(sleep_pids(url, n))
        if len(pids) == n and not pids & set(exclude):
            return pids
        if time.monotonic() > deadline:
            raise AssertionError(f'wanted {n} workers other than '
                                 f'{sorted(exclude)}, got {sorted(pids)}')
        time.sleep(0.2)


class Load:
    """Threads sending GET /v1/health in a loop until stop(), counting
    answers other than 200 (and connection errors) as failures.  Each
    thread stops by itself after MAX_SECONDS."""

    MAX_SECONDS = 60

    def __init__(self, url, threads=4, path='/v1/health'):
        self.url = url + path
        self.ok = 0
        self.failed = 0
        self.errors = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(threads)]

    def _run(self):
        session = client()
        deadline = time.monotonic() + self.MAX_SECONDS
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                status = session.get(self.url, timeout=TIMEOUT).status_code
                error = None if status == 200 else f'HTTP {status}'
            except requests.RequestException as e:
                error = repr(e)
            with self._lock:
                if error is None:
                    self.ok += 1
                else:
                    self.failed += 1
                    self.errors.append(error)

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(TIMEOUT + 5)
        return self

    def __exit__(self, *exc):
        self.stop()


def run_jamb(stack, args, env=None, input=b'', timeout=30):
    """Run the jamb binary with ARGS outside any pool; returns the
    CompletedProcess with bytes output."""
    return subprocess.run([str(stack.jamb)] + [str(a) for a in args],
                          input=input, capture_output=True, timeout=timeout,
                          env=stackmod.jamb_env(env))


def output(proc):
    """stdout and stderr of a CompletedProcess as one text."""
    return (proc.stdout + proc.stderr).decode('utf-8', 'replace')


WARN_LEVELS = {'warn', 'warning', 'error', 'err', 'crit', 'critical',
               'alert', 'emerg', 'fatal'}


def log_level(line):
    """The level of one log line, JSON or key=value; '' if none."""
    try:
        record = json.loads(line)
        if isinstance(record, dict):
            return str(record.get('level', record.get('lvl', ''))).lower()
    except ValueError:
        pass
    m = re.search(r'\blevel=(\w+)', line)
    return m.group(1).lower() if m else ''


def log_lines_since(path, offset):
    with open(path, 'rb') as f:
        f.seek(offset)
        return f.read().decode('utf-8', 'replace').splitlines()


def write_conf(path, conf):
    """Write a {section: {key: value}} config with mode 0600; jamb may
    refuse a config that others can read, since it holds secrets."""
    stackmod.write_private(path, stackmod.render_ini(conf))
    return path


def wait_for(pred, seconds=15):
    """PRED's first true value within SECONDS, else its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    return pred()


class Inbox:
    """An SMTP server on a free port keeping what it receives."""

    def __init__(self, port=None):
        self.port = port or stackmod.free_port()
        self.messages = []
        self.controller = Controller(self, hostname='127.0.0.1',
                                     port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos,
                              email.message_from_bytes(envelope.content)))
        return '250 OK'

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def find(self, subject):
        return [m for rcpt, m in self.messages
                if str(email.header.make_header(email.header.decode_header(
                    m['Subject']))) == subject]

    def to(self, address):
        """The messages whose envelope names ADDRESS."""
        return [m for rcpt, m in self.messages if address in rcpt]


def jobs_conf(port, **jobs):
    """Config overrides for a pool whose background process delivers
    mail to an Inbox on PORT; JOBS overrides the [jobs] keys."""
    conf = {'enabled': True, 'interval_ms': 100, 'backoff': 1,
            'max_attempts': 10}
    conf.update(jobs)
    return {'mail': {'smtp_url': f'smtp://127.0.0.1:{port}',
                     'from': 'site@example.test', 'timeout': 5},
            'jobs': conf}
