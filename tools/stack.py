#!/usr/bin/python3
"""Start and stop jamb's real stack inside one directory, on loopback.

The stack is MariaDB, memcached, a jamb pool (`jamb serve`) on a unix
socket, and Caddy and/or Apache in front of it.  tools/dev, the pytest
fixtures and the benchmarks all start it through this one module, so a
developer's stack and the tested stack are the same thing.

    stack.py up --dir DIR [--port N] [--front caddy|apache|both]
                [--apache-port N] [--db-port N] [--workers N] [--jamb PATH]
                [--replica] [--seed-demo] [--mail-sink]
    stack.py down --dir DIR
    stack.py status --dir DIR
    stack.py url --dir DIR [--front caddy|apache]

Everything a run leaves lives in DIR (logs, data, state.json), except the
unix sockets: they go to a short 0755 directory under /tmp, because
Apache's children run as www-data and must reach them, and because socket
paths are limited to about 100 bytes.

Python 3 standard library only.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APACHE_MODULES = Path('/usr/lib/apache2/modules')
FRONTS = ('caddy', 'apache')
HOST = '127.0.0.1'

# Order of shutdown: the fronts first so that nothing new reaches jamb,
# jamb before the services it uses.
STOP_ORDER = ('caddy', 'apache', 'jamb', 'mailsink', 'memcached',
              'replica', 'mariadb')


class StackError(Exception):
    """A part of the stack could not be started; the text says where to
    look."""


# Processes

def _stat(pid):
    """The fields of /proc/PID/stat that follow the command name, or None.

    The command name is skipped by its closing parenthesis since it may
    itself contain spaces or parentheses."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(')') + 2:].split()


def start_time(pid):
    """Start time of PID in clock ticks since boot, or None."""
    st = _stat(pid)
    return int(st[19]) if st else None


def pid_alive(pid, start=None):
    """Whether PID runs (a zombie does not count) and, when START is given,
    is still the process that started then rather than a recycled pid."""
    st = _stat(pid)
    if st is None or st[0] in ('Z', 'X'):
        return False
    return start is None or int(st[19]) == start


def children(pid):
    """Pids of the living children of PID, in ascending order."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        st = _stat(entry)
        if st and st[1] == str(pid) and st[0] not in ('Z', 'X'):
            found.append(int(entry))
    return sorted(found)


class Proc:
    """A process this module started, known by pid and start time so that
    a recycled pid is never signalled by mistake.  `popen` is kept while
    the starting Python process lives, to reap it and read its status."""

    def __init__(self, name, pid, start, log, popen=None):
        self.name = name
        self.pid = pid
        self.start = start
        self.log = Path(log)
        self.popen = popen

    @classmethod
    def spawn(cls, name, argv, log, env=None, cwd=None,
              stdin=subprocess.DEVNULL):
        """Start ARGV with stdout and stderr appended to LOG.

        A new session keeps the process out of the terminal's process
        group: Ctrl-C in a test run must not kill servers that the
        fixtures are about to stop in order."""
        log = Path(log)
        with open(log, 'ab') as out:
            try:
                popen = subprocess.Popen(
                    [str(a) for a in argv], stdin=stdin, stdout=out,
                    stderr=subprocess.STDOUT, env=env, cwd=cwd,
                    start_new_session=True)
            except OSError as e:
                raise StackError(f'cannot run {argv[0]}: {e}') from None
        return cls(name, popen.pid, start_time(popen.pid), log, popen)

    @classmethod
    def from_dict(cls, name, d):
        return cls(name, d['pid'], d['start'], d['log'])

    def to_dict(self):
        return {'pid': self.pid, 'start': self.start, 'log': str(self.log)}

    def alive(self):
        if self.popen is not None and self.popen.poll() is not None:
            return False
        return pid_alive(self.pid, self.start)

    @property
    def returncode(self):
        """Exit status when this Python process started it and it ended,
        else None."""
        return None if self.popen is None else self.popen.poll()

    def signal(self, sig):
        """Send SIG if the process is still ours; False when it is gone."""
        if not self.alive():
            return False
        os.kill(self.pid, sig)
        return True

    def wait(self, timeout):
        """Wait until the process is gone; False on timeout."""
        if self.popen is not None:
            try:
                self.popen.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL if it has not exited after TIMEOUT."""
        if self.signal(signal.SIGTERM) and not self.wait(timeout):
            self.signal(signal.SIGKILL)
            self.wait(10)


def stop_tree(proc, timeout):
    """Stop PROC and then any of its children that outlived it.

    A master that exits without taking its workers along must not leave
    them running (they would keep the socket open); they are ours, so
    they are stopped too, again only if their start time still matches."""
    kids = []
    if proc.alive():
        kids = [Proc(f'{proc.name}-child', pid, start_time(pid), proc.log)
                for pid in children(proc.pid)]
    proc.stop(timeout)
    for kid in kids:
        kid.stop(5)


# Small helpers

def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def write_private(path, text):
    """Write TEXT to PATH with mode 0600, atomically: a master reloading
    on SIGHUP must never read a half-written file.  Returns whether the
    content changed."""
    path = Path(path)
    try:
        if path.read_text() == text:
            os.chmod(path, 0o600)
            return False
    except OSError:
        pass
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return None


