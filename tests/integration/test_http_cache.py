"""HTTP caching for CDNs: strong ETags from the body, If-None-Match
answered with 304 through both fronts, Cache-Control by kind of answer
(public with the configured times for anonymous readers of public routes,
private for signed-in callers, no-store for errors), Vary on
Authorization, and the Cache-Tag / Surrogate-Key purge tags."""

import re
import secrets

import pytest

from support import output, request, run_jamb

ADMIN = '/v1/admin/posts'
PASSWORD = 'correct horse battery'
ETAG = re.compile(r'^"[0-9a-f]{32}"$')
DEFAULT_PUBLIC = 'public, max-age=60, s-maxage=300, stale-while-revalidate=60'


def editor_key(stack):
    proc = run_jamb(stack, ['key', 'create', '-c', stack.conf_path,
                            '--role', 'editor',
                            f'cache editor {secrets.token_hex(4)}'])
    assert proc.returncode == 0, output(proc)
    return {'Authorization': f'Bearer {proc.stdout.decode().strip()}'}


def published(url, key, tag):
    r = request('POST', url + ADMIN, headers=key,
                json={'title': f'Cached {secrets.token_hex(4)}',
                      'body': 'Some *text*.', 'tags': [tag]})
    assert r.status_code == 201, r.text
    r = request('POST', f'{url}{ADMIN}/{r.json()["id"]}/publish',
                headers=key)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope='module')
def site(stack):
    """Two published posts under a tag of their own, and the key that
    wrote them."""
    key = editor_key(stack)
    tag = f'cache-{secrets.token_hex(3)}'
    posts = [published(stack.url, key, tag) for _ in range(2)]
    return {'key': key, 'tag': tag, 'posts': posts}


def member(url):
    """The Authorization header of a newly signed-up, signed-in member."""
    email = f'reader-{secrets.token_hex(6)}@example.com'
    r = request('POST', url + '/v1/auth/signup',
                json={'email': email, 'password': PASSWORD})
    assert r.status_code == 202, r.text
    r = request('POST', url + '/v1/auth/login',
                json={'email': email, 'password': PASSWORD})
    assert r.status_code == 200, r.text
    return {'Authorization': f'Bearer {r.json()["access_token"]}'}


def get(url, path, headers=None):
    return request('GET', url + path, headers=headers)


def names(value, sep):
    return sorted(value.split(sep)) if value is not None else None


def one_post(site):
    return f'/v1/posts/{site["posts"][0]["slug"]}'


# ETags and If-None-Match

def test_public_answer_has_a_strong_etag_stable_across_requests(front, site):
    a = get(front, one_post(site))
    b = get(front, one_post(site))
    assert a.status_code == 200, a.text
    assert ETAG.match(a.headers['ETag']), a.headers['ETag']
    assert b.headers['ETag'] == a.headers['ETag']


@pytest.mark.parametrize('form', ['exact', 'weak', 'star', 'list'])
def test_if_none_match_naming_the_answer_is_304_without_body(
        front, site, form):
    etag = get(front, one_post(site)).headers['ETag']
    value = {'exact': etag, 'weak': f'W/{etag}', 'star': '*',
             'list': f'"0123", W/"abcd", {etag}'}[form]

    r = get(front, one_post(site), {'If-None-Match': value})
    assert r.status_code == 304, r.text
    assert r.content == b''
    assert r.headers['ETag'] == etag
    assert r.headers['Cache-Control'] == DEFAULT_PUBLIC
    assert 'Authorization' in r.headers['Vary']


def test_if_none_match_naming_another_etag_is_a_full_answer(front, site):
    r = get(front, one_post(site), {'If-None-Match': '"0123", W/"4567"'})
    assert r.status_code == 200, r.text
    assert r.json()['slug'] == site['posts'][0]['slug']


def test_a_changed_post_changes_the_etag(front, site):
    post = published(front, site['key'], f'other-{secrets.token_hex(3)}')
    path = f'/v1/posts/{post["slug"]}'
    before = get(front, path).headers['ETag']

    h = dict(site['key'], **{'If-Match': f'"v{post["version"]}"'})
    r = request('PATCH', f'{front}{ADMIN}/{post["id"]}', headers=h,
                json={'title': 'A new title'})
    assert r.status_code == 200, r.text

    r = get(front, path, {'If-None-Match': before})
    assert r.status_code == 200, r.text
    assert r.json()['title'] == 'A new title'
    assert ETAG.match(r.headers['ETag'])
    assert r.headers['ETag'] != before


