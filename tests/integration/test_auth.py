"""Accounts with a password: signup, sign-in, refresh-token rotation and
theft detection, sign-out, the caller's own account (/v1/me), the JWKS
that verifies access tokens (checked with PyJWT), and the limits on
failed sign-ins.

Most tests run through both fronts.  Tests that need their own limits
or a broken memcached start a pool of their own; the session stack's
Argon2id is cheap (see tools/stack.py), so signing in costs little."""

import hashlib
import json
import re
import secrets
import statistics
import time

import jwt
import pytest

from support import assert_problem, get, request, stackmod

SIGNUP = '/v1/auth/signup'
LOGIN = '/v1/auth/login'
REFRESH = '/v1/auth/refresh'
LOGOUT = '/v1/auth/logout'
ME = '/v1/me'
JWKS = '/v1/.well-known/jwks.json'
PASSWORD = 'correct horse battery'
REFRESH_TOKEN = re.compile(r'^[0-9a-f]{64}$')
RFC3339 = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')
INVALID_TOKEN = 'Bearer realm="jamb", error="invalid_token"'


def new_email(tag='user'):
    return f'{tag}-{secrets.token_hex(6)}@example.com'


def post(url, path, body, headers=None):
    return request('POST', url + path, json=body, headers=headers)


def signup(url, email, password=PASSWORD, **extra):
    return post(url, SIGNUP, {'email': email, 'password': password,
                              **extra})


def login(url, email, password=PASSWORD):
    return post(url, LOGIN, {'email': email, 'password': password})


def refresh(url, token):
    return post(url, REFRESH, {'refresh_token': token})


def bearer(token):
    return {'Authorization': f'Bearer {token}'}


def member(url, name=None):
    """A new account, signed in: the login answer's body plus the
    email and password."""
    email = new_email()
    extra = {'name': name} if name is not None else {}
    r = signup(url, email, **extra)
    assert r.status_code == 202, r.text
    r = login(url, email)
    assert r.status_code == 200, r.text
    return {**r.json(), 'email': email, 'password': PASSWORD}


def sql(stack, query):
    """Rows of QUERY in jamb's database, as lists of strings (NULL as
    None)."""
    out = stack.mysql(query, database=stack.config()['db']['name'])
    return [[None if v == 'NULL' else v for v in line.split('\t')]
            for line in out.splitlines()]


def token_sha(token):
    return hashlib.sha256(token.encode()).hexdigest()


def without_instance(problem):
    """A problem document without its per-request member."""
    return {k: v for k, v in problem.items() if k != 'instance'}


def jwks_keys(url):
    r = get(url + JWKS)
    assert r.status_code == 200, r.text
    return r.json()['keys']


# Signup and sign-in

def test_signup_then_login_answers_tokens_and_the_user(front):
    email = new_email('Mixed')
    r = signup(front, f'  {email.upper()}\t', name='Ada Lovelace')
    assert r.status_code == 202, r.text
    assert r.json() == {'status': 'accepted'}

    r = login(front, email)
    assert r.status_code == 200, r.text
    assert r.headers['Cache-Control'] == 'no-store'
    body = r.json()
    assert set(body) == {'access_token', 'token_type', 'expires_in',
                         'refresh_token', 'user'}
    assert body['token_type'] == 'Bearer'
    assert 890 <= body['expires_in'] <= 900
    assert REFRESH_TOKEN.match(body['refresh_token'])
    user = body['user']
    assert set(user) == {'id', 'email', 'name', 'role'}
    assert user['email'] == email.lower()
    assert user['name'] == 'Ada Lovelace' and user['role'] == 'member'
    assert isinstance(user['id'], int) and user['id'] > 0