def tail(path, lines=20):
    try:
        text = Path(path).read_text(errors='replace')
    except OSError:
        return f'({path} is missing)'
    return '\n'.join(text.splitlines()[-lines:])


def render_ini(conf):
    """Render {section: {key: value}} as jamb's INI format."""
    out = []
    for section, keys in conf.items():
        out.append(f'[{section}]')
        out.extend(f'{k} = {v}' for k, v in keys.items())
        out.append('')
    return '\n'.join(out)


def ini_value(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return str(value)


def merge_conf(base, *overrides):
    """BASE with each override applied in turn, as strings; a value of
    None removes the key."""
    conf = {}
    for layer in (base,) + overrides:
        for section, keys in (layer or {}).items():
            dest = conf.setdefault(section, {})
            for key, value in keys.items():
                if value is None:
                    dest.pop(key, None)
                else:
                    dest[key] = ini_value(value)
    return conf


_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url, timeout=2):
    """Status of GET URL, or the error text when nothing answered.
    Proxies from the environment are ignored: everything is on loopback."""
    try:
        with _no_proxy.open(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError) as e:
        return str(e)


def wait_http(url, procs, timeout):
    """Wait until URL answers 200 while every one of PROCS stays alive.

    On failure the error names the log files and shows their last lines,
    since that is the first thing anyone will look at."""
    deadline = time.monotonic() + timeout
    while True:
        for p in procs:
            if not p.alive():
                raise StackError(
                    f'{p.name} exited while waiting for {url}; '
                    f'its log is {p.log}:\n{tail(p.log)}')
        status = http_status(url)
        if status == 200:
            return
        if time.monotonic() > deadline:
            logs = '\n'.join(f'--- {p.log}\n{tail(p.log)}' for p in procs)
            raise StackError(
                f'{url} did not answer 200 within {timeout} s '
                f'(last: {status}); logs:\n{logs}')
        time.sleep(0.1)


def jamb_env(extra=None):
    """The environment for jamb: ours without JAMB_* variables, which
    would silently override the generated config, plus EXTRA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('JAMB_')}
    env.update(extra or {})
    return env


def caddyfile(port, sock, storage, extra=''):
    """A Caddyfile proxying everything on PORT to the FastCGI socket SOCK.

    The global options keep Caddy off port 2019, off HTTPS and out of
    root's home; the grace period bounds its shutdown."""
    return f"""{{
	admin off
	auto_https off
	grace_period 5s
	storage file_system {storage}
}}

:{port} {{
	bind {HOST}
	reverse_proxy unix/{sock} {{
		transport fastcgi
	}}
}}
{extra}"""


def caddy_env(home):
    env = dict(os.environ)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / 'config'),
               XDG_DATA_HOME=str(home / 'data'))
    return env


def spawn_caddy(name, port, sock, dir, extra=''):
    """Start a Caddy whose files all live in DIR; returns its Proc."""
    home = Path(dir) / name
    home.mkdir(parents=True, exist_ok=True)
    conf = Path(dir) / f'{name}.Caddyfile'
    conf.write_text(caddyfile(port, sock, home / 'storage', extra))
    return Proc.spawn(name, ['caddy', 'run', '--config', conf,
                             '--adapter', 'caddyfile'],
                      Path(dir) / f'{name}.log', env=caddy_env(home),
                      cwd=dir)


# The stack

