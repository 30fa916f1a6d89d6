"""Request rate limits ([ratelimit]): counted in memcached per client
address and class (reads, other calls, the strict class of sign-in), and
per account for signed-in callers; over a limit the answer is 429 with
Retry-After and the RateLimit-* headers, which every counted answer
carries.  The client address behind trusted proxies ([http]
trusted_proxies) comes from Forwarded or X-Forwarded-For, and only then.

Each test has pools of its own with a unique [cache] prefix, so no two
tests share a counter.  Windows are long (an hour) so that a test never
straddles one, and the tests wait out the last seconds of a window.

Caddy replaces X-Forwarded-For from its clients with their address, so
the tests that need a header as a client sent it, or a REMOTE_ADDR other
than loopback, talk FastCGI to the pool's socket directly."""

import os
import secrets
import socket
import struct
import subprocess
import time

import pytest

from support import (assert_problem, log_lines_since, output, request,
                     run_jamb, stackmod, wait_for, write_conf)

WINDOW = 3600
POSTS = '/v1/posts'
LOGIN = '/v1/auth/login'
OUTAGE = 'rate limits cannot be counted'


def limits(prefix=None, **ratelimit):
    """A pool config with limits on, high unless given, and a [cache]
    prefix of its own (or PREFIX, to share counters)."""
    rl = {'enabled': True, 'window': WINDOW, 'read_per_address': 1000,
          'api_per_address': 1000, 'strict_per_address': 1000,
          'per_account': 1000}
    rl.update(ratelimit)
    prefix = prefix or f'rl{secrets.token_hex(6)}:'
    return {'ratelimit': rl, 'cache': {'prefix': prefix}}


def settle():
    """Waits for the next window when this one is about to end."""
    left = WINDOW - time.time() % WINDOW
    if left < 20:
        time.sleep(left + 0.5)


def fcgi(sock, method, path, remote_addr='127.0.0.1', headers=None,
         body=b''):
    """One FastCGI request on SOCK; returns (status, headers, body) with
    header names in lower case."""
    env = {'REQUEST_METHOD': method, 'REQUEST_URI': path,
           'SCRIPT_NAME': path, 'QUERY_STRING': '',
           'REMOTE_ADDR': remote_addr, 'SERVER_PROTOCOL': 'HTTP/1.1',
           'CONTENT_LENGTH': str(len(body))}
    if body:
        env['CONTENT_TYPE'] = 'application/json'
    for name, value in (headers or {}).items():
        env['HTTP_' + name.upper().replace('-', '_')] = value

    def record(kind, content):
        return struct.pack('>BBHHBB', 1, kind, 1, len(content), 0,
                           0) + content

    def length(n):
        return bytes([n]) if n < 128 else struct.pack('>I', n | 1 << 31)

    params = b''.join(length(len(k)) + length(len(v.encode())) +
                      k.encode() + v.encode() for k, v in env.items())
    data = (record(1, struct.pack('>HB5x', 1, 0)) + record(4, params) +
            record(4, b''))
    if body:
        data += record(5, body)
    data += record(5, b'')
    out = b''
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(sock))
        s.sendall(data)
        buf = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    while len(buf) >= 8:
        _, kind, _, n, pad, _ = struct.unpack('>BBHHBB', buf[:8])
        if kind == 6:
            out += buf[8:8 + n]
        buf = buf[8 + n + pad:]
    head, _, rest = out.partition(b'\r\n\r\n')
    hdrs = {}
    for line in head.decode().split('\r\n'):
        name, _, value = line.partition(':')
        hdrs[name.strip().lower()] = value.strip()
    return int(hdrs.get('status', '200').split()[0]), hdrs, rest


def assert_limited(r, limit):
    """A 429 of the rate limits, with consistent headers."""
    body = assert_problem(r, 429)
    assert body['type'].endswith('/rate-limited'), body
    after = int(r.headers['Retry-After'])
    assert 1 <= after <= WINDOW
    assert r.headers['RateLimit-Limit'] == str(limit)
    assert r.headers['RateLimit-Remaining'] == '0'
    assert r.headers['RateLimit-Reset'] == str(after)


def test_request_over_the_read_limit_is_429_with_retry_after(make_pool):
    pool = make_pool(conf=limits(read_per_address=3))
    settle()
    remaining = []
    for _ in range(3):
        r = request('GET', pool.url + POSTS)
        assert r.status_code == 200, r.text
        assert r.headers['RateLimit-Limit'] == '3'
        remaining.append(r.headers['RateLimit-Remaining'])
        # Windows are aligned to the clock: the reset is where it ends.
        reset = int(r.headers['RateLimit-Reset'])
        assert abs(reset - (WINDOW - time.time() % WINDOW)) < 2
    assert remaining == ['2', '1', '0']
    assert_limited(request('GET', pool.url + POSTS), 3)
    # Reads and other calls are counted apart.
    r = request('POST', pool.url + '/v1/auth/logout', json={})
    assert r.status_code != 429
    assert r.headers['RateLimit-Limit'] == '1000'


