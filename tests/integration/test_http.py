"""HTTP behaviour common to every route: errors as problem details,
methods, CORS and security headers, through both fronts."""

import pytest

from support import ORIGIN, assert_problem, get, media_type, request


def allowed(response):
    return {m.strip().upper()
            for m in response.headers.get('Allow', '').split(',')}


def test_unknown_path_is_404_problem(front):
    r = get(front + '/v1/no-such-thing')
    body = assert_problem(r, 404)
    assert body['instance']


def test_known_path_with_wrong_method_is_405_with_allow(front):
    r = request('DELETE', front + '/v1/health')
    assert_problem(r, 405)
    assert 'GET' in allowed(r)
    assert 'DELETE' not in allowed(r)


def test_head_of_health_has_headers_and_no_body(front):
    r = request('HEAD', front + '/v1/health')
    assert r.status_code == 200
    assert media_type(r) == 'application/json'
    assert r.content == b''


def test_options_is_204_with_allow(front):
    r = request('OPTIONS', front + '/v1/health')
    assert r.status_code == 204
    assert {'GET', 'HEAD', 'OPTIONS'} <= allowed(r)
    assert r.content == b''


def test_cors_preflight_from_configured_origin_is_allowed(front):
    r = request('OPTIONS', front + '/v1/health', headers={
        'Origin': ORIGIN,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'content-type',
    })
    assert r.status_code == 204
    assert r.headers.get('Access-Control-Allow-Origin') == ORIGIN
    assert r.headers.get('Access-Control-Allow-Credentials') == 'true'
    assert 'GET' in r.headers.get('Access-Control-Allow-Methods', '')


def test_cors_preflight_from_unknown_origin_is_not_allowed(front):
    r = request('OPTIONS', front + '/v1/health', headers={
        'Origin': 'http://evil.example',
        'Access-Control-Request-Method': 'GET',
    })
    assert 'Access-Control-Allow-Origin' not in r.headers
    assert 'Access-Control-Allow-Credentials' not in r.headers


def test_cors_get_from_configured_origin_names_it(front):
    r = get(front + '/v1/health', headers={'Origin': ORIGIN})
    assert r.status_code == 200
    assert r.headers.get('Access-Control-Allow-Origin') == ORIGIN


@pytest.mark.parametrize('path', ['/v1/health', '/v1/no-such-thing'])
def test_security_headers_on_every_response(front, path):
    r = get(front + path)
    assert r.headers.get('X-Content-Type-Options') == 'nosniff'
    assert r.headers.get('Content-Security-Policy')
    assert r.headers.get('Referrer-Policy')