class Stack:
    """The whole stack in one directory.

    Stack(dir, fronts=('caddy', 'apache'), conf={'debug': {'routes':
    True}}).up() starts what is not running yet and waits until
    GET /v1/health answers 200 through every front; down() stops it all.
    `conf` overrides the generated jamb.conf, section by section.
    With replica=True a second MariaDB replicates from the first and
    jamb reads from it ([db] replicas); see _up_replica.
    With seed_demo=True an empty database gets the demo site (`jamb seed
    demo`) on the way up; see seed_demo_once.
    `db_args` are more mariadbd arguments for the primary (TLS
    certificates, for instance); up_mariadb() starts it alone.
    With mail_sink=True an SMTP server (tools/mailsink.py) keeps every
    message jamb sends as a file in DIR/mail, and the pool's background
    process runs to deliver them.
    """

    def __init__(self, dir, jamb=None, fronts=('caddy',), caddy_port=None,
                 apache_port=None, db_port=None, workers=4, conf=None,
                 caddy_extra='', timeout=60, replica=False,
                 seed_demo=False, db_args=(), mail_sink=False):
        self.dir = Path(dir).resolve()
        self.jamb = Path(jamb).resolve() if jamb else REPO / 'jamb'
        unknown = set(fronts) - set(FRONTS)
        if unknown:
            raise ValueError(f'unknown front {sorted(unknown)}')
        self.fronts = tuple(fronts)
        self.wanted_ports = {'caddy': caddy_port, 'apache': apache_port,
                             'db': db_port}
        self.workers = workers
        self.overrides = conf or {}
        self.caddy_extra = caddy_extra
        self.timeout = timeout
        self.replica = replica
        self.seed_demo = seed_demo
        self.db_args = [str(a) for a in db_args]
        self.mail_sink = mail_sink
        self.procs = {}
        self.ports = {}
        self.run_dir = None
        self.jamb_binary = None
        self._pools = []
        self._load()

    # Paths and addresses

    @property
    def state_path(self):
        return self.dir / 'state.json'

    @property
    def conf_path(self):
        return self.dir / 'jamb.conf'

    @property
    def sock(self):
        return self.run_dir / 'jamb.sock'

    @property
    def db_sock(self):
        return self.run_dir / 'mariadb.sock'

    @property
    def db_password(self):
        """The jamb database user's password, made once per directory."""
        path = self.dir / 'db_password'
        if not path.exists():
            write_private(path, secrets.token_urlsafe(24) + '\n')
        return path.read_text().strip()

    @property
    def signing_key(self):
        """Path of the RSA-2048 private key (PEM, mode 0600) that signs
        this directory's access tokens, made once with openssl."""
        path = self.dir / 'signing_key.pem'
        if not path.exists():
            try:
                r = subprocess.run(
                    ['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt',
                     'rsa_keygen_bits:2048'], stdin=subprocess.DEVNULL,
                    capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as e:
                raise StackError(f'openssl genpkey: {e}') from None
            if r.returncode != 0:
                raise StackError(f'openssl genpkey failed:\n{r.stderr}')
            self.dir.mkdir(parents=True, exist_ok=True)
            write_private(path, r.stdout)
        return path

    def front_url(self, front):
        port = self.ports.get(front)
        return f'http://{HOST}:{port}' if port else None

    @property
    def caddy_url(self):
        return self.front_url('caddy') if 'caddy' in self.fronts else None

    @property
    def apache_url(self):
        return self.front_url('apache') if 'apache' in self.fronts else None

    @property
    def url(self):
        """The URL of the first front."""
        return self.front_url(self.fronts[0]) if self.fronts else None

    @property
    def jamb_pid(self):
        proc = self.procs.get('jamb')
        return proc.pid if proc and proc.alive() else None

    @property
    def logs(self):
        """Log file of each part, by name."""
        logs = {name: proc.log for name, proc in self.procs.items()}
        if 'apache' in logs:
            logs['apache-error'] = self.dir / 'apache-error.log'
        return logs

    def worker_pids(self):
        """Living children of the jamb master: the workers, and possibly
        one process for background jobs."""
        return children(self.jamb_pid) if self.jamb_pid else []

    # State

    def _load(self):
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return
        self.ports = state.get('ports', {})
        self.run_dir = Path(state['run_dir']) if state.get('run_dir') else None
        self.jamb_binary = state.get('jamb_binary')
        self.procs = {name: Proc.from_dict(name, d)
                      for name, d in state.get('procs', {}).items()}

    def _save(self):
        state = {
            'ports': self.ports,
            'run_dir': str(self.run_dir) if self.run_dir else None,
            'jamb_binary': self.jamb_binary,
            'procs': {n: p.to_dict() for n, p in self.procs.items()},
            'urls': {f: self.front_url(f) for f in FRONTS
                     if f in self.procs},
        }
        tmp = self.state_path.with_suffix('.tmp')
        tmp.write_text(json.dumps(state, indent=2) + '\n')
        os.replace(tmp, self.state_path)

    def _alive(self, name):
        proc = self.procs.get(name)
        return proc is not None and proc.alive()

    def _port(self, name, wanted=None):
        """WANTED if given, else the port this directory used before if it
        is still free (a developer's URLs stay the same), else a new one."""
        if wanted:
            port = wanted
        elif self.ports.get(name) and port_is_free(self.ports[name]):
            port = self.ports[name]
        else:
            port = free_port()
        self.ports[name] = port
        return port

    def _ensure_run_dir(self):
        if self.run_dir is None:
            self.run_dir = Path(tempfile.mkdtemp(prefix='jamb-', dir='/tmp'))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o755)

    # Up and down

    def up(self):
        """Start whatever is not running and wait until it answers.

        Running parts are reused; a front that is not wanted any more is
        stopped, one wanted on another port is moved, and a jamb built
        after it started is restarted.  Returns self."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._ensure_run_dir()
        try:
            self._up_mariadb()
            if self.replica:
                self._up_replica()
            else:
                self._stop('replica')
            self._up_memcached()
            if self.mail_sink:
                self._up_mailsink()
            else:
                self._stop('mailsink')
            self._up_jamb()
            for front in FRONTS:
                if front in self.fronts:
                    self._up_front(front)
                else:
                    self._stop(front)
            self.wait_ready()
        finally:
            self._save()
        return self

    def wait_ready(self, timeout=None):
        """Wait until /v1/health answers 200 through every front."""
        for front in self.fronts:
            wait_http(self.front_url(front) + '/v1/health',
                      [self.procs[front], self.procs['jamb']],
                      timeout or self.timeout)

    def down(self):
        """Stop everything this directory's state records, by pid."""
        for pool in list(self._pools):
            pool.stop()
        for name in STOP_ORDER:
            self._stop(name)
        if self.run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
        if self.dir.is_dir():
            self._save()

    def _stop(self, name):
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if name == 'jamb':
            stop_tree(proc, self._grace() + 10)
        else:
            proc.stop(30 if name in ('mariadb', 'replica') else 15)

    def status(self):
        """{name: {'pid', 'alive', 'log'}} plus ports and front URLs."""
        return {
            'procs': {n: {'pid': p.pid, 'alive': p.alive(),
                          'log': str(p.log)}
                      for n, p in self.procs.items()},
            'ports': dict(self.ports),
            'urls': {f: self.front_url(f) for f in FRONTS
                     if self._alive(f)},
        }

    # MariaDB

    def _up_mariadb(self):
        if self._alive('mariadb'):
            return
        datadir = self.dir / 'mariadb'
        if not (datadir / 'mysql').is_dir():
            self._install_mariadb(datadir)
        port = self._port('db', self.wanted_ports['db'])
        argv = ['mariadbd', '--no-defaults', f'--datadir={datadir}',
                f'--socket={self.db_sock}', f'--port={port}',
                f'--bind-address={HOST}', f'--user={_user()}',
                f'--pid-file={self.dir / "mariadb.pid"}',
                f'--log-error={self.dir / "mariadb.log"}',
                '--skip-name-resolve',
                '--innodb-flush-log-at-trx-commit=2']
        if self.replica:
            # The replica reads this binary log; both sides need ids.
            argv += ['--log-bin=mariadb-bin', '--server-id=1',
                     '--binlog-format=ROW']
        # Last, so that they may override the ones above.
        argv += self.db_args
        self.procs['mariadb'] = Proc.spawn('mariadb', argv,
                                           self.dir / 'mariadb.log')
        self._wait_mariadb()
        self._create_database()

    def up_mariadb(self):
        """Start only the primary MariaDB, with the jamb database and
        user, for tests of the database link alone; down() stops it.
        Returns self."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._ensure_run_dir()
        try:
            self._up_mariadb()
        finally:
            self._save()
        return self

    def stop_mariadb(self):
        """Stop the primary MariaDB by pid, leaving jamb running (it
        must cope); start_mariadb() brings it back."""
        self._stop('mariadb')
        self._save()

    def start_mariadb(self, timeout=15):
        """Start the primary again on its port and data directory and
        wait until it accepts connections."""
        port = self.ports['db']
        deadline = time.monotonic() + timeout
        while not port_is_free(port):
            if time.monotonic() > deadline:
                raise StackError(f'mariadb: port {port} is still in use')
            time.sleep(0.1)
        self._up_mariadb()
        self._save()

    def _install_mariadb(self, datadir):
        log = self.dir / 'mariadb-install.log'
        with open(log, 'ab') as out:
            r = subprocess.run(
                ['mariadb-install-db', '--no-defaults',
                 f'--datadir={datadir}', f'--user={_user()}',
                 '--auth-root-authentication-method=normal',
                 '--skip-test-db'],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, timeout=300)
        if r.returncode != 0:
            shutil.rmtree(datadir, ignore_errors=True)
            raise StackError(f'mariadb-install-db failed; see {log}:\n'
                             f'{tail(log)}')

    def _wait_mariadb(self, name='mariadb', sock=None):
        proc = self.procs[name]
        deadline = time.monotonic() + max(self.timeout, 120)
        while True:
            if not proc.alive():
                raise StackError(f'mariadbd exited; see {proc.log}:\n'
                                 f'{tail(proc.log)}')
            try:
                self.mysql('SELECT 1', sock=sock)
                return
            except StackError:
                if time.monotonic() > deadline:
                    raise StackError(f'mariadbd did not accept connections'
                                     f'; see {proc.log}') from None
            time.sleep(0.2)

    def _create_database(self):
        pw = self.db_password
        users = ("'jamb'@'127.0.0.1'", "'jamb'@'localhost'")
        sql = ['CREATE DATABASE IF NOT EXISTS jamb CHARACTER SET utf8mb4 '
               'COLLATE utf8mb4_unicode_ci;']
        for u in users:
            # ALTER as well as CREATE so that a lost password file heals.
            sql.append(f"CREATE USER IF NOT EXISTS {u} IDENTIFIED BY '{pw}';")
            sql.append(f"ALTER USER {u} IDENTIFIED BY '{pw}';")
            sql.append(f'GRANT ALL PRIVILEGES ON jamb.* TO {u};')
        self.mysql('\n'.join(sql))

    def mysql(self, sql, database=None, sock=None):
        """Run SQL as MariaDB's root over the unix socket (the primary's
        unless SOCK); returns the tab-separated output, raises StackError
        with the server's text."""
        argv = ['mariadb', '--no-defaults', '--user=root',
                f'--socket={sock or self.db_sock}', '--batch',
                '--skip-column-names']
        if database:
            argv.append(database)
        try:
            r = subprocess.run(argv, input=sql, text=True,
                               capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StackError(f'mariadb client: {e}') from None
        if r.returncode != 0:
            raise StackError(f'mariadb client: {r.stderr.strip()}')
        return r.stdout

    # The replica

    @property
    def replica_sock(self):
        return self.run_dir / 'replica.sock'

    @property
    def repl_password(self):
        """The replication user's password, made once per directory."""
        path = self.dir / 'repl_password'
        if not path.exists():
            write_private(path, secrets.token_urlsafe(24) + '\n')
        return path.read_text().strip()

    def replica_mysql(self, sql, database=None):
        """mysql() on the replica."""
        return self.mysql(sql, database, sock=self.replica_sock)

    def _up_replica(self):
        """Start the replica unless it runs, pointing a new one at the
        primary, and wait until it has caught up.

        The primary writes its binary log from its first start, so a new
        replica replays everything from there, the jamb database and user
        included: nothing is created on the replica by hand."""
        if self._alive('replica'):
            return
        if self.mysql('SELECT @@log_bin').strip() != '1':
            raise StackError('the primary runs without a binary log; stop '
                             'the stack and start it with the replica')
        datadir = self.dir / 'mariadb-replica'
        fresh = not (datadir / 'mysql').is_dir()
        if fresh:
            self._install_mariadb(datadir)
        self.start_replica()
        if fresh:
            self._start_replication()
        self.wait_replica()
        if not self.replica_mysql("SHOW DATABASES LIKE 'jamb'").strip():
            raise StackError('the replica has no jamb database: the '
                             "primary's binary log does not reach back to "
                             'its creation; use a new directory')

    def _start_replication(self):
        pw = self.repl_password
        user = f"'repl'@'{HOST}'"
        self.mysql(f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{pw}';"
                   f"ALTER USER {user} IDENTIFIED BY '{pw}';"
                   f'GRANT REPLICATION SLAVE ON *.* TO {user};')
        # A retry every second: after a primary restart the replica is
        # back within a second or two rather than a minute.
        self.replica_mysql(
            f"CHANGE MASTER TO MASTER_HOST='{HOST}', "
            f"MASTER_PORT={self.ports['db']}, MASTER_USER='repl', "
            f"MASTER_PASSWORD='{pw}', MASTER_USE_GTID=slave_pos, "
            'MASTER_CONNECT_RETRY=1; START SLAVE;')

    def start_replica(self):
        """Start the replica on the port and data directory it had (a
        free port the first time) and wait until it accepts connections;
        replication, once set up, resumes by itself."""
        datadir = self.dir / 'mariadb-replica'
        port = self._port('replica', self.ports.get('replica'))
        argv = ['mariadbd', '--no-defaults', f'--datadir={datadir}',
                f'--socket={self.replica_sock}', f'--port={port}',
                f'--bind-address={HOST}', f'--user={_user()}',
                f'--pid-file={self.dir / "replica.pid"}',
                f'--log-error={self.dir / "replica.log"}',
                '--skip-name-resolve',
                '--innodb-flush-log-at-trx-commit=2',
                '--server-id=2', '--relay-log=replica-relay-bin',
                # Only replication and root write; jamb's user reads.
                '--read-only']
        self.procs['replica'] = Proc.spawn('replica', argv,
                                           self.dir / 'replica.log')
        self._wait_mariadb('replica', self.replica_sock)
        self._save()

    def stop_replica(self):
        """Stop the replica by pid; start_replica() brings it back."""
        self._stop('replica')
        self._save()

    def wait_replica(self, timeout=30):
        """Wait until the replica has applied everything written on the
        primary so far; StackError with its replication status if not
        within TIMEOUT seconds."""
        pos = self.mysql('SELECT @@gtid_binlog_pos').strip()
        if not pos:
            return
        done = self.replica_mysql(
            f"SELECT MASTER_GTID_WAIT('{pos}', {int(timeout)})").strip()
        if done != '0':
            status = self.replica_mysql('SHOW SLAVE STATUS\\G')
            wanted = ('Slave_IO_Running', 'Slave_SQL_Running',
                      'Last_IO_Error', 'Last_SQL_Error', 'Gtid_IO_Pos')
            lines = [ln.strip() for ln in status.splitlines()
                     if ln.strip().split(':')[0] in wanted]
            raise StackError(f'the replica did not reach {pos} within '
                             f'{timeout} s; ' + '; '.join(lines))

    # memcached

    def _up_memcached(self):
        if not self._alive('memcached'):
            self.start_memcached()

    def start_memcached(self):
        """Start memcached, on the port it had before if it had one, and
        wait until it accepts connections."""
        port = self._port('memcached', self.ports.get('memcached'))
        argv = ['memcached', '-l', HOST, '-p', str(port), '-U', '0',
                '-m', '64']
        if os.geteuid() == 0:
            argv += ['-u', 'nobody']
        proc = Proc.spawn('memcached', argv, self.dir / 'memcached.log')
        self.procs['memcached'] = proc
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if not proc.alive() or time.monotonic() > deadline:
                    raise StackError(f'memcached did not start on port '
                                     f'{port}; see {proc.log}:\n'
                                     f'{tail(proc.log)}') from None
                time.sleep(0.05)
        self._save()

    def stop_memcached(self):
        self._stop('memcached')
        self._save()

    # The mail sink

    @property
    def mail_dir(self):
        """Where the mail sink writes each message, as <n>.eml."""
        return self.dir / 'mail'

    def _up_mailsink(self):
        """Start tools/mailsink.py unless it runs, and wait until it
        accepts connections."""
        if self._alive('mailsink'):
            return
        port = self._port('mailsink', self.ports.get('mailsink'))
        proc = Proc.spawn('mailsink', [sys.executable,
                                       REPO / 'tools' / 'mailsink.py',
                                       '--dir', self.mail_dir,
                                       '--port', port],
                          self.dir / 'mailsink.log')
        self.procs['mailsink'] = proc
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                return
            except OSError:
                if not proc.alive() or time.monotonic() > deadline:
                    raise StackError(f'the mail sink did not start on port '
                                     f'{port}; see {proc.log}:\n'
                                     f'{tail(proc.log)}') from None
                time.sleep(0.05)

    # jamb

    def config(self, overrides=None, listen=None, pidfile=None):
        """The jamb configuration as {section: {key: value}}: generated
        defaults, then the stack's overrides, then OVERRIDES."""
        base = {
            'server': {
                'listen': listen or self.sock,
                'socket_mode': '0666',
                'workers': self.workers,
                'max_requests': 10000,
                'grace': 30,
                'body_limit': 1048576,
                'pidfile': pidfile or self.dir / 'jamb.pid',
            },
            'log': {'level': 'info', 'format': 'json'},
            'db': {
                'host': HOST,
                'port': self.ports.get('db', 3306),
                'user': 'jamb',
                'password': self.db_password,
                'name': 'jamb',
                'migrations': REPO / 'sql',
            },
            'mail': {'templates': REPO / 'conf' / 'mail'},
            'cache': {'servers': f'{HOST}:{self.ports.get("memcached")}'},
            'cors': {'origins': 'http://localhost:3000', 'credentials': True},
            'auth': {
                'signing_key': self.signing_key,
                # Argon2id at 1 MiB instead of 19: a stack on loopback
                # guards nothing, and the test suite signs in hundreds of
                # times.  Still Argon2id, so the code paths are the same.
                'argon2_memory_kib': 1024,
                # Every client of a stack on loopback is 127.0.0.1, so the
                # per-address limit would be shared by all tests; those
                # of the limit set their own in a pool.
                'login_max_failures_per_address': 1000,
                'link_requests_per_client': 1000,
            },
            'debug': {'routes': False},
        }
        if self.mail_sink:
            base['mail']['smtp_url'] = (f'smtp://{HOST}:'
                                        f'{self.ports.get("mailsink")}')
            base['jobs'] = {'enabled': True}
        if self.replica:
            base['db']['replicas'] = f'{HOST}:{self.ports.get("replica")}'
        return merge_conf(base, self.overrides, overrides)

    def config_text(self, overrides=None, **kw):
        return render_ini(self.config(overrides, **kw))

    def write_config(self, overrides=None, path=None, **kw):
        """Write the config (mode 0600) to PATH, by default jamb.conf;
        returns the path."""
        path = Path(path or self.conf_path)
        write_private(path, self.config_text(overrides, **kw))
        return path

    def _grace(self):
        try:
            return int(self.config()['server']['grace'])
        except (KeyError, ValueError):
            return 30

    def _binary_id(self):
        try:
            st = self.jamb.stat()
        except OSError:
            return None
        return {'path': str(self.jamb), 'mtime': st.st_mtime_ns}

    def _up_jamb(self):
        changed = write_private(self.conf_path, self.config_text())
        self.migrate()
        if self.seed_demo:
            self.seed_demo_once()
        if self._alive('jamb'):
            if self._binary_id() != self.jamb_binary:
                self.restart_jamb()
            elif changed:
                self.procs['jamb'].signal(signal.SIGHUP)
            return
        self.start_jamb()

    def migrate(self):
        """Apply pending migrations with `jamb migrate up`, which
        `jamb serve` insists on; its output goes to migrate.log."""
        self._check_binary()
        log = self.dir / 'migrate.log'
        with open(log, 'ab') as out:
            try:
                r = subprocess.run(
                    [str(self.jamb), 'migrate', 'up', '-c', self.conf_path],
                    stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, env=jamb_env(), cwd=self.dir,
                    timeout=600)
            except subprocess.TimeoutExpired:
                raise StackError(f'jamb migrate up took over 600 s; see '
                                 f'{log}') from None
        if r.returncode != 0:
            raise StackError(f'jamb migrate up failed; see {log}:\n'
                             f'{tail(log)}')

    @property
    def demo_password_path(self):
        return self.dir / 'demo_password'

    @property
    def demo_password(self):
        """The demo accounts' password, or None if this directory's
        database was never seeded with the demo."""
        text = _read(self.demo_password_path)
        return text.strip() if text else None

    def seed_demo_once(self):
        """Load the demo site with `jamb seed demo` if the database has
        no users yet, and keep the password it prints in demo_password
        (mode 0600).  A database with users is left alone."""
        name = self.config()['db']['name']
        users = self.mysql('SELECT COUNT(*) FROM users', database=name)
        if int(users.strip()) > 0:
            return
        try:
            r = subprocess.run(
                [str(self.jamb), 'seed', 'demo', '-c', self.conf_path],
                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                env=jamb_env(), cwd=self.dir, timeout=300)
        except subprocess.TimeoutExpired:
            raise StackError('jamb seed demo took over 300 s') from None
        found = re.search(r'^sign in as \S+ with password (.+)$', r.stdout,
                          re.MULTILINE)
        if r.returncode != 0 or not found:
            raise StackError(f'jamb seed demo failed:\n{r.stdout}'
                             f'{r.stderr}')
        write_private(self.demo_password_path, found.group(1) + '\n')

    def _check_binary(self):
        if not os.access(self.jamb, os.X_OK):
            raise StackError(f'{self.jamb} is missing or not executable; '
                             'build it: ./autogen.sh && ./configure && make')

    def start_jamb(self, env=None):
        """Start `jamb serve` with the current jamb.conf.  ENV adds
        variables (JAMB_* overrides, for instance)."""
        self._check_binary()
        if self.sock.is_socket():
            self.sock.unlink()
        self.jamb_binary = self._binary_id()
        self.procs['jamb'] = Proc.spawn(
            'jamb', [self.jamb, 'serve', '-c', self.conf_path],
            self.dir / 'jamb.log', env=jamb_env(env), cwd=self.dir)
        self._save()

    def stop_jamb(self):
        self._stop('jamb')
        self._save()

    def restart_jamb(self, overrides=None, env=None):
        """Stop jamb, write its config with OVERRIDES, start it again and
        wait until it answers through the fronts."""
        self.stop_jamb()
        self.write_config(overrides)
        self.start_jamb(env)
        self.wait_ready()

    def reload(self, overrides=None):
        """Write the config with OVERRIDES and send SIGHUP to the master.
        Does not wait: the caller decides what "reloaded" means."""
        self.write_config(overrides)
        if not self.procs['jamb'].signal(signal.SIGHUP):
            raise StackError('jamb is not running')

    def pool(self, name, conf=None, mode='serve', env=None):
        """Start a separate jamb (with its own Caddy) using this stack's
        MariaDB and memcached; see Pool.  Stopped by down() at the
        latest."""
        pool = Pool(self, name, conf, mode, env)
        self._pools.append(pool)
        try:
            pool.start()
        except BaseException:
            pool.stop()
            raise
        return pool

    # Fronts

    def _up_front(self, front):
        port = self.wanted_ports[front] or self.ports.get(front)
        text = (self._caddy_text(port) if front == 'caddy'
                else self._apache_text(port)) if port else None
        conf = self.dir / f'{front}.conf'
        if self._alive(front):
            if port == self.ports.get(front) and _read(conf) == text:
                return
            self._stop(front)
        port = self._port(front, self.wanted_ports[front])
        if not port_is_free(port):
            raise StackError(f'{front}: port {port} is in use')
        if front == 'caddy':
            self._start_caddy(port, conf)
        else:
            self._start_apache(port, conf)

    def _caddy_text(self, port):
        return caddyfile(port, self.sock, self.dir / 'caddy' / 'storage',
                         self.caddy_extra)

    def _start_caddy(self, port, conf):
        home = self.dir / 'caddy'
        home.mkdir(exist_ok=True)
        conf.write_text(self._caddy_text(port))
        self.procs['caddy'] = Proc.spawn(
            'caddy', ['caddy', 'run', '--config', conf, '--adapter',
                      'caddyfile'],
            self.dir / 'caddy.log', env=caddy_env(home), cwd=self.dir)

    def _apache_text(self, port):
        """A self-contained Apache config proxying everything to jamb.

        Run files (pid, mutexes) go to the 0755 run directory because
        the children, running as www-data, may need to reach them."""
        run = self.run_dir / 'apache'
        mods = ('mpm_event', 'authz_core', 'mime', 'proxy', 'proxy_fcgi')
        lines = ['ServerRoot /etc/apache2', f'ServerName {HOST}',
                 f'Listen {HOST}:{port}']
        lines += [f'LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so'
                  for m in mods]
        if os.geteuid() == 0:
            lines += ['User www-data', 'Group www-data']
        lines += [
            f'PidFile {run}/apache2.pid',
            f'DefaultRuntimeDir {run}',
            f'Mutex file:{run} default',
            f'ErrorLog {self.dir}/apache-error.log',
            'LogLevel warn',
            'TypesConfig /etc/mime.types',
            # jamb is not PHP-FPM: no SCRIPT_FILENAME guessing.
            'ProxyFCGIBackendType GENERIC',
            f'ProxyPass "/" "unix:{self.sock}|fcgi://localhost/"',
            # Apache withholds Authorization from FastCGI unless told.
            '<Location "/">',
            '\tCGIPassAuth On',
            '</Location>',
        ]
        return '\n'.join(lines) + '\n'

    def _start_apache(self, port, conf):
        (self.run_dir / 'apache').mkdir(exist_ok=True)
        conf.write_text(self._apache_text(port))
        check = subprocess.run(['apache2', '-t', '-f', conf],
                               capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise StackError(f'apache2 rejects {conf}:\n{check.stderr}')
        self.procs['apache'] = Proc.spawn(
            'apache', ['apache2', '-f', conf, '-DFOREGROUND'],
            self.dir / 'apache.log', cwd=self.dir)


class Pool:
    """A jamb beside the stack's own, with its own socket, config, log and
    Caddy, sharing the stack's MariaDB and memcached.  For tests that
    kill, reload or stop a pool and must leave the shared one alone.

    MODE is how jamb is started:
      'serve'           jamb serve -c CONF (a master and its workers)
      'spawn-fcgi'      spawn-fcgi hands the socket over on stdin, -c CONF
      'spawn-fcgi-env'  the same with the config named by JAMB_CONFIG
    """

    MODES = ('serve', 'spawn-fcgi', 'spawn-fcgi-env')

    def __init__(self, stack, name, conf=None, mode='serve', env=None):
        if mode not in self.MODES:
            raise ValueError(f'unknown pool mode {mode}')
        self.stack = stack
        self.name = name
        self.overrides = conf or {}
        self.mode = mode
        self.env = env or {}
        self.dir = stack.dir / 'pools' / name
        self.sock = stack.run_dir / f'{name}.sock'
        self.conf_path = self.dir / 'jamb.conf'
        self.log = self.dir / 'jamb.log'
        self.jamb = None
        self.caddy = None
        self.port = None

    @property
    def url(self):
        return f'http://{HOST}:{self.port}'

    @property
    def pid(self):
        return self.jamb.pid

    @property
    def proc(self):
        """The Popen of the jamb process (the master in 'serve' mode)."""
        return self.jamb.popen

    @property
    def grace(self):
        return int(self.config()['server']['grace'])

    def config(self, overrides=None):
        return self.stack.config(merge_conf(self.overrides, overrides),
                                 listen=self.sock,
                                 pidfile=self.dir / 'jamb.pid')

    def write_config(self, overrides=None, text=None):
        """Write the pool's config, or TEXT verbatim (to test rejected
        configs); returns the path."""
        if text is None:
            text = render_ini(self.config(overrides))
        write_private(self.conf_path, text)
        return self.conf_path

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        if self.sock.is_socket():
            self.sock.unlink()
        jamb = self.stack.jamb
        env = dict(self.env)
        if self.mode == 'serve':
            argv = [jamb, 'serve', '-c', self.conf_path]
        else:
            argv = ['spawn-fcgi', '-s', self.sock, '-M', '0666', '-n',
                    '--', jamb]
            if self.mode == 'spawn-fcgi':
                argv += ['-c', self.conf_path]
            else:
                env['JAMB_CONFIG'] = str(self.conf_path)
        self.jamb = Proc.spawn('jamb', argv, self.log, env=jamb_env(env),
                               cwd=self.dir)
        self.port = free_port()
        self.caddy = spawn_caddy('caddy', self.port, self.sock, self.dir)
        wait_http(self.url + '/v1/health', [self.jamb, self.caddy],
                  self.stack.timeout)
        return self

    def signal(self, sig):
        if not self.jamb.signal(sig):
            raise StackError(f'pool {self.name}: jamb is not running')

    def reload(self, overrides=None, text=None):
        """Write the config and send SIGHUP; does not wait."""
        self.write_config(overrides, text)
        self.signal(signal.SIGHUP)

    def children(self):
        return children(self.jamb.pid) if self.jamb.alive() else []

    def stop(self):
        if self.jamb is not None:
            stop_tree(self.jamb, self.grace + 10)
        if self.caddy is not None:
            self.caddy.stop()
        if self in self.stack._pools:
            self.stack._pools.remove(self)


def _user():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


# Command line

def _cmd_up(args):
    fronts = FRONTS if args.front == 'both' else (args.front,)
    ports = {'caddy': None, 'apache': args.apache_port}
    ports[fronts[0]] = args.port or ports[fronts[0]]
    stack = Stack(args.dir, jamb=args.jamb, fronts=fronts,
                  caddy_port=ports['caddy'], apache_port=ports['apache'],
                  db_port=args.db_port, workers=args.workers,
                  replica=args.replica, seed_demo=args.seed_demo,
                  mail_sink=args.mail_sink)
    stack.up()
    for front in fronts:
        print(f'{front}: {stack.front_url(front)}')
    print(f'config: {stack.conf_path}')
    if args.mail_sink:
        print(f'mail: {stack.mail_dir}')
    if stack.demo_password is not None:
        print(f'demo password: {stack.demo_password_path}')
    return 0


def _cmd_down(args):
    Stack(args.dir).down()
    return 0


def _cmd_status(args):
    status = Stack(args.dir).status()
    if not status['procs']:
        print('nothing running')
    for name, p in status['procs'].items():
        state = 'running' if p['alive'] else 'stopped'
        print(f'{name:10} {state:8} pid {p["pid"]:<8} log {p["log"]}')
    for front, url in status['urls'].items():
        print(f'{front}: {url}')
    procs = status['procs'].values()
    return 0 if procs and all(p['alive'] for p in procs) else 1


def _cmd_url(args):
    stack = Stack(args.dir)
    fronts = [args.front] if args.front else FRONTS
    for front in fronts:
        if stack._alive(front):
            print(stack.front_url(front))
            return 0
    print('no front is running', file=sys.stderr)
    return 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    up = sub.add_parser('up', help='start (or reuse) the stack')
    up.add_argument('--dir', required=True, type=Path)
    up.add_argument('--port', type=int,
                    help='port of the (first) front; free port if omitted')
    up.add_argument('--front', choices=FRONTS + ('both',), default='caddy')
    up.add_argument('--apache-port', type=int,
                    help='port of Apache with --front both')
    up.add_argument('--db-port', type=int)
    up.add_argument('--workers', type=int, default=4)
    up.add_argument('--replica', action='store_true',
                    help='a second MariaDB replicating from the first, '
                    'for reads')
    up.add_argument('--seed-demo', action='store_true',
                    help='load the demo site into an empty database')
    up.add_argument('--mail-sink', action='store_true',
                    help='keep the mail jamb sends as files in DIR/mail')
    up.add_argument('--jamb', type=Path,
                    help=f'jamb binary (default {REPO / "jamb"})')
    for name in ('down', 'status'):
        p = sub.add_parser(name)
        p.add_argument('--dir', required=True, type=Path)
    url = sub.add_parser('url', help='print the URL of a running front')
    url.add_argument('--dir', required=True, type=Path)
    url.add_argument('--front', choices=FRONTS)
    args = ap.parse_args(argv)
    handlers = {'up': _cmd_up, 'down': _cmd_down, 'status': _cmd_status,
                'url': _cmd_url}
    try:
        return handlers[args.cmd](args)
    except StackError as e:
        print(f'stack.py {args.cmd}: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
