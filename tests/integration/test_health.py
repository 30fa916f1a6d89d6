"""Liveness and readiness, through both fronts."""

from support import assert_problem, get, media_type, output, run_jamb, \
    wait_until


def test_health_answers_ok_with_version(front):
    r = get(front + '/v1/health')
    assert r.status_code == 200
    assert media_type(r) == 'application/json'
    body = r.json()
    assert body['status'] == 'ok'
    assert isinstance(body['version'], str) and body['version']


def test_health_version_is_the_one_jamb_version_prints(stack):
    version = get(stack.caddy_url + '/v1/health').json()['version']
    proc = run_jamb(stack, ['version'])
    assert proc.returncode == 0
    assert version in output(proc)


def test_ready_reports_mysql_and_memcached_ok(front):
    r = get(front + '/v1/ready')
    assert r.status_code == 200, r.text
    body = r.json()
    assert body['status'] == 'ready'
    assert body['checks'] == {'mysql': 'ok', 'memcached': 'ok'}


def test_ready_is_503_naming_memcached_while_it_is_down_and_recovers(stack):
    url = stack.caddy_url + '/v1/ready'
    stack.stop_memcached()
    try:
        body = assert_problem(get(url), 503)
        assert 'memcached' in body['detail']
        assert body['checks']['memcached'] != 'ok'
        assert body['checks']['mysql'] == 'ok'
    finally:
        stack.start_memcached()
    wait_until(lambda: get(url).status_code == 200, 30,
               '/v1/ready still not 200 30 s after memcached came back')