# Cache-Control and Vary

def test_anonymous_public_answer_is_public_with_the_default_times(
        front, site):
    for path in (one_post(site), '/v1/posts', '/v1/tags',
                 f'/v1/tags/{site["tag"]}', '/v1/search?q=cached'):
        r = get(front, path)
        assert r.status_code == 200, (path, r.text)
        assert r.headers['Cache-Control'] == DEFAULT_PUBLIC, path


def test_configured_times_and_vary_merged_with_origin(make_pool, site):
    pool = make_pool(conf={'http': {'max_age': 11, 's_maxage': 22,
                                    'stale_while_revalidate': 33},
                           'cors': {'origins': 'https://site.example'}})
    r = get(pool.url, one_post(site), {'Origin': 'https://site.example'})
    assert r.status_code == 200, r.text
    assert r.headers['Cache-Control'] == \
        'public, max-age=11, s-maxage=22, stale-while-revalidate=33'
    vary = [v.strip().lower() for v in r.headers['Vary'].split(',')]
    assert sorted(vary) == ['authorization', 'origin']


def test_signed_in_caller_gets_private_no_store_and_no_tags(front, site):
    r = get(front, one_post(site), member(front))
    assert r.status_code == 200, r.text
    assert r.headers['Cache-Control'] == 'private, no-store'
    assert 'Authorization' in r.headers['Vary']
    assert 'Cache-Tag' not in r.headers
    assert 'Surrogate-Key' not in r.headers


def test_vary_names_authorization_once(front, site):
    r = get(front, '/v1/posts')
    vary = [v.strip().lower() for v in r.headers['Vary'].split(',')]
    assert vary.count('authorization') == 1


def test_errors_are_no_store_without_etag_or_tags(front):
    r = get(front, '/v1/posts/no-such-post', {'If-None-Match': '*'})
    assert r.status_code == 404, r.text
    assert r.headers['Cache-Control'] == 'no-store'
    assert 'ETag' not in r.headers
    assert 'Cache-Tag' not in r.headers
    assert 'Surrogate-Key' not in r.headers


def test_health_and_jwks_keep_their_own_policy(front):
    r = get(front, '/v1/health')
    assert r.status_code == 200
    assert 'no-store' in r.headers['Cache-Control']
    assert 'Cache-Tag' not in r.headers
    r = get(front, '/v1/.well-known/jwks.json')
    assert r.status_code == 200
    assert r.headers['Cache-Control'] == 'public, max-age=300'


# Purge tags

def test_list_page_tags_name_the_list_and_each_post(front, site):
    r = get(front, f'/v1/posts?tag={site["tag"]}')
    assert r.status_code == 200, r.text
    ids = [p['id'] for p in r.json()['items']]
    assert sorted(ids) == sorted(p['id'] for p in site['posts'])
    want = sorted(['posts'] + [f'post:{i}' for i in ids])
    assert names(r.headers.get('Cache-Tag'), ',') == want
    assert names(r.headers.get('Surrogate-Key'), ' ') == want


def test_single_post_tags_name_the_post(front, site):
    r = get(front, one_post(site))
    want = [f'post:{site["posts"][0]["id"]}']
    assert names(r.headers.get('Cache-Tag'), ',') == want
    assert names(r.headers.get('Surrogate-Key'), ' ') == want


def test_tag_page_and_tag_list_are_tagged(front, site):
    r = get(front, f'/v1/tags/{site["tag"]}')
    assert r.status_code == 200, r.text
    tags = names(r.headers.get('Cache-Tag'), ',')
    assert f'tag:{site["tag"]}' in tags and 'posts' in tags
    for p in site['posts']:
        assert f'post:{p["id"]}' in tags
    r = get(front, '/v1/tags')
    assert names(r.headers.get('Cache-Tag'), ',') == ['tags']
