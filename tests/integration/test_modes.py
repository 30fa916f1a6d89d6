"""The other ways jamb is started: by spawn-fcgi (the socket on stdin,
no master) and as plain CGI (one request on stdin/stdout)."""

import json

import pytest

from support import get, run_jamb


@pytest.mark.parametrize('mode', ['spawn-fcgi', 'spawn-fcgi-env'])
def test_worker_started_by_spawn_fcgi_serves_health_through_caddy(
        make_pool, mode):
    pool = make_pool(mode=mode)
    r = get(pool.url + '/v1/health')
    assert r.status_code == 200
    assert r.json()['status'] == 'ok'
    # No master: the process spawn-fcgi became serves the request itself.
    assert get(pool.url + '/v1/debug/sleep?ms=0').json()['pid'] == pool.pid


def cgi(stack, method='GET', request_uri=None, script_name='',
        path_info='', query='', body=b'', config='flag'):
    env = {
        'GATEWAY_INTERFACE': 'CGI/1.1',
        'SERVER_PROTOCOL': 'HTTP/1.1',
        'SERVER_SOFTWARE': 'pytest',
        'SERVER_NAME': '127.0.0.1',
        'SERVER_PORT': '80',
        'REMOTE_ADDR': '127.0.0.1',
        'REQUEST_METHOD': method,
        'SCRIPT_NAME': script_name,
        'PATH_INFO': path_info,
        'QUERY_STRING': query,
    }
    if request_uri is not None:
        env['REQUEST_URI'] = request_uri
    if body:
        env['CONTENT_LENGTH'] = str(len(body))
        env['CONTENT_TYPE'] = 'application/json'
    args = []
    if config == 'flag':
        args = ['-c', stack.conf_path]
    else:
        env['JAMB_CONFIG'] = str(stack.conf_path)
    proc = run_jamb(stack, args, env=env, input=body)
    assert proc.returncode == 0, proc.stderr.decode('utf-8', 'replace')
    return parse_cgi(proc.stdout)


def parse_cgi(out):
    """Split CGI output into (status code, {lower-case header: value},
    body)."""
    ends = [i for i in (out.find(b'\r\n\r\n'), out.find(b'\n\n')) if i >= 0]
    assert ends, f'no end of headers in CGI output {out[:200]!r}'
    end = min(ends)
    head, body = out[:end], out[end:].lstrip(b'\r\n')
    headers = {}
    for line in head.decode('latin-1').splitlines():
        name, _, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    # RFC 3875: a response without a Status header is 200 OK.
    assert 'content-type' in headers, f'no Content-Type in {head!r}'
    return int(headers.get('status', '200').split()[0]), headers, body


@pytest.mark.parametrize('config', ['flag', 'env'])
@pytest.mark.parametrize('where', ['request_uri', 'script_name+path_info'])
def test_cgi_mode_answers_health(stack, config, where):
    if where == 'request_uri':
        status, headers, body = cgi(stack, request_uri='/v1/health',
                                    script_name='/v1/health', config=config)
    else:
        status, headers, body = cgi(stack, script_name='/v1',
                                    path_info='/health', config=config)
    assert status == 200
    assert headers['content-type'].startswith('application/json')
    assert json.loads(body)['status'] == 'ok'


def test_cgi_mode_unknown_path_is_404_problem(stack):
    status, headers, body = cgi(stack, request_uri='/v1/no-such-thing',
                                script_name='/v1/no-such-thing')
    assert status == 404
    assert headers['content-type'].startswith('application/problem+json')
    assert json.loads(body)['status'] == 404
