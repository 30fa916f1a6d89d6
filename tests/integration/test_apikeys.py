"""API keys: `jamb key create | list | revoke`, the owner-only admin
routes under /v1/admin/api-keys, and how a key is refused: 401 without
a credential, with a malformed header, or with an unknown, altered or
revoked key (one detail for all three), and 403 for a role below owner.
Through both fronts, since Apache passes Authorization on to FastCGI
only when told to.  The database is checked directly: only the SHA-256
of a key is stored, and every change leaves an audit row."""

import hashlib
import re
import secrets

import pytest

from support import assert_problem, output, request, run_jamb

KEY = re.compile(r'^(jamb_[0-9a-z]{8})_([0-9a-f]{64})$')
ADMIN = '/v1/admin/api-keys'
ROLES = ('owner', 'admin', 'editor', 'author', 'member')
CREATE_FIELDS = {'id', 'name', 'prefix', 'role', 'created_at', 'key'}
LIST_FIELDS = {'id', 'name', 'prefix', 'role', 'created_at', 'last_used_at',
               'revoked_at', 'created_by'}


def cli(stack, *args):
    return run_jamb(stack, ['key', *args, '-c', stack.conf_path])


def cli_create(stack, role, name=None):
    """A key made by `jamb key create`; returns the key."""
    name = name or f'{role} key {secrets.token_hex(4)}'
    proc = cli(stack, 'create', '--role', role, name)
    assert proc.returncode == 0, output(proc)
    return proc.stdout.decode().strip()


def bearer(key):
    return {'Authorization': f'Bearer {key}'}


def sql(stack, query):
    """Rows of QUERY in jamb's database, as lists of strings (NULL as
    None)."""
    out = stack.mysql(query, database=stack.config()['db']['name'])
    return [[None if v == 'NULL' else v for v in line.split('\t')]
            for line in out.splitlines()]


def key_row(stack, key):
    """The api_keys row of KEY, found by its prefix, as a dict."""
    rows = sql(stack, 'SELECT id, name, role, created_by, last_used_at, '
               f"revoked_at FROM api_keys WHERE prefix = '{key[:13]}'")
    assert len(rows) == 1, rows
    return dict(zip(('id', 'name', 'role', 'created_by', 'last_used_at',
                     'revoked_at'), rows[0]))


def audit_rows(stack, action, object_id):
    rows = sql(stack, 'SELECT actor_user_id, actor_api_key_id, '
               'object_type, request_id, ip, details FROM audit_log '
               f"WHERE action = '{action}' AND object_id = {object_id} "
               'ORDER BY id')
    return [dict(zip(('actor_user_id', 'actor_api_key_id', 'object_type',
                      'request_id', 'ip', 'details'), r)) for r in rows]


def all_items(front, key):
    """Every key of the list, following next_cursor."""
    items, url = [], f'{front}{ADMIN}?limit=200'
    while True:
        r = request('GET', url, headers=bearer(key))
        assert r.status_code == 200, r.text
        body = r.json()
        items += body['items']
        if body['next_cursor'] is None:
            return items
        url = f'{front}{ADMIN}?limit=200&cursor={body["next_cursor"]}'


def create(front, key, body, headers=None):
    return request('POST', front + ADMIN, json=body,
                   headers={**bearer(key), **(headers or {})})


@pytest.fixture(scope='module')
def owner(stack):
    """An owner key made on the command line, as a site's first key is."""
    return cli_create(stack, 'owner', 'owner key for the test module')


# The command line

def test_cli_create_prints_only_the_key_on_stdout(stack):
    proc = cli(stack, 'create', '--role', 'editor', 'deploy script')
    assert proc.returncode == 0, output(proc)
    out = proc.stdout.decode()
    assert out.count('\n') == 1 and out.endswith('\n'), out
    m = KEY.match(out.strip())
    assert m, f'not a key: {out!r}'
    err = proc.stderr.decode()
    assert 'only this once' in err
    assert m.group(1) in err and m.group(2) not in err
    row = key_row(stack, out.strip())
    assert row['name'] == 'deploy script' and row['role'] == 'editor'
    assert row['created_by'] is None


def test_cli_create_accepts_role_with_equals_sign(stack):
    proc = cli(stack, 'create', '--role=author', 'blog importer')
    assert proc.returncode == 0, output(proc)
    assert key_row(stack, proc.stdout.decode().strip())['role'] == 'author'


