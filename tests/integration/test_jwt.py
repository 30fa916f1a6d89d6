"""jamb token verify | sign | jwks against PyJWT: tokens signed by one
verify with the other for every algorithm, and the refusals a verifier
must make (tampering, wrong keys, algorithm confusion, time, issuer,
audience).  These run the jamb binary alone; no stack is started."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import (ECAlgorithm, HMACAlgorithm, OKPAlgorithm,
                            RSAAlgorithm)

ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256',
        'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
CURVES = {'ES256': ec.SECP256R1, 'ES384': ec.SECP384R1,
          'ES512': ec.SECP521R1}

NOW = 1700000000
CLAIMS = {'sub': '42', 'iss': 'https://idp.example', 'iat': NOW,
          'nbf': NOW - 10, 'exp': NOW + 3600, 'role': 'member'}


@pytest.fixture(scope='module')
def jamb(request):
    path = Path(request.config.getoption('--jamb')).resolve()
    if not os.access(path, os.X_OK):
        pytest.fail(f'{path} is not built: run make first', pytrace=False)
    return path


def run(jamb, *args, input=None, env=None):
    """jamb token ARGS; returns the CompletedProcess with text output."""
    return subprocess.run([str(jamb), 'token'] + [str(a) for a in args],
                          input=input, capture_output=True, text=True,
                          timeout=30, env=env)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


@pytest.fixture(scope='module')
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope='module')
def keys(rsa_key):
    """One private key (or secret) per algorithm, as PyJWT takes it."""
    out = {}
    for alg in ALGS:
        if alg.startswith('HS'):
            out[alg] = os.urandom(64)
        elif alg[:2] in ('RS', 'PS'):
            out[alg] = rsa_key
        elif alg in CURVES:
            out[alg] = ec.generate_private_key(CURVES[alg]())
        else:
            out[alg] = ed25519.Ed25519PrivateKey.generate()
    return out


def public_jwk(alg, key, kid):
    """The JWK a verifier holds, as PyJWT writes it."""
    if alg.startswith('HS'):
        jwk = HMACAlgorithm.to_jwk(key)
    elif alg[:2] in ('RS', 'PS'):
        jwk = RSAAlgorithm.to_jwk(key.public_key())
    elif alg in CURVES:
        jwk = ECAlgorithm.to_jwk(key.public_key())
    else:
        jwk = OKPAlgorithm.to_jwk(key.public_key())
    return dict(json.loads(jwk), kid=kid)


def write_jwks(path, *jwks):
    path.write_text(json.dumps({'keys': list(jwks)}))
    return path


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def verify(jamb, token, jwks_path, *extra):
    return run(jamb, 'verify', '--jwks', jwks_path, '--at', NOW, *extra,
               token)


def assert_refused(proc, reason):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ''
    assert proc.stderr.strip() == f'invalid: {reason}'


@pytest.mark.parametrize('alg', ALGS)
def test_pyjwt_token_verifies_with_jamb(jamb, keys, tmp_path, alg):
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk(alg, keys[alg], 'k1'))
    token = jwt.encode(CLAIMS, keys[alg], algorithm=alg,
                       headers={'kid': 'k1'})
    proc = verify(jamb, token, path, '--alg', alg)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out['claims'] == CLAIMS
    assert out['header']['alg'] == alg
    assert out['header']['kid'] == 'k1'


def test_pyjwt_ed448_token_verifies_with_jamb(jamb, tmp_path):
    key = ed448.Ed448PrivateKey.generate()
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk('EdDSA', key, 'ed448'))
    token = jwt.encode(CLAIMS, key, algorithm='EdDSA',
                       headers={'kid': 'ed448'})
    proc = verify(jamb, token, path)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize('alg', [a for a in ALGS if not a.startswith('HS')])
def test_jamb_token_verifies_with_pyjwt_and_published_jwks(
        jamb, keys, tmp_path, alg):
    pem = tmp_path / 'key.pem'
    pem.write_bytes(pem_private(keys[alg]))
    sign = run(jamb, 'sign', '--key', pem, '--kid', 'k1', '--alg', alg,
               '--claims', json.dumps(CLAIMS))
    assert sign.returncode == 0, sign.stderr
    token = sign.stdout.strip()

    published = run(jamb, 'jwks', '--key', pem, '--kid', 'k1')
    assert published.returncode == 0, published.stderr
    jwks = json.loads(published.stdout)
    assert len(jwks['keys']) == 1
    jwk = jwks['keys'][0]
    assert jwk['kid'] == 'k1'
    assert not {'d', 'p', 'q', 'dp', 'dq', 'qi'} & set(jwk)

    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, key, algorithms=[alg],
                        issuer=CLAIMS['iss'],
                        options={'verify_exp': False, 'verify_nbf': False,
                                 'verify_iat': False})
    assert claims == CLAIMS
    header = jwt.get_unverified_header(token)
    assert header == {'alg': alg, 'typ': 'JWT', 'kid': 'k1'}


@pytest.mark.parametrize('alg', ['RS256', 'PS384', 'ES256', 'ES512',
                                 'EdDSA'])
def test_jamb_signs_with_a_private_jwk_written_by_pyjwt(jamb, keys, tmp_path,
                                                         alg):
    """PyJWT writes one private JWK per file, with RSA's CRT members and
    EC integers stripped of leading zero bytes."""
    writer = {'RS': RSAAlgorithm, 'PS': RSAAlgorithm, 'ES': ECAlgorithm,
              'Ed': OKPAlgorithm}[alg[:2]]
    path = tmp_path / 'private.jwk'
    path.write_text(writer.to_jwk(keys[alg]))
    sign = run(jamb, 'sign', '--key', path, '--alg', alg, '--claims',
               json.dumps(CLAIMS))
    assert sign.returncode == 0, sign.stderr
    claims = jwt.decode(sign.stdout.strip(), keys[alg].public_key(),
                        algorithms=[alg],
                        options={'verify_exp': False, 'verify_nbf': False,
                                 'verify_iat': False})
    assert claims == CLAIMS


@pytest.mark.parametrize('alg', ['HS256', 'HS384', 'HS512'])
def test_jamb_hmac_token_verifies_with_pyjwt(jamb, keys, tmp_path, alg):
    path = write_jwks(tmp_path / 'secret.json',
                      public_jwk(alg, keys[alg], 'mac'))
    sign = run(jamb, 'sign', '--key', path, '--alg', alg, '--claims',
               json.dumps(CLAIMS))
    assert sign.returncode == 0, sign.stderr
    claims = jwt.decode(sign.stdout.strip(), keys[alg], algorithms=[alg],
                        options={'verify_exp': False, 'verify_nbf': False,
                                 'verify_iat': False})
    assert claims == CLAIMS

    # Secrets are never published.
    published = run(jamb, 'jwks', '--key', path)
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout) == {'keys': []}


def test_jamb_sign_ttl_sets_iat_and_exp(jamb, keys, tmp_path):
    pem = tmp_path / 'key.pem'
    pem.write_bytes(pem_private(keys['ES256']))
    sign = run(jamb, 'sign', '--key', pem, '--kid', 'k', '--claims',
               '{"sub":"1"}', '--ttl', '300')
    assert sign.returncode == 0, sign.stderr
    claims = jwt.decode(sign.stdout.strip(), keys['ES256'].public_key(),
                        algorithms=['ES256'])
    assert claims['exp'] - claims['iat'] == 300


@pytest.mark.parametrize('alg', ['HS256', 'RS256', 'PS256', 'ES256',
                                 'EdDSA'])
def test_tampered_payload_is_refused(jamb, keys, tmp_path, alg):
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk(alg, keys[alg], 'k1'))
    token = jwt.encode(CLAIMS, keys[alg], algorithm=alg,
                       headers={'kid': 'k1'})
    header, _, sig = token.split('.')
    forged = b64(json.dumps(dict(CLAIMS, role='owner')).encode())
    proc = verify(jamb, f'{header}.{forged}.{sig}', path, '--alg', alg)
    assert_refused(proc, 'bad signature')


@pytest.mark.parametrize('alg', ['HS256', 'RS256', 'ES256', 'EdDSA'])
def test_token_signed_by_another_key_is_refused(jamb, keys, tmp_path, alg):
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk(alg, keys[alg], 'k1'))
    if alg.startswith('HS'):
        other = os.urandom(64)
    elif alg == 'RS256':
        other = rsa.generate_private_key(public_exponent=65537,
                                         key_size=2048)
    elif alg == 'ES256':
        other = ec.generate_private_key(ec.SECP256R1())
    else:
        other = ed25519.Ed25519PrivateKey.generate()
    token = jwt.encode(CLAIMS, other, algorithm=alg, headers={'kid': 'k1'})
    assert_refused(verify(jamb, token, path, '--alg', alg), 'bad signature')


def hs256_with_secret(secret, header):
    """An HS256 token made by hand: PyJWT refuses a PEM as secret."""
    signing_input = (b64(json.dumps(header).encode()) + '.' +
                     b64(json.dumps(CLAIMS).encode()))
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f'{signing_input}.{b64(mac)}'


def test_hs256_token_keyed_with_the_rsa_public_pem_is_refused(
        jamb, rsa_key, tmp_path):
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    jwks = write_jwks(tmp_path / 'jwks.json',
                      public_jwk('RS256', rsa_key, 'k1'))
    pem = tmp_path / 'public.pem'
    pem.write_bytes(public_pem)

    named = hs256_with_secret(public_pem, {'alg': 'HS256', 'kid': 'k1'})
    assert_refused(verify(jamb, named, jwks), 'alg not allowed')
    assert_refused(verify(jamb, named, jwks, '--alg', 'HS256,RS256'),
                   'alg not allowed for key')

    # The PEM itself as the key file, and no kid to point at it.
    bare = hs256_with_secret(public_pem, {'alg': 'HS256'})
    assert_refused(verify(jamb, bare, pem, '--alg', 'HS256,RS256'),
                   'no key for alg')
    for secret in (public_pem, public_pem.strip()):
        token = hs256_with_secret(secret, {'alg': 'HS256'})
        assert_refused(verify(jamb, token, pem, '--alg', 'HS256'),
                       'no key for alg')


@pytest.mark.parametrize('alg', ['none', 'None', 'NONE'])
def test_alg_none_is_refused(jamb, keys, tmp_path, alg):
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk('ES256', keys['ES256'], 'k1'))
    token = (b64(json.dumps({'alg': alg, 'kid': 'k1'}).encode()) + '.' +
             b64(json.dumps(CLAIMS).encode()) + '.')
    assert_refused(verify(jamb, token, path), 'alg none refused')


def test_unknown_kid_is_refused(jamb, keys, tmp_path):
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk('ES256', keys['ES256'], 'k1'))
    token = jwt.encode(CLAIMS, keys['ES256'], algorithm='ES256',
                       headers={'kid': 'k2'})
    assert_refused(verify(jamb, token, path), 'unknown kid')


def test_crit_and_jku_headers_are_refused(jamb, keys, tmp_path):
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk('ES256', keys['ES256'], 'k1'))
    for extra, reason in (({'crit': ['exp']}, 'crit header refused'),
                          ({'jku': 'https://evil.example/jwks'},
                           'jku header refused')):
        token = jwt.encode(CLAIMS, keys['ES256'], algorithm='ES256',
                           headers=dict(extra, kid='k1'))
        assert_refused(verify(jamb, token, path), reason)


@pytest.fixture
def es256(jamb, keys, tmp_path):
    """A JWKS path and a function signing claims with its key."""
    path = write_jwks(tmp_path / 'jwks.json',
                      public_jwk('ES256', keys['ES256'], 'k1'))

    def sign(claims):
        return jwt.encode(claims, keys['ES256'], algorithm='ES256',
                          headers={'kid': 'k1'})
    return path, sign


def test_at_before_nbf_or_after_exp_is_refused(jamb, es256):
    path, sign = es256
    token = sign(CLAIMS)

    def at(t, *extra):
        return run(jamb, 'verify', '--jwks', path, '--at', t, *extra, token)

    assert at(NOW).returncode == 0
    assert_refused(at(NOW - 100), 'not yet valid')
    assert at(NOW - 10 - 60).returncode == 0
    assert_refused(at(NOW - 10 - 1, '--leeway', '0'), 'not yet valid')
    assert_refused(at(NOW + 3600 + 60), 'expired')
    assert at(NOW + 3600 + 59).returncode == 0
    assert_refused(at(NOW + 3600, '--leeway', '0'), 'expired')


def test_missing_exp_is_refused(jamb, es256):
    path, sign = es256
    claims = {k: v for k, v in CLAIMS.items() if k != 'exp'}
    assert_refused(verify(jamb, sign(claims), path), 'exp missing')


def test_issuer_mismatch_is_refused(jamb, es256):
    path, sign = es256
    token = sign(CLAIMS)
    assert verify(jamb, token, path, '--iss',
                  'https://idp.example').returncode == 0
    assert_refused(verify(jamb, token, path, '--iss', 'https://other'),
                   'iss mismatch')


def test_audience_mismatch_is_refused(jamb, es256):
    path, sign = es256
    one = sign(dict(CLAIMS, aud='api'))
    many = sign(dict(CLAIMS, aud=['web', 'api']))
    for token in (one, many):
        assert verify(jamb, token, path, '--aud', 'api').returncode == 0
        assert_refused(verify(jamb, token, path, '--aud', 'admin'),
                       'aud mismatch')
        assert_refused(verify(jamb, token, path), 'aud not expected')
    assert_refused(verify(jamb, sign(CLAIMS), path, '--aud', 'api'),
                   'aud missing')


def test_token_is_read_from_stdin(jamb, es256):
    path, sign = es256
    proc = run(jamb, 'verify', '--jwks', path, '--at', NOW, '-',
               input=sign(CLAIMS) + '\n')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)['claims']['sub'] == '42'


def test_token_command_needs_no_configuration(jamb, es256):
    path, sign = es256
    env = dict(os.environ, JAMB_CONFIG='/nonexistent/jamb.conf')
    proc = run(jamb, 'verify', '--jwks', path, '--at', NOW, sign(CLAIMS),
               env=env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize('args', [
    ['verify'],
    ['verify', 'token-without-keys'],
    ['verify', '--jwks', '/nonexistent.json', 'a.b.c'],
    ['verify', '--alg', 'XS256', '--jwks', '/dev/null', 'a.b.c'],
    ['verify', '--leeway', '-1', 'a.b.c'],
    ['verify', '--bogus', 'x', 'a.b.c'],
    ['sign', '--alg', 'ES256'],
    ['frobnicate'],
])
def test_usage_errors_exit_2(jamb, args):
    proc = run(jamb, *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ''


def test_pem_without_kid_is_published_under_its_thumbprint(jamb, keys,
                                                            tmp_path):
    pem = tmp_path / 'key.pem'
    pem.write_bytes(pem_private(keys['EdDSA']))
    published = json.loads(run(jamb, 'jwks', '--key', pem).stdout)
    jwk = published['keys'][0]
    canonical = json.dumps({'crv': jwk['crv'], 'kty': jwk['kty'],
                            'x': jwk['x']}, separators=(',', ':'))
    assert jwk['kid'] == b64(hashlib.sha256(canonical.encode()).digest())

    sign = run(jamb, 'sign', '--key', pem, '--claims', json.dumps(CLAIMS))
    assert jwt.get_unverified_header(sign.stdout.strip())['kid'] == \
        jwk['kid']