def test_strict_class_covers_sign_in_and_counts_every_attempt(make_pool):
    pool = make_pool(conf=limits(strict_per_address=2, api_per_address=50))
    settle()
    for _ in range(2):
        r = request('POST', pool.url + LOGIN, json={
            'email': f'nobody-{secrets.token_hex(4)}@example.com',
            'password': 'not a password at all'})
        assert r.status_code == 401, r.text
        assert r.headers['RateLimit-Limit'] == '2'
    assert_limited(request('POST', pool.url + '/v1/auth/magic-link',
                           json={'email': 'x@example.com'}), 2)
    r = request('POST', pool.url + '/v1/auth/logout', json={})
    assert r.status_code != 429
    assert r.headers['RateLimit-Limit'] == '50'


def test_refused_credentials_are_counted_against_the_address(make_pool):
    pool = make_pool(conf=limits(read_per_address=3))
    settle()
    bad = {'Authorization': 'Bearer jamb_00000000_' + '0' * 64}
    for _ in range(3):
        r = request('GET', pool.url + POSTS, headers=bad)
        assert r.status_code == 401, r.text
        assert r.headers['RateLimit-Limit'] == '3'
    assert_limited(request('GET', pool.url + POSTS, headers=bad), 3)


def test_two_pools_on_one_memcached_share_the_counters(make_pool):
    conf = limits(read_per_address=4)
    first, second = make_pool(conf=conf), make_pool(conf=conf)
    settle()
    for url in (first.url, second.url, first.url, second.url):
        assert request('GET', url + POSTS).status_code == 200
    assert_limited(request('GET', first.url + POSTS), 4)
    assert_limited(request('GET', second.url + POSTS), 4)


def test_health_and_ready_are_never_limited(make_pool):
    pool = make_pool(conf=limits(read_per_address=1))
    settle()
    assert request('GET', pool.url + POSTS).status_code == 200
    assert_limited(request('GET', pool.url + POSTS), 1)
    for _ in range(3):
        for path in ('/v1/health', '/v1/ready'):
            r = request('GET', pool.url + path)
            assert r.status_code == 200, r.text
            assert 'RateLimit-Limit' not in r.headers


def test_limits_off_add_no_headers(make_pool):
    pool = make_pool(conf={'ratelimit': {'enabled': False,
                                         'read_per_address': 1}})
    for _ in range(3):
        r = request('GET', pool.url + POSTS)
        assert r.status_code == 200
        assert 'RateLimit-Limit' not in r.headers


def test_account_limit_holds_across_addresses(make_pool, stack):
    pool = make_pool(conf={**limits(per_account=3),
                           'http': {'trusted_proxies': '127.0.0.1'}})
    proc = run_jamb(stack, ['key', 'create', '--role', 'member',
                            f'limited {secrets.token_hex(4)}', '-c',
                            stack.conf_path])
    assert proc.returncode == 0, output(proc)
    key = {'Authorization': f'Bearer {proc.stdout.decode().strip()}'}
    settle()

    def from_addr(addr, auth=key):
        return fcgi(pool.sock, 'GET', POSTS, headers={
            'X-Forwarded-For': addr, **(auth or {})})

    for addr in ('198.51.100.1', '198.51.100.1', '198.51.100.2'):
        status, hdrs, _ = from_addr(addr)
        assert status == 200
    assert hdrs['ratelimit-limit'] == '3'
    assert hdrs['ratelimit-remaining'] == '0'
    status, hdrs, body = from_addr('198.51.100.2')
    assert status == 429, body
    assert hdrs['ratelimit-limit'] == '3'
    # The address itself still has room without the key.
    status, hdrs, _ = from_addr('198.51.100.2', auth=None)
    assert status == 200
    assert hdrs['ratelimit-limit'] == '1000'


