"""Preview links for posts that are not public yet: who may mint one
(POST /v1/admin/posts/{id}/preview), what GET /v1/preview?token= shows
and with which headers, and that a preview token and an access token
never pass for each other."""

import base64
import json
import secrets
import time
from datetime import datetime, timedelta, timezone

import pytest

from support import assert_problem, output, request, run_jamb

ADMIN = '/v1/admin/posts'
PASSWORD = 'correct horse battery'


def sql(stack, query):
    out = stack.mysql(query, database=stack.config()['db']['name'])
    return [[None if v == 'NULL' else v for v in line.split('\t')]
            for line in out.splitlines()]


def api_key(stack, role):
    proc = run_jamb(stack, ['key', 'create', '-c', stack.conf_path,
                            '--role', role, f'{role} {secrets.token_hex(4)}'])
    assert proc.returncode == 0, output(proc)
    return {'Authorization': f'Bearer {proc.stdout.decode().strip()}'}


def user(stack, role):
    """A signed-in account with ROLE: its id and Authorization header."""
    url = stack.url
    email = f'previewer-{secrets.token_hex(6)}@example.com'
    r = request('POST', url + '/v1/auth/signup',
                json={'email': email, 'password': PASSWORD,
                      'name': f'Previewer {role}'})
    assert r.status_code == 202, r.text
    r = request('POST', url + '/v1/auth/login',
                json={'email': email, 'password': PASSWORD})
    assert r.status_code == 200, r.text
    uid = r.json()['user']['id']
    sql(stack, f"UPDATE users SET role = '{role}' WHERE id = {uid}")
    # The role is in the access token: sign in again to carry the new one.
    r = request('POST', url + '/v1/auth/login',
                json={'email': email, 'password': PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()['user']['role'] == role
    return uid, {'Authorization': f'Bearer {r.json()["access_token"]}'}


@pytest.fixture(scope='module')
def who(stack):
    author_id, author = user(stack, 'author')
    _, other = user(stack, 'author')
    _, member = user(stack, 'member')
    return {'author': author, 'author_id': author_id, 'other': other,
            'member': member, 'editor': api_key(stack, 'editor')}


def created(url, headers, **body):
    body.setdefault('title', f'Draft {secrets.token_hex(4)}')
    body.setdefault('body', 'Secret *draft* text.')
    r = request('POST', url + ADMIN, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def mint(url, headers, id):
    return request('POST', f'{url}{ADMIN}/{id}/preview', headers=headers)


def minted(url, headers, id):
    r = mint(url, headers, id)
    assert r.status_code == 201, r.text
    return r.json()


def preview(url, token, headers=None):
    return request('GET', url + '/v1/preview', params={'token': token},
                   headers=headers)


def rfc3339(s):
    assert s.endswith('Z'), s
    return datetime.strptime(s, '%Y-%m-%dT%H:%M:%SZ').replace(
        tzinfo=timezone.utc)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def assert_refused(r):
    body = assert_problem(r, 401)
    assert 'invalid or has expired' in body['detail']
    assert r.headers['Cache-Control'] == 'private, no-store'


# Minting

def test_editor_mints_an_audited_link_valid_for_preview_ttl(stack, front,
                                                              who):
    post = created(front, who['editor'])
    before = datetime.now(timezone.utc).replace(microsecond=0)
    r = mint(front, who['editor'], post['id'])
    assert r.status_code == 201, r.text
    doc = r.json()
    assert set(doc) == {'token', 'expires_at'}
    left = rfc3339(doc['expires_at']) - before
    assert timedelta(seconds=3599) <= left <= timedelta(seconds=3605)
    assert r.headers['Cache-Control'] == 'private, no-store'

    claims = json.loads(unb64(doc['token'].split('.')[1]))
    assert claims['sub'] == f'post:{post["id"]}'
    assert claims['version'] == post['version']
    assert len(claims['jti']) == 32 and 'role' not in claims

    rows = sql(stack, 'SELECT details FROM audit_log WHERE action = '
               f"'post.preview' AND object_type = 'post' AND object_id = "
               f'{post["id"]}')
    assert len(rows) == 1
    assert json.loads(rows[0][0])['jti'] == claims['jti']


def test_author_mints_a_link_for_their_own_post(stack, who):
    post = created(stack.url, who['author'])
    doc = minted(stack.url, who['author'], post['id'])
    assert preview(stack.url, doc['token']).status_code == 200


def test_author_cannot_mint_a_link_for_another_authors_post(stack, who):
    post = created(stack.url, who['other'])
    body = assert_problem(mint(stack.url, who['author'], post['id']), 403)
    assert 'author' in body['detail']


def test_members_and_anonymous_callers_cannot_mint_links(stack, who):
    post = created(stack.url, who['author'])
    assert_problem(mint(stack.url, {}, post['id']), 401)
    assert_problem(mint(stack.url, who['member'], post['id']), 403)


def test_unknown_and_deleted_posts_have_no_preview_link(stack, who):
    post = created(stack.url, who['editor'])
    r = request('DELETE', f'{stack.url}{ADMIN}/{post["id"]}',
                headers=who['editor'])
    assert r.status_code == 204, r.text
    assert_problem(mint(stack.url, who['editor'], post['id']), 404)
    assert_problem(mint(stack.url, who['editor'], 999999999), 404)
    assert_problem(mint(stack.url, who['editor'], 'abc'), 404)


# Reading

def test_preview_shows_a_draft_the_public_route_hides(front, who):
    post = created(front, who['author'], body='Only *editors* see this.',
                   visibility='paid', tags=['preview-news'])
    assert_problem(request('GET', f'{front}/v1/posts/{post["slug"]}'), 404)
    token = minted(front, who['author'], post['id'])['token']

    r = preview(front, token)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc['preview'] is True and doc['access'] is True
    assert doc['id'] == post['id'] and doc['status'] == 'draft'
    assert '<em>editors</em>' in doc['body_html']
    assert doc['tags'] == [{'slug': 'preview-news', 'name': 'preview-news'}]
    assert [a['name'] for a in doc['authors']] == ['Previewer author']
    assert r.headers['Cache-Control'] == 'private, no-store'
    assert r.headers['X-Robots-Tag'] == 'noindex'
    assert r.headers['Referrer-Policy'] == 'no-referrer'


def test_preview_shows_every_status_until_the_post_is_deleted(stack, who):
    url, editor = stack.url, who['editor']
    post = created(url, editor)
    token = minted(url, editor, post['id'])['token']
    for step, status in (('submit', 'review'), ('publish', 'published'),
                         ('archive', 'archived')):
        r = request('POST', f'{url}{ADMIN}/{post["id"]}/{step}',
                    headers=editor)
        assert r.status_code == 200, r.text
        r = preview(url, token)
        assert r.status_code == 200, r.text
        assert r.json()['status'] == status

    r = request('DELETE', f'{url}{ADMIN}/{post["id"]}', headers=editor)
    assert r.status_code == 204, r.text
    body = assert_problem(preview(url, token), 404)
    assert body['detail'] == 'the previewed post no longer exists'


def test_preview_shows_the_text_saved_after_the_link_was_made(stack, who):
    url = stack.url
    post = created(url, who['author'], body='First words.')
    token = minted(url, who['author'], post['id'])['token']
    r = request('PATCH', f'{url}{ADMIN}/{post["id"]}',
                json={'body': 'Second *words*.', 'version': post['version']},
                headers=who['author'])
    assert r.status_code == 200, r.text

    doc = preview(url, token).json()
    assert '<em>words</em>' in doc['body_html']
    assert 'First' not in doc['body_html']
    assert doc['version'] == post['version'] + 1


def test_preview_needs_no_account_and_ignores_the_callers(stack, who):
    post = created(stack.url, who['author'])
    token = minted(stack.url, who['author'], post['id'])['token']
    # A member who could not read the draft in the admin routes still
    # sees it through the link: the token alone decides.
    r = preview(stack.url, token, headers=who['member'])
    assert r.status_code == 200, r.text
    assert r.json()['id'] == post['id']


# Refusals

def test_missing_tampered_and_forged_tokens_are_refused(stack, who):
    url = stack.url
    mine = created(url, who['editor'])
    theirs = created(url, who['editor'])
    token = minted(url, who['editor'], mine['id'])['token']
    head, payload, sig = token.split('.')

    claims = json.loads(unb64(payload))
    claims['sub'] = f'post:{theirs["id"]}'
    retargeted = f'{head}.{b64(json.dumps(claims).encode())}.{sig}'
    # A character in the middle: the last one may carry only padding.
    swap = 'A' if sig[10] != 'A' else 'B'
    flipped = f'{head}.{payload}.{sig[:10]}{swap}{sig[11:]}'
    unsigned = (b64(b'{"alg":"none","typ":"preview+jwt"}') +
                f'.{payload}.')

    for bad in (retargeted, flipped, unsigned, 'not-a-token', ''):
        assert_refused(preview(url, bad))
    assert_refused(request('GET', url + '/v1/preview'))
    assert preview(url, token).status_code == 200


def test_access_tokens_and_api_keys_are_not_preview_tokens(stack, who):
    access = who['author']['Authorization'].split(' ', 1)[1]
    key = who['editor']['Authorization'].split(' ', 1)[1]
    assert request('GET', stack.url + '/v1/me',
                   headers=who['author']).status_code == 200
    assert_refused(preview(stack.url, access))
    assert_refused(preview(stack.url, key))


def test_preview_tokens_are_not_access_tokens(front, who):
    post = created(front, who['author'])
    token = minted(front, who['author'], post['id'])['token']
    bearer = {'Authorization': f'Bearer {token}'}
    assert_problem(request('GET', front + '/v1/me', headers=bearer), 401)
    assert_problem(request('GET', f'{front}{ADMIN}/{post["id"]}',
                           headers=bearer), 401)


def test_link_expires_after_preview_ttl(stack, make_pool, who):
    pool = make_pool(conf={'content': {'preview_ttl': 1},
                           'auth': {'leeway': 0}})
    post = created(pool.url, who['editor'])
    before = datetime.now(timezone.utc).replace(microsecond=0)
    doc = minted(pool.url, who['editor'], post['id'])
    assert rfc3339(doc['expires_at']) - before <= timedelta(seconds=2)
    # The shared stack signs with the same key and allows 60 s of clock
    # skew: there the token is still good, so only its age refuses it.
    time.sleep(2.5)
    assert preview(stack.url, doc['token']).status_code == 200
    assert_refused(preview(pool.url, doc['token']))
