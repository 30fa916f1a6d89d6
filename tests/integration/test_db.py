"""The MySQL access layer against real servers.

The C suite tests/unit/test_db runs against the session stack's MariaDB,
in a database of its own.  The other tests share a stack of their own
(its own MariaDB, a replica of it, memcached, a jamb pool and Caddy),
since they stop and restart the database servers: the pool must answer
503 while MariaDB is down, recover by itself once it is back, route
reads to the replica and back to the primary, and never apply a write
twice."""

import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from support import REPO, TIMEOUT, assert_problem, client, request, \
    stackmod, wait_until

UNIT = REPO / 'tests' / 'unit' / 'test_db'
USERS = ("'jamb'@'127.0.0.1'", "'jamb'@'localhost'")
PRIMARY_ID, REPLICA_ID = 1, 2

# Short MySQL timeouts: a server that stops answering costs a request
# seconds, not the default half minute.
DB_STACK_CONF = {
    'server': {'grace': 5},
    'db': {'connect_timeout': 2, 'read_timeout': 5, 'write_timeout': 5},
    'debug': {'routes': True},
}


def logs(s):
    """The last lines of the database stack's logs, for failure
    messages."""
    parts = []
    for name in ('jamb.log', 'mariadb.log', 'replica.log'):
        parts.append(f'--- {name}\n{stackmod.tail(s.dir / name, 15)}')
    return '\n'.join(parts)


def test_c_suite_passes_against_mariadb(stack):
    """tests/unit/test_db with JAMB_TEST_DB_* naming a database of its
    own on the session stack's MariaDB: how CI runs the C suite against a
    real server."""
    if not UNIT.is_file():
        pytest.fail(f'{UNIT} is not built: run make check first',
                    pytrace=False)
    name = f'jamb_unit_{secrets.token_hex(6)}'
    stack.mysql(f'CREATE DATABASE {name} CHARACTER SET utf8mb4 '
                'COLLATE utf8mb4_unicode_ci;' +
                ''.join(f'GRANT ALL PRIVILEGES ON {name}.* TO {u};'
                        for u in USERS))
    env = stackmod.jamb_env({
        'JAMB_TEST_DB_HOST': stackmod.HOST,
        'JAMB_TEST_DB_PORT': str(stack.ports['db']),
        'JAMB_TEST_DB_USER': 'jamb',
        'JAMB_TEST_DB_PASSWORD': stack.db_password,
        'JAMB_TEST_DB_NAME': name,
    })
    try:
        r = subprocess.run([str(UNIT)], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    finally:
        stack.mysql(f'DROP DATABASE IF EXISTS {name}')
    out = r.stdout + r.stderr
    assert r.returncode == 0, f'{UNIT} exited {r.returncode}:\n{out}'
    assert '100%: Checks:' in out, out


@pytest.fixture(scope='module')
def dbstack(tmp_path_factory, request):
    jamb = Path(request.config.getoption('--jamb')).resolve()
    s = stackmod.Stack(tmp_path_factory.mktemp('dbstack'), jamb=jamb,
                       fronts=('caddy',), workers=2, replica=True,
                       conf=DB_STACK_CONF)
    try:
        s.up()
        yield s
    finally:
        s.down()
        for data in ('mariadb', 'mariadb-replica'):
            shutil.rmtree(s.dir / data, ignore_errors=True)


def db_info(url, replica=False):
    """GET /v1/debug/db; the decoded body of a 200 answer."""
    r = request('GET', url + '/v1/debug/db' + ('?replica=1' if replica
                                               else ''))
    assert r.status_code == 200, r.text
    return r.json()


def write(url, slug):
    return request('POST', url + '/v1/debug/db/write', json={'slug': slug})


def tag_rows(s, slug, replica=False):
    """How many tags have SLUG, asked as root on the primary or the
    replica (the slug is made of hex digits and dashes)."""
    sql = f"SELECT COUNT(*) FROM tags WHERE slug = '{slug}'"
    run = s.replica_mysql if replica else s.mysql
    return int(run(sql, 'jamb').strip())


def assert_unavailable(r):
    """A 503 problem with Retry-After, as any database outage gives."""
    assert_problem(r, 503)
    assert r.headers.get('Retry-After', '').isdigit(), r.headers


class Poller:
    """Threads sending GET /v1/debug/db in a loop until stop(), keeping
    (start, end, status, body or error text) of every request.  Each
    thread stops by itself after MAX_SECONDS."""

    MAX_SECONDS = 90

    def __init__(self, url, threads=2):
        self.url = url + '/v1/debug/db'
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(threads)]

    def _run(self):
        session = client()
        deadline = time.monotonic() + self.MAX_SECONDS
        while not self._stop.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                r = session.get(self.url, timeout=TIMEOUT)
                item = (t0, time.monotonic(), r.status_code, r)
            except requests.RequestException as e:
                item = (t0, time.monotonic(), None, repr(e))
            with self._lock:
                self.results.append(item)
            time.sleep(0.02)

    def since(self, t):
        with self._lock:
            return [x for x in self.results if x[0] >= t]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(TIMEOUT + 5)