def test_each_address_behind_a_trusted_proxy_has_its_own_count(make_pool):
    pool = make_pool(conf={**limits(read_per_address=1),
                           'http': {'trusted_proxies': '127.0.0.1, ::1'}})
    settle()
    for i in range(3):
        status, _, body = fcgi(pool.sock, 'GET', POSTS, headers={
            'X-Forwarded-For': f'203.0.113.{i + 1}, 127.0.0.1'})
        assert status == 200, body
    status, _, _ = fcgi(pool.sock, 'GET', POSTS,
                        headers={'X-Forwarded-For': '203.0.113.1'})
    assert status == 429
    # A forged left-most entry does not make a new client.
    status, _, _ = fcgi(pool.sock, 'GET', POSTS, headers={
        'X-Forwarded-For': '192.0.2.99, 203.0.113.2'})
    assert status == 429
    # Through Caddy with Forwarded, which Caddy passes on as it came.
    r = request('GET', pool.url + POSTS,
                headers={'Forwarded': 'for="[2001:db8::7]:1234"'})
    assert r.status_code == 200
    r = request('GET', pool.url + POSTS,
                headers={'Forwarded': 'for=2001:db8:0::7'})
    assert_limited(r, 1)


def test_forwarding_headers_from_an_untrusted_peer_are_ignored(make_pool):
    pool = make_pool(conf={**limits(read_per_address=2),
                           'http': {'trusted_proxies': '127.0.0.1'}})
    settle()
    statuses = []
    for i in range(3):
        status, _, _ = fcgi(pool.sock, 'GET', POSTS,
                            remote_addr='192.0.2.10', headers={
                                'X-Forwarded-For': f'203.0.113.{i + 1}',
                                'Forwarded': f'for=203.0.113.{i + 1}'})
        statuses.append(status)
    assert statuses == [200, 200, 429]
    # The same headers from the trusted peer are believed.
    status, _, _ = fcgi(pool.sock, 'GET', POSTS,
                        headers={'X-Forwarded-For': '203.0.113.3'})
    assert status == 200


def start_memcached(port):
    argv = ['memcached', '-l', '127.0.0.1', '-p', str(port), '-U', '0',
            '-m', '16']
    if os.geteuid() == 0:
        argv += ['-u', 'nobody']
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def accepts():
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except OSError:
            return False
    assert wait_for(accepts), f'memcached did not start on port {port}'
    return proc


def stop(proc):
    proc.terminate()
    proc.wait(timeout=10)


def outages(pool, offset):
    return [line for line in log_lines_since(pool.log, offset)
            if OUTAGE in line]


def test_memcached_down_strict_fails_closed_reads_fail_open(make_pool):
    port = stackmod.free_port()
    memcached = start_memcached(port)
    try:
        conf = limits(strict_per_address=5)
        conf['cache']['servers'] = f'127.0.0.1:{port}'
        conf['server'] = {'workers': 1}
        pool = make_pool(conf=conf)
        settle()
        login = {'email': 'nobody@example.com', 'password': 'wrong'}
        r = request('POST', pool.url + LOGIN, json=login)
        assert r.status_code == 401
        assert r.headers['RateLimit-Limit'] == '5'

        offset = pool.log.stat().st_size
        stop(memcached)
        for _ in range(3):
            r = request('POST', pool.url + LOGIN, json=login)
            assert_problem(r, 503)
            assert 1 <= int(r.headers['Retry-After']) <= 60
            r = request('GET', pool.url + POSTS)
            assert r.status_code == 200, r.text
            assert 'RateLimit-Limit' not in r.headers
        assert len(outages(pool, offset)) == 1

        memcached = start_memcached(port)
        assert wait_for(lambda: request('POST', pool.url + LOGIN,
                                        json=login).status_code == 401)
        r = request('POST', pool.url + LOGIN, json=login)
        assert r.headers['RateLimit-Limit'] == '5'
        assert len(outages(pool, offset)) == 1
    finally:
        stop(memcached)


@pytest.mark.parametrize('section,key,value', [
    ('http', 'trusted_proxies', '10.0.0.0/33'),
    ('http', 'trusted_proxies', '127.0.0.1, proxy.example'),
    ('ratelimit', 'strict_fail', 'ajar'),
    ('ratelimit', 'window', '0'),
])
def test_check_config_refuses_bad_limits_and_proxies(stack, tmp_path,
                                                     section, key, value):
    path = write_conf(tmp_path / 'jamb.conf',
                      stack.config({section: {key: value}}))
    proc = run_jamb(stack, ['check-config', '-c', path])
    assert proc.returncode == 1
    assert key in output(proc)


def test_check_config_accepts_proxies_of_both_families(stack, tmp_path):
    path = write_conf(tmp_path / 'jamb.conf', stack.config(
        {'http': {'trusted_proxies': '10.0.0.0/8, 2001:db8::/32, ::1'}}))
    proc = run_jamb(stack, ['check-config', '-c', path])
    assert proc.returncode == 0, output(proc)