@pytest.mark.parametrize('args', [
    ['create', 'no role given'],
    ['create', '--role', 'owner'],
    ['create', '--role', 'superuser', 'unknown role'],
    ['create', '--role', 'none', 'the anonymous role'],
    ['create', '--role', 'owner', ''],
    ['create', '--role', 'owner', 'x' * 201],
    ['create', '--role', 'owner', 'line\nbreak'],
    ['create', '--role', 'owner', 'two', 'names'],
    ['create', '--role', 'owner', '--color', 'red', 'unknown option'],
    ['list', 'extra'],
    ['revoke'],
    ['revoke', 'not-a-key'],
    ['revoke', '1', '2'],
    ['rotate', '1'],
    [],
], ids=lambda a: ' '.join(a)[:40] or 'nothing')
def test_cli_usage_errors_exit_2_without_creating_anything(stack, args):
    before = sql(stack, 'SELECT COUNT(*) FROM api_keys')[0][0]
    proc = cli(stack, *args)
    assert proc.returncode == 2, output(proc)
    assert proc.stdout == b'', output(proc)
    assert 'usage' in output(proc) or 'jamb key create:' in output(proc)
    assert sql(stack, 'SELECT COUNT(*) FROM api_keys')[0][0] == before


def test_cli_create_takes_a_name_of_200_multibyte_characters(stack):
    key = cli_create(stack, 'member', '\u00e9' * 200)
    assert key_row(stack, key)['name'] == '\u00e9' * 200


def test_cli_list_shows_keys_newest_first_without_key_material(stack):
    first = cli_create(stack, 'author', 'listed first')
    second = cli_create(stack, 'member', 'listed second')
    proc = cli(stack, 'list')
    assert proc.returncode == 0, output(proc)
    lines = proc.stdout.decode().splitlines()
    assert lines[0].split('\t') == ['id', 'prefix', 'name', 'role',
                                    'created', 'last_used', 'revoked']
    rows = {line.split('\t')[1]: line.split('\t') for line in lines[1:]}
    assert rows[first[:13]][2:4] == ['listed first', 'author']
    assert rows[second[:13]][2:4] == ['listed second', 'member']
    assert rows[second[:13]][5:] == ['-', '-']
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$',
                    rows[second[:13]][4])
    ids = [int(line.split('\t')[0]) for line in lines[1:]]
    assert ids == sorted(ids, reverse=True)
    text = proc.stdout.decode()
    for key in (first, second):
        secret = key[14:]
        assert secret not in text
        assert hashlib.sha256(key.encode()).hexdigest() not in text.lower()


def test_cli_revoke_by_prefix_id_and_whole_key(stack, front):
    for how in ('prefix', 'id', 'key'):
        key = cli_create(stack, 'owner')
        assert request('GET', front + ADMIN,
                       headers=bearer(key)).status_code == 200
        row = key_row(stack, key)
        arg = {'prefix': key[:13], 'id': row['id'], 'key': key}[how]
        proc = cli(stack, 'revoke', arg)
        assert proc.returncode == 0, output(proc)
        assert 'revoked' in proc.stdout.decode()
        assert key_row(stack, key)['revoked_at'] is not None
        r = request('GET', front + ADMIN, headers=bearer(key))
        assert_problem(r, 401)
        assert 'error="invalid_token"' in r.headers['WWW-Authenticate']

        # Revoking again changes nothing and is no failure.
        again = cli(stack, 'revoke', arg)
        assert again.returncode == 0, output(again)
        assert 'already revoked' in again.stdout.decode()
        assert len(audit_rows(stack, 'api_key.revoke', row['id'])) == 1


def test_cli_revoke_of_an_unknown_key_fails(stack):
    for arg in ('999999999', 'jamb_zzzzzzzz'):
        proc = cli(stack, 'revoke', arg)
        assert proc.returncode == 1, output(proc)
        assert f'no API key {arg}' in proc.stderr.decode()


def test_cli_changes_are_audited_without_an_actor(stack):
    key = cli_create(stack, 'editor', 'audited on the command line')
    row = key_row(stack, key)
    assert cli(stack, 'revoke', key[:13]).returncode == 0
    for action in ('api_key.create', 'api_key.revoke'):
        rows = audit_rows(stack, action, row['id'])
        assert len(rows) == 1, rows
        assert rows[0]['object_type'] == 'api_key'
        assert rows[0]['actor_user_id'] is None
        assert rows[0]['actor_api_key_id'] is None
        assert '"source":"cli"' in rows[0]['details'].replace(' ', '')


# Only the hash is stored