def test_pool_answers_503_while_mariadb_is_down_and_recovers(dbstack):
    s = dbstack
    slug = f'down-{secrets.token_hex(6)}'
    with Poller(s.url) as poller:
        wait_until(lambda: sum(x[2] == 200 for x in poller.since(0)) >= 10,
                   15, 'no successful reads before the restart')
        before = {x[3].json()['pid'] for x in poller.since(0)
                  if x[2] == 200}
        t_stop = time.monotonic()
        s.stop_mariadb()
        try:
            # While it is down: reads and writes fail fast, with 503.
            time.sleep(0.5)
            t0 = time.monotonic()
            down_write = write(s.url, slug)
            assert time.monotonic() - t0 < TIMEOUT
            assert_unavailable(down_write)
            assert_unavailable(request('GET', s.url + '/v1/debug/db'))
        finally:
            s.start_mariadb()
        t_up = time.monotonic()

        wait_until(lambda: any(x[2] == 200 for x in poller.since(t_up)),
                   10, 'no successful read within 10 s of the restart\n' +
                   logs(s))
        first_ok = min(x[0] for x in poller.since(t_up) if x[2] == 200)
        time.sleep(2)
    results = poller.since(0)

    hung = [x for x in results if x[2] is None]
    assert not hung, f'requests without an answer: {hung[:3]}\n{logs(s)}'
    bad = [(x[2], x[3].text) for x in results if x[2] not in (200, 503)]
    assert not bad, f'answers other than 200 and 503: {bad[:3]}\n{logs(s)}'
    failed = [x for x in results if x[2] == 503]
    assert failed, 'no read failed while MariaDB was down'
    for x in failed:
        assert_unavailable(x[3])
        # Overlapping the outage: in flight at the stop, or sent later.
        assert x[1] >= t_stop and x[0] < t_up, \
            f'a read failed {x[0] - t_up:.2f} s after MariaDB was back'
    after = [x for x in results if x[0] >= first_ok]
    assert all(x[2] == 200 for x in after)
    assert first_ok - t_up < 5

    # The workers that served before reconnected; none hit 500.
    seen_after = {}
    for x in after:
        body = x[3].json()
        seen_after[body['pid']] = body['stats']
    assert seen_after
    for pid, stats in seen_after.items():
        if pid in before:
            assert stats['reconnects'] > 0, (pid, stats)
    # The write refused while the server was down was not applied.
    assert tag_rows(s, slug) == 0


def write_until_answered(url, slug, timeout=10):
    """POST the write again while it fails with 503, as a client honouring
    Retry-After would (sooner, to keep the test short); returns the
    first other answer."""
    deadline = time.monotonic() + timeout
    r = write(url, slug)
    while r.status_code == 503 and time.monotonic() < deadline:
        assert_unavailable(r)
        time.sleep(0.2)
        r = write(url, slug)
    return r


def test_write_after_a_restart_is_applied_at_most_once(dbstack):
    s = dbstack
    slug = f'once-{secrets.token_hex(6)}'
    for _ in range(4):
        db_info(s.url)
    s.stop_mariadb()
    s.start_mariadb()

    # The workers' links are dead now: a write either reconnects first
    # (idle ping) or fails with 503; it is never sent twice.
    r = write(s.url, slug)
    assert r.status_code in (201, 503), r.text
    if r.status_code == 503:
        assert_unavailable(r)
        assert tag_rows(s, slug) == 0
        r = write_until_answered(s.url, slug)
        assert r.status_code == 201, r.text
    assert tag_rows(s, slug) == 1

    # The same slug again, on whichever worker: a conflict, one row.
    for _ in range(4):
        assert_problem(write_until_answered(s.url, slug), 409)
    assert tag_rows(s, slug) == 1


def test_write_route_refuses_malformed_bodies(dbstack):
    s = dbstack
    for body in ({}, {'slug': ''}, {'slug': 7}, {'slug': 'x' * 201},
                 {'slug': 'a', 'extra': 1}, ['slug']):
        r = request('POST', s.url + '/v1/debug/db/write', json=body)
        assert_problem(r, 422)
    created = write(s.url, f'ok-{secrets.token_hex(4)}')
    assert created.status_code == 201, created.text
    assert isinstance(created.json()['id'], int)


def replica_serves_all(url, n=6):
    """Whether N reads in a row with ?replica=1 all come from the
    replica."""
    for _ in range(n):
        body = db_info(url, replica=True)
        if body['server_id'] != REPLICA_ID or not body['replica']:
            return False
    return True


def test_reads_go_to_the_replica_and_to_the_primary_while_it_is_down(
        dbstack):
    s = dbstack
    assert replica_serves_all(s.url), logs(s)
    primary = db_info(s.url)
    assert primary['server_id'] == PRIMARY_ID
    assert primary['replica'] is False

    s.stop_replica()
    try:
        for _ in range(8):
            body = db_info(s.url, replica=True)
            assert body['server_id'] == PRIMARY_ID, body
            assert body['replica'] is False
    finally:
        s.start_replica()

    # A worker leaves a failed replica alone for a few seconds.
    wait_until(lambda: replica_serves_all(s.url), 20,
               'reads did not return to the replica within 20 s\n' +
               logs(s))


def test_write_on_the_primary_reaches_the_replica(dbstack):
    s = dbstack
    slug = f'repl-{secrets.token_hex(6)}'
    r = write(s.url, slug)
    assert r.status_code == 201, r.text
    s.wait_replica(timeout=20)
    assert tag_rows(s, slug, replica=True) == 1
    row = s.replica_mysql(f"SELECT id FROM tags WHERE slug = '{slug}'",
                          'jamb').strip()
    assert int(row) == r.json()['id']
    # The replica refuses writes from jamb's user.
    assert s.replica_mysql('SELECT @@read_only').strip() == '1'