def test_signup_of_an_existing_email_answers_the_same_and_changes_nothing(
        front, stack):
    email = new_email()
    first = signup(front, email, 'first password 1')
    hash_before = sql(stack, 'SELECT password_hash, name FROM users WHERE '
                      f"email = '{email}'")
    again = signup(front, email, 'second password 2', name='Mallory')

    assert again.status_code == first.status_code == 202
    assert again.json() == first.json() == {'status': 'accepted'}
    assert (again.headers['Content-Type'] ==
            first.headers['Content-Type'])
    assert 'refresh_token' not in again.text
    assert sql(stack, 'SELECT password_hash, name FROM users WHERE '
               f"email = '{email}'") == hash_before
    assert login(front, email, 'second password 2').status_code == 401
    assert login(front, email, 'first password 1').status_code == 200


def test_login_failure_is_identical_for_unknown_email_and_wrong_password(
        front):
    email = member(front)['email']
    wrong = login(front, email, 'not the password')
    unknown = login(front, new_email('nobody'), 'not the password')
    for r in (wrong, unknown):
        assert_problem(r, 401)
        assert r.headers['WWW-Authenticate'] == 'Bearer realm="jamb"'
    assert without_instance(wrong.json()) == without_instance(unknown.json())


def test_login_failure_takes_similar_time_for_unknown_email_and_wrong_password(
        stack):
    url = stack.front_url('caddy')
    email = member(url)['email']
    unknown = new_email('nobody')
    times = {'wrong': [], 'unknown': []}
    for _ in range(5):
        for kind, who in (('wrong', email), ('unknown', unknown)):
            start = time.perf_counter()
            assert login(url, who, 'not the password').status_code == 401
            times[kind].append(time.perf_counter() - start)
    wrong = statistics.median(times['wrong'])
    unknown = statistics.median(times['unknown'])
    assert max(wrong, unknown) / min(wrong, unknown) < 3, times


def test_login_of_a_deleted_account_fails_like_a_wrong_password(front, stack):
    acct = member(front)
    sql(stack, 'UPDATE users SET deleted_at = UTC_TIMESTAMP(6) WHERE id = '
        f"{acct['user']['id']}")
    r = login(front, acct['email'])
    assert_problem(r, 401)
    assert r.json()['detail'] == 'the email address or password is wrong'


def test_login_rehashes_a_password_made_with_other_parameters(stack,
                                                              make_pool):
    email = member(stack.url)['email']
    pool = make_pool(conf={'auth': {'argon2_memory_kib': 2048}})
    before = sql(stack, f"SELECT password_hash FROM users WHERE email = "
                 f"'{email}'")[0][0]
    assert '$m=1024,' in before, before

    assert login(pool.url, email).status_code == 200
    after = sql(stack, f"SELECT password_hash FROM users WHERE email = "
                f"'{email}'")[0][0]
    assert '$m=2048,' in after, after
    assert login(pool.url, email).status_code == 200
    assert login(pool.url, email, 'not the password').status_code == 401


# Request bodies

@pytest.mark.parametrize('body,field', [
    ({'email': 'a@example.com', 'password': PASSWORD, 'role': 'owner'},
     'role'),
    ({'email': 'a@example.com', 'password': PASSWORD, 'Email': 'x'},
     'Email'),
    ({'password': PASSWORD}, 'email'),
    ({'email': 'a@example.com'}, 'password'),
    ({'email': 42, 'password': PASSWORD}, 'email'),
    ({'email': 'a@example.com', 'password': 'nine char'}, 'password'),
    ({'email': 'a@example.com', 'password': 'x' * 1025}, 'password'),
    ({'email': 'a@example.com', 'password': PASSWORD, 'name': 'n' * 201},
     'name'),
    ({'email': 'a@example.com', 'password': PASSWORD, 'name': 5}, 'name'),
    ({'email': 'a@example.com', 'password': PASSWORD, 'name': 'a\nb'},
     'name'),
])
def test_signup_with_a_bad_field_is_422_naming_it(front, body, field):
    r = post(front, SIGNUP, body)
    problem = assert_problem(r, 422)
    assert problem['field'] == field
    assert field in problem['detail']