def test_stored_row_holds_only_the_sha256_of_the_key(stack):
    key = cli_create(stack, 'member', 'hash check')
    rows = sql(stack, 'SELECT id, prefix, HEX(key_hash) FROM api_keys '
               f"WHERE key_hash = UNHEX(SHA2('{key}', 256))")
    assert len(rows) == 1, rows
    assert rows[0][1] == key[:13]
    assert rows[0][2].lower() == hashlib.sha256(key.encode()).hexdigest()

    # No column of the row holds the key or its secret part.
    cols = sql(stack, 'SELECT COLUMN_NAME FROM information_schema.COLUMNS '
               "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = "
               "'api_keys'")
    exprs = ', '.join(f'COALESCE(HEX(`{c[0]}`), \'\')' for c in cols)
    dump = sql(stack, f'SELECT CONCAT_WS(\'|\', {exprs}) FROM api_keys '
               f'WHERE id = {rows[0][0]}')[0][0].lower()
    for part in (key, key[14:]):
        assert part.encode().hex() not in dump


# Refusals

def test_owner_key_from_cli_authenticates_through_both_fronts(stack, front,
                                                             owner):
    """A 200 here (and a 401 without the header) shows that the front
    hands Authorization on to jamb: Apache needs CGIPassAuth for that."""
    r = request('GET', front + ADMIN, headers=bearer(owner))
    assert r.status_code == 200, r.text
    assert r.headers['Content-Type'].startswith('application/json')
    prefixes = [i['prefix'] for i in all_items(front, owner)]
    assert owner[:13] in prefixes
    assert request('GET', front + ADMIN).status_code == 401


@pytest.mark.parametrize('role', ['admin', 'editor', 'author', 'member'])
def test_keys_below_owner_get_403_on_owner_routes(stack, front, owner, role):
    key = cli_create(stack, role)
    target = key_row(stack, owner)['id']
    for method, path, body in (('GET', ADMIN, None),
                               ('POST', ADMIN, {'name': 'x',
                                                'role': 'member'}),
                               ('DELETE', f'{ADMIN}/{target}', None)):
        r = request(method, front + path, headers=bearer(key), json=body)
        problem = assert_problem(r, 403)
        assert 'owner' in problem['detail']
    assert key_row(stack, owner)['revoked_at'] is None


@pytest.mark.parametrize('method', ['GET', 'POST', 'DELETE'])
def test_no_credential_is_401_with_a_bare_challenge(stack, front, method):
    path = ADMIN if method != 'DELETE' else f'{ADMIN}/1'
    r = request(method, front + path, json={} if method == 'POST' else None)
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == 'Bearer realm="jamb"'


@pytest.mark.parametrize('header', ['Basic x', 'Bearer', 'Bearer a b',
                                    'Token jamb_abc'])
def test_malformed_authorization_is_invalid_request(stack, front, header):
    r = request('GET', front + ADMIN, headers={'Authorization': header})
    assert_problem(r, 401)
    challenge = r.headers['WWW-Authenticate']
    assert challenge.startswith('Bearer realm="jamb"')
    assert 'error="invalid_request"' in challenge


def test_unknown_altered_and_revoked_keys_get_one_answer(stack, front,
                                                        owner):
    unknown = (f'jamb_{secrets.token_hex(4)}_{secrets.token_hex(32)}')
    good = cli_create(stack, 'owner')
    last = good[-1]
    altered = good[:-1] + ('0' if last != '0' else '1')
    revoked = cli_create(stack, 'owner')
    assert cli(stack, 'revoke', revoked[:13]).returncode == 0
    assert KEY.match(unknown) and KEY.match(altered)

    details = set()
    for key in (unknown, altered, revoked):
        r = request('GET', front + ADMIN, headers=bearer(key))
        problem = assert_problem(r, 401)
        assert 'error="invalid_token"' in r.headers['WWW-Authenticate']
        details.add(problem['detail'])
    assert len(details) == 1, details
    # The altered key's original still works: only the change was refused.
    assert request('GET', front + ADMIN,
                   headers=bearer(good)).status_code == 200


def test_last_used_at_is_set_when_a_key_is_used(stack, front, owner):
    key = cli_create(stack, 'member', 'used once')
    assert key_row(stack, key)['last_used_at'] is None
    # Open routes still verify a credential that is presented.
    assert request('GET', front + '/v1/health',
                   headers=bearer(key)).status_code == 200
    assert key_row(stack, key)['last_used_at'] is not None
    item = next(i for i in all_items(front, owner)
                if i['prefix'] == key[:13])
    assert item['last_used_at'] is not None


