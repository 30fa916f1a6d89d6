"""Tokens from external identity providers ([issuer NAME]): signed by
PyJWT with keys jamb fetches as a JWKS from a local HTTP server, mapped
to local users, refetched on an unknown kid no more often than the
refresh interval allows."""

import http.server
import json
import threading
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from support import stackmod

ISS = 'https://idp.example.test/'
AUD = 'jamb-api'
TIMEOUT = 10


class JwksServer:
    """Serves a JWKS document that tests may change, counting fetches."""

    def __init__(self):
        self.keys = []
        self.fetches = 0
        self.up = True
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.fetches += 1
                body = json.dumps({'keys': owner.keys}).encode()
                self.send_response(200 if owner.up else 503)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f'http://127.0.0.1:{self.port}/jwks.json'


def public_jwk(key, kid, alg):
    algo = {'RS256': jwt.algorithms.RSAAlgorithm,
            'ES256': jwt.algorithms.ECAlgorithm,
            'EdDSA': jwt.algorithms.OKPAlgorithm}[alg]
    jwk = json.loads(algo.to_jwk(key.public_key()))
    jwk.update(kid=kid, use='sig')
    return jwk


def new_key(alg):
    if alg == 'RS256':
        return rsa.generate_private_key(public_exponent=65537,
                                        key_size=2048)
    if alg == 'ES256':
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def token(key, kid, alg, **claims):
    now = int(time.time())
    body = {'iss': ISS, 'aud': AUD, 'sub': claims.pop('sub', 'user-1'),
            'iat': now, 'exp': now + 300}
    body.update(claims)
    return jwt.encode(body, key, algorithm=alg, headers={'kid': kid})


def whoami(pool, tok):
    return requests.get(pool.url + '/v1/debug/whoami', timeout=TIMEOUT,
                        headers={'Authorization': f'Bearer {tok}'})


def idp_conf(server, refresh=1):
    return {'issuer test': {'url': ISS, 'audience': AUD,
                            'jwks_url': server.url, 'refresh': refresh}}


@pytest.mark.parametrize('alg', ['RS256', 'ES256', 'EdDSA'])
def test_provider_token_maps_to_one_local_user(make_pool, alg):
    with JwksServer() as srv:
        key = new_key(alg)
        srv.keys = [public_jwk(key, 'k1', alg)]
        pool = make_pool(conf=idp_conf(srv))
        sub = f'sub-{uuid.uuid4().hex}'
        first = whoami(pool, token(key, 'k1', alg, sub=sub))
        assert first.status_code == 200, first.text
        me = first.json()
        assert me['kind'] == 'external' and me['role'] == 'member'
        assert me['user_id'] > 0 and me['claims']['sub'] == sub
        again = whoami(pool, token(key, 'k1', alg, sub=sub)).json()
        assert again['user_id'] == me['user_id']


def test_keys_are_fetched_once_for_all_workers(make_pool):
    with JwksServer() as srv:
        key = new_key('RS256')
        srv.keys = [public_jwk(key, 'k1', 'RS256')]
        pool = make_pool(conf=idp_conf(srv, refresh=60))
        tok = token(key, 'k1', 'RS256', sub=f's-{uuid.uuid4().hex}')
        for _ in range(20):
            assert whoami(pool, tok).status_code == 200
        # The first worker fetches; the others find the set in memcached.
        assert srv.fetches == 1


def test_rotated_key_is_fetched_when_its_kid_appears(make_pool):
    with JwksServer() as srv:
        old, new = new_key('RS256'), new_key('RS256')
        srv.keys = [public_jwk(old, 'old', 'RS256')]
        pool = make_pool(conf=idp_conf(srv, refresh=1))
        sub = f's-{uuid.uuid4().hex}'
        assert whoami(pool, token(old, 'old', 'RS256',
                                  sub=sub)).status_code == 200
        srv.keys.append(public_jwk(new, 'new', 'RS256'))
        time.sleep(1.2)
        r = whoami(pool, token(new, 'new', 'RS256', sub=sub))
        assert r.status_code == 200, r.text


def test_unknown_kids_do_not_make_jamb_hammer_the_provider(make_pool):
    with JwksServer() as srv:
        key = new_key('RS256')
        srv.keys = [public_jwk(key, 'k1', 'RS256')]
        pool = make_pool(conf=idp_conf(srv, refresh=60))
        assert whoami(pool, token(key, 'k1', 'RS256')).status_code == 200
        before = srv.fetches
        for i in range(30):
            r = whoami(pool, token(key, f'made-up-{i}', 'RS256'))
            assert r.status_code == 401
        # At most one refetch per worker within the refresh interval.
        assert srv.fetches - before <= 3


@pytest.mark.parametrize('change', ['aud', 'iss', 'expired', 'wrong-key',
                                    'no-sub'])
def test_provider_tokens_that_do_not_verify_are_refused(make_pool, change):
    with JwksServer() as srv:
        key = new_key('RS256')
        srv.keys = [public_jwk(key, 'k1', 'RS256')]
        pool = make_pool(conf=idp_conf(srv))
        claims = {}
        signer = key
        if change == 'aud':
            claims['aud'] = 'someone-else'
        elif change == 'expired':
            claims['exp'] = int(time.time()) - 3600
        elif change == 'wrong-key':
            signer = new_key('RS256')
        elif change == 'no-sub':
            claims['sub'] = ''
        tok = token(signer, 'k1', 'RS256', **claims)
        if change == 'iss':
            now = int(time.time())
            tok = jwt.encode({'iss': 'https://other.test/', 'aud': AUD,
                              'sub': 'x', 'exp': now + 60}, key,
                             algorithm='RS256', headers={'kid': 'k1'})
        r = whoami(pool, tok)
        assert r.status_code == 401
        assert 'invalid_token' in r.headers['WWW-Authenticate']


def test_verified_email_is_used_but_never_takes_over_an_account(
        stack, make_pool):
    with JwksServer() as srv:
        key = new_key('RS256')
        srv.keys = [public_jwk(key, 'k1', 'RS256')]
        pool = make_pool(conf=idp_conf(srv))
        fresh = f'{uuid.uuid4().hex}@example.test'
        a = whoami(pool, token(key, 'k1', 'RS256', sub=uuid.uuid4().hex,
                               email=fresh, email_verified=True)).json()
        # A second identity claiming the same address gets an account of
        # its own, not the first one.
        b = whoami(pool, token(key, 'k1', 'RS256', sub=uuid.uuid4().hex,
                               email=fresh, email_verified=True)).json()
        assert a['user_id'] != b['user_id']
        emails = stack.mysql(f'SELECT email FROM users WHERE id IN '
                             f'({a["user_id"]}, {b["user_id"]}) ORDER BY id',
                             database='jamb').split()
        assert emails[0] == fresh
        assert emails[1].endswith('@external.invalid')
        # An unverified address is not used either.
        c = whoami(pool, token(key, 'k1', 'RS256', sub=uuid.uuid4().hex,
                               email=f'x{fresh}',
                               email_verified=False)).json()
        got = stack.mysql(f'SELECT email FROM users WHERE id = '
                          f'{c["user_id"]}', database='jamb').strip()
        assert got.endswith('@external.invalid')


def test_provider_keys_unreachable_at_first_use_is_503(make_pool):
    with JwksServer() as srv:
        key = new_key('RS256')
        srv.keys = [public_jwk(key, 'k1', 'RS256')]
        srv.up = False
        pool = make_pool(conf=idp_conf(srv))
        r = whoami(pool, token(key, 'k1', 'RS256'))
        assert r.status_code == 503
        assert r.headers.get('Retry-After')