@pytest.mark.parametrize('email', [
    'plain', '@example.com', 'a@', 'a@b', 'a@@example.com',
    'a@example..com', 'a b@example.com', 'a@.example.com',
    'a@example.com.', '"a"@example.com', 'a@exa mple.com',
    'x' * 65 + '@example.com', 'a@' + 'b' * 250 + '.com', '',
])
def test_signup_with_a_bad_email_is_422(front, email):
    problem = assert_problem(signup(front, email), 422)
    assert problem['field'] == 'email'


def test_a_name_of_200_characters_is_accepted(front):
    name = '\u00e9' * 200
    acct = member(front, name=name)
    assert acct['user']['name'] == name


@pytest.mark.parametrize('path', [SIGNUP, LOGIN, REFRESH, LOGOUT])
def test_a_body_that_is_not_an_object_is_422(front, path):
    assert_problem(post(front, path, ['email', 'password']), 422)


def test_login_with_an_unknown_field_is_422(front):
    r = post(front, LOGIN, {'email': 'a@example.com', 'password': PASSWORD,
                            'remember': True})
    assert assert_problem(r, 422)['field'] == 'remember'


# Access tokens and the JWKS

def test_jwks_is_public_cacheable_and_holds_no_private_parts(front):
    r = get(front + JWKS)
    assert r.status_code == 200, r.text
    assert r.headers['Cache-Control'] == 'public, max-age=300'
    keys = r.json()['keys']
    assert len(keys) >= 1
    for k in keys:
        assert k['kty'] == 'RSA' and k['kid']
        assert not set(k) & {'d', 'p', 'q', 'dp', 'dq', 'qi'}, k


def test_access_token_verifies_with_pyjwt_against_the_jwks(front):
    acct = member(front)
    token = acct['access_token']
    header = jwt.get_unverified_header(token)
    assert header['alg'] == 'RS256'
    keys = {k['kid']: k for k in jwks_keys(front)}
    assert header['kid'] in keys
    key = jwt.PyJWK(keys[header['kid']])

    claims = jwt.decode(token, key.key, algorithms=['RS256'],
                        audience='jamb', issuer='jamb',
                        options={'require': ['exp', 'iat', 'sub', 'jti',
                                             'iss', 'aud']})
    assert claims['sub'] == str(acct['user']['id'])
    assert claims['role'] == 'member'
    assert re.match(r'^[0-9a-f]{32}$', claims['jti'])
    assert claims['exp'] - claims['iat'] == 900
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=['RS256'], audience='other')


def signed(stack, claims, kid):
    """A token signed with the session stack's own signing key."""
    with open(stack.signing_key) as f:
        pem = f.read()
    return jwt.encode(claims, pem, algorithm='RS256', headers={'kid': kid})


def claims_for(user_id, **changes):
    now = int(time.time())
    claims = {'iss': 'jamb', 'aud': 'jamb', 'sub': str(user_id), 'iat': now,
              'exp': now + 300, 'jti': secrets.token_hex(16),
              'role': 'member'}
    claims.update(changes)
    return claims


def test_expired_access_token_is_401_invalid_token(front, stack):
    acct = member(front)
    kid = jwks_keys(front)[0]['kid']
    uid = acct['user']['id']
    # The same key and claims with a current exp are accepted, so the
    # refusal below is about the expiry alone.
    fresh = signed(stack, claims_for(uid), kid)
    assert get(front + ME, headers=bearer(fresh)).status_code == 200

    now = int(time.time())
    expired = signed(stack, claims_for(uid, iat=now - 900, exp=now - 120),
                     kid)
    r = get(front + ME, headers=bearer(expired))
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == INVALID_TOKEN


def test_tampered_access_token_is_401_invalid_token(front):
    acct = member(front)
    head, payload, sig = acct['access_token'].split('.')
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims['role'] = 'owner'
    forged = jwt.utils.base64url_encode(
        json.dumps(claims).encode()).decode()
    # A character in the middle of the signature: the last one carries
    # padding bits that may decode to the same bytes.
    bad_sig = sig[:10] + ('B' if sig[10] == 'A' else 'A') + sig[11:]
    for token in (f'{head}.{forged}.{sig}', f'{head}.{payload}.{bad_sig}'):
        r = get(front + ME, headers=bearer(token))
        assert_problem(r, 401)
        assert r.headers['WWW-Authenticate'] == INVALID_TOKEN