# The admin routes

def test_route_creates_a_key_shown_once(stack, front, owner):
    name = f'ci deploy {secrets.token_hex(3)}'
    r = create(front, owner, {'name': name, 'role': 'editor'})
    assert r.status_code == 201, r.text
    assert r.headers['Cache-Control'] == 'no-store'
    body = r.json()
    assert set(body) == CREATE_FIELDS
    assert body['name'] == name and body['role'] == 'editor'
    m = KEY.match(body['key'])
    assert m and m.group(1) == body['prefix']
    assert re.match(r'^\d{4}-\d\d-\d\dT', body['created_at'])

    # The new key works, with its own role.
    r = request('GET', front + ADMIN, headers=bearer(body['key']))
    assert_problem(r, 403)
    assert key_row(stack, body['key'])['last_used_at'] is not None

    # A key-authenticated owner is no user: created_by stays NULL.
    item = next(i for i in all_items(front, owner) if i['id'] == body['id'])
    assert item['created_by'] is None
    assert 'key' not in item


@pytest.mark.parametrize('role', ROLES)
def test_owner_may_create_keys_of_every_role(stack, owner, role):
    r = create(stack.url, owner, {'name': f'{role} by route',
                                  'role': role})
    assert r.status_code == 201, r.text
    assert key_row(stack, r.json()['key'])['role'] == role


def test_list_items_carry_no_key_material(stack, front, owner):
    made = create(front, owner, {'name': 'secret check',
                                 'role': 'author'}).json()
    cli_key = cli_create(stack, 'author', 'secret check cli')
    r = request('GET', f'{front}{ADMIN}?limit=200', headers=bearer(owner))
    assert r.status_code == 200
    for key in (made['key'], cli_key, owner):
        assert key[14:] not in r.text
        assert hashlib.sha256(key.encode()).hexdigest() not in r.text
    for item in all_items(front, owner):
        assert set(item) == LIST_FIELDS, item


def test_list_is_newest_first_in_pages(stack, owner):
    ids = [create(stack.url, owner, {'name': f'page {i}',
                                     'role': 'member'}).json()['id']
           for i in range(3)]
    r = request('GET', f'{stack.url}{ADMIN}?limit=2', headers=bearer(owner))
    page = r.json()
    assert [i['id'] for i in page['items']] == [ids[2], ids[1]]
    assert page['next_cursor'] == str(ids[1])
    r = request('GET', f'{stack.url}{ADMIN}?limit=2&cursor='
                f'{page["next_cursor"]}', headers=bearer(owner))
    assert r.json()['items'][0]['id'] == ids[0]

    every = [i['id'] for i in all_items(stack.url, owner)]
    assert every == sorted(every, reverse=True)
    assert len(every) == len(set(every))


@pytest.mark.parametrize('query', ['limit=0', 'limit=201', 'limit=x',
                                   'limit=-1', 'cursor=abc', 'cursor=0'])
def test_list_refuses_bad_paging_parameters(stack, owner, query):
    r = request('GET', f'{stack.url}{ADMIN}?{query}', headers=bearer(owner))
    assert_problem(r, 400)


def test_route_revokes_once_and_audits_the_change(stack, front, owner):
    made = create(front, owner, {'name': 'to revoke',
                                 'role': 'editor'}).json()
    url = f'{front}{ADMIN}/{made["id"]}'
    rid = f'apikeys-{secrets.token_hex(8)}'
    r = request('DELETE', url, headers={**bearer(owner),
                                        'X-Request-Id': rid})
    assert r.status_code == 204, r.text
    assert r.content == b''
    r = request('GET', front + ADMIN, headers=bearer(made['key']))
    assert_problem(r, 401)
    assert 'error="invalid_token"' in r.headers['WWW-Authenticate']

    # Idempotent: a second DELETE answers the same and changes nothing.
    revoked_at = key_row(stack, made['key'])['revoked_at']
    assert request('DELETE', url, headers=bearer(owner)).status_code == 204
    assert key_row(stack, made['key'])['revoked_at'] == revoked_at
    item = next(i for i in all_items(front, owner) if i['id'] == made['id'])
    assert item['revoked_at'] is not None

    rows = audit_rows(stack, 'api_key.revoke', made['id'])
    assert len(rows) == 1, rows
    owner_id = key_row(stack, owner)['id']
    assert rows[0]['actor_api_key_id'] == owner_id
    assert rows[0]['actor_user_id'] is None
    assert rows[0]['object_type'] == 'api_key'
    assert rows[0]['request_id'] == rid
    assert rows[0]['ip'] == '127.0.0.1'


