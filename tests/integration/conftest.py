"""Fixtures: one real stack per session (Caddy and Apache in front of the
same jamb pool), and separate jamb pools for tests that kill, reload or
stop one.

Run from the repository root:  /usr/bin/python3 -m pytest tests/integration
The jamb binary is ./jamb unless --jamb PATH is given.
"""

import itertools
import os
import shutil
from pathlib import Path

import pytest

from support import BODY_LIMIT, ORIGIN, REPO, stackmod

WORKERS = 3

# Debug routes on for the diagnostic routes; a short grace keeps a stuck
# shutdown from stalling the run; a small body limit keeps the 413 test
# cheap through both fronts.
SESSION_CONF = {
    'server': {'grace': 10, 'body_limit': BODY_LIMIT},
    'cors': {'origins': ORIGIN, 'credentials': True},
    'debug': {'routes': True},
    # Outbox deliveries are the business of the tests that start pools
    # with a mail server of their own; a background process here would
    # claim their items.
    'jobs': {'enabled': False},
    # Every client here is 127.0.0.1, so request limits would be shared by
    # all tests; test_ratelimit.py turns them on in pools of its own.
    'ratelimit': {'enabled': False},
}

_pool_names = itertools.count(1)

# Logs worth showing when the running test fails: the session stack's,
# plus those of the pools the test started.
_session_logs = []
_test_logs = []


def pytest_addoption(parser):
    parser.addoption('--jamb', default=str(REPO / 'jamb'),
                     help='jamb binary to test (default: ./jamb)')


@pytest.fixture(scope='session')
def stack(tmp_path_factory, request):
    jamb = Path(request.config.getoption('--jamb')).resolve()
    if not os.access(jamb, os.X_OK):
        pytest.fail(f'{jamb} is not built: run ./autogen.sh && ./configure '
                    '&& make first', pytrace=False)
    s = stackmod.Stack(tmp_path_factory.mktemp('stack'), jamb=jamb,
                       fronts=('caddy', 'apache'), workers=WORKERS,
                       conf=SESSION_CONF)
    try:
        s.up()
        _session_logs.extend(path for name, path in s.logs.items()
                             if name in ('jamb', 'caddy', 'apache-error'))
        yield s
    finally:
        s.down()
        # The data directory is large and useless after the run; the logs
        # beside it are kept.
        shutil.rmtree(s.dir / 'mariadb', ignore_errors=True)


@pytest.fixture(params=['caddy', 'apache'])
def front(request, stack):
    """Base URL of one front; tests using it run through both."""
    return stack.front_url(request.param)


@pytest.fixture
def make_pool(stack):
    """make_pool(conf=None, mode='serve', env=None) starts a jamb of the
    test's own with its own Caddy (see stack.Pool), waits until it
    answers, and stops it after the test whatever happened."""
    pools = []

    def make(conf=None, mode='serve', env=None):
        name = f'p{next(_pool_names)}'
        _test_logs.append(stack.dir / 'pools' / name / 'jamb.log')
        pool = stack.pool(name, conf=conf, mode=mode, env=env)
        pools.append(pool)
        return pool

    try:
        yield make
    finally:
        for pool in pools:
            pool.stop()


def pytest_runtest_setup(item):
    _test_logs.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for path in _test_logs + _session_logs:
        if Path(path).exists():
            report.sections.append((f'log {path}', stackmod.tail(path, 30)))