# /v1/me

def test_me_answers_the_callers_account(front):
    acct = member(front, name='Grace')
    r = get(front + ME, headers=bearer(acct['access_token']))
    assert r.status_code == 200, r.text
    assert r.headers['Cache-Control'] == 'private, no-store'
    me = r.json()
    assert set(me) == {'id', 'email', 'name', 'role', 'email_verified',
                       'created_at'}
    assert me['id'] == acct['user']['id']
    assert me['email'] == acct['email'] and me['name'] == 'Grace'
    assert me['role'] == 'member' and me['email_verified'] is False
    assert RFC3339.match(me['created_at'])


def test_me_without_a_token_is_401(front):
    r = get(front + ME)
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == 'Bearer realm="jamb"'


def api_key(stack, role):
    """A key stored the way jamb stores them: only its SHA-256."""
    prefix = 'jamb_' + ''.join(secrets.choice('0123456789abcdefghijklmnopq'
                                              'rstuvwxyz') for _ in range(8))
    key = f'{prefix}_{secrets.token_hex(32)}'
    sql(stack, "INSERT INTO api_keys (name, prefix, key_hash, role) VALUES "
        f"('test {prefix}', '{prefix}', UNHEX('{token_sha(key)}'), "
        f"'{role}')")
    return key


def test_an_api_key_has_no_account(front, stack):
    key = api_key(stack, 'owner')
    for method, path, body in (('GET', ME, None), ('PATCH', ME, {}),
                               ('POST', ME + '/password',
                                {'current_password': PASSWORD,
                                 'new_password': 'another password'})):
        r = request(method, front + path, json=body, headers=bearer(key))
        problem = assert_problem(r, 403)
        assert problem['detail'] == 'API keys have no account'


def test_a_member_is_refused_an_owner_route(front):
    acct = member(front)
    r = get(front + '/v1/admin/api-keys',
            headers=bearer(acct['access_token']))
    assert_problem(r, 403)


def test_patch_me_changes_the_name(front):
    acct = member(front, name='Before')
    auth = bearer(acct['access_token'])
    patch = {**auth, 'Content-Type': 'application/merge-patch+json'}

    r = request('PATCH', front + ME, data=json.dumps({'name': 'After'}),
                headers=patch)
    assert r.status_code == 200, r.text
    assert r.json()['name'] == 'After'
    assert get(front + ME, headers=auth).json()['name'] == 'After'

    r = request('PATCH', front + ME, json={}, headers=auth)
    assert r.status_code == 200 and r.json()['name'] == 'After'
    r = request('PATCH', front + ME, json={'name': None}, headers=auth)
    assert r.status_code == 200 and r.json()['name'] == ''


@pytest.mark.parametrize('body,field', [
    ({'email': 'other@example.com'}, 'email'),
    ({'role': 'owner'}, 'role'),
    ({'name': 'x' * 201}, 'name'),
])
def test_patch_me_with_a_bad_field_is_422(front, body, field):
    acct = member(front)
    r = request('PATCH', front + ME, json=body,
                headers=bearer(acct['access_token']))
    assert assert_problem(r, 422)['field'] == field
    me = get(front + ME, headers=bearer(acct['access_token'])).json()
    assert me['role'] == 'member' and me['email'] == acct['email']


# Refresh tokens