@pytest.mark.parametrize('path', ['999999999', '0', 'abc', '-1',
                                  '99999999999999999999'])
def test_revoking_an_unknown_id_is_404(stack, front, owner, path):
    r = request('DELETE', f'{front}{ADMIN}/{path}', headers=bearer(owner))
    assert_problem(r, 404)


def test_route_creation_is_audited_with_the_request(stack, front, owner):
    rid = f'apikeys-{secrets.token_hex(8)}'
    r = create(front, owner, {'name': 'audited', 'role': 'admin'},
               headers={'X-Request-Id': rid})
    assert r.status_code == 201, r.text
    rows = audit_rows(stack, 'api_key.create', r.json()['id'])
    assert len(rows) == 1, rows
    assert rows[0]['actor_api_key_id'] == key_row(stack, owner)['id']
    assert rows[0]['actor_user_id'] is None
    assert rows[0]['object_type'] == 'api_key'
    assert rows[0]['request_id'] == rid
    assert rows[0]['ip'] == '127.0.0.1'
    assert r.json()['key'] not in (rows[0]['details'] or '')


@pytest.mark.parametrize('body, field', [
    ({'name': 'x', 'role': 'member', 'color': 'red'}, 'color'),
    ({'name': 'x', 'role': 'member', 'key': 'jamb_chosen'}, 'key'),
    ({'role': 'member'}, 'name'),
    ({'name': '', 'role': 'member'}, 'name'),
    ({'name': 'x' * 201, 'role': 'member'}, 'name'),
    ({'name': '\u00e9' * 201, 'role': 'member'}, 'name'),
    ({'name': 'tab\there', 'role': 'member'}, 'name'),
    ({'name': 42, 'role': 'member'}, 'name'),
    ({'name': None, 'role': 'member'}, 'name'),
    ({'name': 'x'}, 'role'),
    ({'name': 'x', 'role': 'superuser'}, 'role'),
    ({'name': 'x', 'role': 'none'}, 'role'),
    ({'name': 'x', 'role': 'Owner'}, 'role'),
    ({'name': 'x', 'role': ['owner']}, 'role'),
    (['name', 'role'], None),
    ('owner', None),
], ids=lambda v: None if isinstance(v, (str, type(None))) else repr(v)[:40])
def test_invalid_create_bodies_are_422_naming_the_field(stack, owner, body,
                                                        field):
    before = sql(stack, 'SELECT COUNT(*) FROM api_keys')[0][0]
    r = create(stack.url, owner, body)
    problem = assert_problem(r, 422)
    if field is not None:
        assert problem['field'] == field
        assert field in problem['detail']
    assert sql(stack, 'SELECT COUNT(*) FROM api_keys')[0][0] == before


def test_route_accepts_a_name_of_200_multibyte_characters(stack, owner):
    r = create(stack.url, owner, {'name': '\U0001f511' * 200,
                                  'role': 'member'})
    assert r.status_code == 201, r.text
    assert r.json()['name'] == '\U0001f511' * 200


def test_create_needs_a_json_body(stack, owner):
    r = request('POST', stack.url + ADMIN, data='name=x&role=owner',
                headers={**bearer(owner), 'Content-Type':
                         'application/x-www-form-urlencoded'})
    assert_problem(r, 415)
    r = request('POST', stack.url + ADMIN, data='{"name": "x",',
                headers={**bearer(owner), 'Content-Type':
                         'application/json'})
    assert_problem(r, 400)


def test_a_key_that_cannot_be_looked_up_is_a_500_not_a_401(stack, owner):
    """Regression: a database error while checking a key was answered as
    an invalid key (401), sending the key's owner after the wrong
    problem.  The table is hidden for one request to cause the error."""
    stack.mysql('RENAME TABLE api_keys TO api_keys_hidden',
                database=stack.config()['db']['name'])
    try:
        r = request('GET', stack.url + ADMIN, headers=bearer(owner))
    finally:
        stack.mysql('RENAME TABLE api_keys_hidden TO api_keys',
                    database=stack.config()['db']['name'])
    assert_problem(r, 500)
    assert 'WWW-Authenticate' not in r.headers
    for _ in range(6):
        r = request('GET', stack.url + ADMIN, headers=bearer(owner))
        assert r.status_code == 200, r.text