def test_refresh_rotates_and_reuse_revokes_the_sign_in(front, stack):
    acct = member(front)
    other = login(front, acct['email']).json()['refresh_token']
    first = acct['refresh_token']

    r = refresh(front, first)
    assert r.status_code == 200, r.text
    assert r.headers['Cache-Control'] == 'no-store'
    body = r.json()
    second = body['refresh_token']
    assert REFRESH_TOKEN.match(second) and second != first
    assert body['user']['id'] == acct['user']['id']
    assert get(front + ME,
               headers=bearer(body['access_token'])).status_code == 200

    # The replaced token comes back: someone holds a copy, so the whole
    # sign-in ends, the token the client got in exchange included.
    r = refresh(front, first)
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == INVALID_TOKEN
    assert_problem(refresh(front, second), 401)
    rows = sql(stack, 'SELECT COUNT(*), COUNT(revoked_at) FROM '
               'refresh_tokens WHERE family_id = (SELECT family_id FROM '
               f"refresh_tokens WHERE token_hash = UNHEX('{token_sha(first)}'"
               '))')
    assert rows == [['2', '2']]

    # Another sign-in of the same account is not affected.
    assert refresh(front, other).status_code == 200


def test_refresh_stores_only_the_hash(front, stack):
    acct = member(front)
    token = acct['refresh_token']
    rows = sql(stack, 'SELECT user_id, HEX(token_hash) FROM refresh_tokens '
               f"WHERE token_hash = UNHEX('{token_sha(token)}')")
    assert rows == [[str(acct['user']['id']), token_sha(token).upper()]]
    assert sql(stack, 'SELECT COUNT(*) FROM refresh_tokens WHERE '
               f"HEX(token_hash) = '{token.upper()}'") == [['0']]


def test_refresh_takes_the_role_from_the_account(front, stack):
    acct = member(front)
    sql(stack, "UPDATE users SET role = 'editor' WHERE id = "
        f"{acct['user']['id']}")
    r = refresh(front, acct['refresh_token'])
    assert r.status_code == 200, r.text
    assert r.json()['user']['role'] == 'editor'
    claims = jwt.decode(r.json()['access_token'],
                        options={'verify_signature': False})
    assert claims['role'] == 'editor'


@pytest.mark.parametrize('token', ['0' * 64, 'not a token', 'A' * 64,
                                   '0' * 63])
def test_refresh_with_an_unknown_token_is_401(front, token):
    r = refresh(front, token)
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == INVALID_TOKEN


def test_refresh_of_an_expired_token_is_401(front, stack):
    acct = member(front)
    sql(stack, 'UPDATE refresh_tokens SET expires_at = UTC_TIMESTAMP(6) - '
        "INTERVAL 1 SECOND WHERE token_hash = "
        f"UNHEX('{token_sha(acct['refresh_token'])}')")
    assert_problem(refresh(front, acct['refresh_token']), 401)


def test_a_deleted_account_cannot_refresh_or_read_me(front, stack):
    acct = member(front)
    sql(stack, 'UPDATE users SET deleted_at = UTC_TIMESTAMP(6) WHERE id = '
        f"{acct['user']['id']}")
    assert_problem(refresh(front, acct['refresh_token']), 401)
    r = get(front + ME, headers=bearer(acct['access_token']))
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == INVALID_TOKEN


def test_logout_revokes_the_sign_in_and_is_idempotent(front):
    acct = member(front)
    first = acct['refresh_token']
    second = refresh(front, first).json()['refresh_token']

    # Signing out with an older token of the sign-in ends it all.
    r = post(front, LOGOUT, {'refresh_token': first})
    assert r.status_code == 204, r.text
    assert r.content == b''
    assert_problem(refresh(front, second), 401)
    assert post(front, LOGOUT, {'refresh_token': second}).status_code == 204
    assert post(front, LOGOUT,
                {'refresh_token': secrets.token_hex(32)}).status_code == 204
    assert post(front, LOGOUT, {'refresh_token': 'junk'}).status_code == 204
    r = post(front, LOGOUT, {})
    assert assert_problem(r, 422)['field'] == 'refresh_token'


# Password change

def test_password_change_signs_out_everywhere(front):
    acct = member(front)
    other = login(front, acct['email']).json()['refresh_token']
    auth = bearer(acct['access_token'])
    path = front + ME + '/password'

    r = post(front, ME + '/password', {'current_password': 'wrong guess',
                                       'new_password': 'a new password'},
             headers=auth)
    assert_problem(r, 403)
    r = post(front, ME + '/password', {'current_password': PASSWORD,
                                       'new_password': 'short'},
             headers=auth)
    assert assert_problem(r, 422)['field'] == 'new_password'
    assert refresh(front, other).status_code == 200
    other = login(front, acct['email']).json()['refresh_token']

    r = request('POST', path, json={'current_password': PASSWORD,
                                    'new_password': 'a new password'},
                headers=auth)
    assert r.status_code == 204, r.text
    for token in (acct['refresh_token'], other):
        assert_problem(refresh(front, token), 401)
    assert login(front, acct['email']).status_code == 401
    assert login(front, acct['email'], 'a new password').status_code == 200


# Failed sign-in limits

def test_failed_logins_are_limited_per_account_and_per_address(stack,
                                                                make_pool):
    window = 6
    pool = make_pool(conf={
        'auth': {'login_max_failures_per_account': 3,
                 'login_max_failures_per_address': 8,
                 'login_failure_window': window},
        # Counters of their own, apart from every other test's.
        'cache': {'prefix': f'jamb:limits-{secrets.token_hex(4)}:'},
    })
    url = pool.url
    a, b, c, d = (member(url)['email'] for _ in range(4))

    # A success forgives the account's failures: four in all, never
    # three in a row.
    for _ in range(2):
        for _ in range(2):
            assert login(url, d, 'wrong password').status_code == 401
        assert login(url, d).status_code == 200

    # Three failures for a; the fourth attempt is refused even with the
    # right password, with the rest of the window to wait.
    for _ in range(3):
        assert login(url, a, 'wrong password').status_code == 401
    r = login(url, a)
    assert_problem(r, 429)
    retry = int(r.headers['Retry-After'])
    assert 1 <= retry <= window
    assert_problem(login(url, a), 429)

    # Eight failures from this address (four for d, three for a, one
    # for b) block everyone here, c included, whose password is right.
    assert login(url, b, 'wrong password').status_code == 401
    r = login(url, c)
    assert_problem(r, 429)
    assert 1 <= int(r.headers['Retry-After']) <= window

    # Unknown accounts count as real ones do.
    unknown = new_email('nobody')
    assert_problem(login(url, unknown, 'wrong password'), 429)

    deadline = time.monotonic() + window + 5
    while login(url, a).status_code == 429:
        assert time.monotonic() < deadline, 'still refused after the window'
        time.sleep(0.5)
    assert login(url, c).status_code == 200


def test_wrong_current_passwords_count_as_failed_logins(make_pool):
    pool = make_pool(conf={
        'auth': {'login_max_failures_per_account': 2},
        'cache': {'prefix': f'jamb:pw-{secrets.token_hex(4)}:'},
    })
    acct = member(pool.url)
    auth = bearer(acct['access_token'])
    body = {'current_password': 'wrong guess',
            'new_password': 'a new password'}
    for _ in range(2):
        assert_problem(post(pool.url, ME + '/password', body, auth), 403)
    r = post(pool.url, ME + '/password',
             {**body, 'current_password': PASSWORD}, auth)
    assert_problem(r, 429)
    assert 'Retry-After' in r.headers
    assert_problem(login(pool.url, acct['email']), 429)


def test_login_works_without_memcached_and_says_so_once(stack, make_pool):
    email = member(stack.url)['email']
    # Nothing listens on a fresh free port: memcached is down for this
    # pool alone.
    pool = make_pool(conf={
        'server': {'workers': 1},
        'cache': {'servers': f'127.0.0.1:{stackmod.free_port()}'},
    })
    for _ in range(3):
        assert login(pool.url, email).status_code == 200
    assert login(pool.url, email, 'wrong password').status_code == 401
    with open(pool.log) as f:
        warnings = [line for line in f
                    if 'failure counters are unavailable' in line]
    assert len(warnings) == 1, warnings
