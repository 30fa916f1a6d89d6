"""The editorial side of posts under /v1/admin/posts: creation with
slugs, reads with ETags, updates guarded by the version (412 when stale,
428 without one), revisions, soft deletion, the workflow and who may do
what, and scheduled publishing by the pool's background process, once
even when several pools share the database."""

import base64
import json
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from support import assert_problem, output, request, run_jamb

ADMIN = '/v1/admin/posts'
PASSWORD = 'correct horse battery'
ROLES = ('owner', 'admin', 'editor', 'author', 'member')


def sql(stack, query):
    out = stack.mysql(query, database=stack.config()['db']['name'])
    return [[None if v == 'NULL' else v for v in line.split('\t')]
            for line in out.splitlines()]


def api_key(stack, role):
    proc = run_jamb(stack, ['key', 'create', '-c', stack.conf_path,
                            '--role', role, f'{role} {secrets.token_hex(4)}'])
    assert proc.returncode == 0, output(proc)
    return {'Authorization': f'Bearer {proc.stdout.decode().strip()}'}


def user(stack, url, role):
    """A signed-in account with ROLE: its id and Authorization header."""
    email = f'writer-{secrets.token_hex(6)}@example.com'
    r = request('POST', url + '/v1/auth/signup',
                json={'email': email, 'password': PASSWORD,
                      'name': f'Writer {role}'})
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
    """Credentials of each kind, made once for the module."""
    url = stack.url
    author_id, author = user(stack, url, 'author')
    other_id, other = user(stack, url, 'author')
    editor_id, editor = user(stack, url, 'editor')
    member_id, member = user(stack, url, 'member')
    return {'author': author, 'author_id': author_id, 'other': other,
            'other_id': other_id, 'editor': editor, 'editor_id': editor_id,
            'member': member, 'key_editor': api_key(stack, 'editor'),
            'key_author': api_key(stack, 'author')}


def create(url, headers, **body):
    body.setdefault('title', f'Post {secrets.token_hex(4)}')
    body.setdefault('body', 'Some *text*.')
    return request('POST', url + ADMIN, json=body, headers=headers)


def created(url, headers, **body):
    r = create(url, headers, **body)
    assert r.status_code == 201, r.text
    return r.json()


def patch(url, headers, id, body, version=None, ctype=None):
    h = dict(headers)
    if version is not None:
        h['If-Match'] = f'"v{version}"'
    if ctype:
        h['Content-Type'] = ctype
        return request('PATCH', f'{url}{ADMIN}/{id}', headers=h,
                       data=json.dumps(body))
    return request('PATCH', f'{url}{ADMIN}/{id}', json=body, headers=h)


def move(url, headers, id, name, body=None):
    return request('POST', f'{url}{ADMIN}/{id}/{name}', json=body,
                   headers=headers)


def audit(stack, id, action=None):
    where = f" AND action = '{action}'" if action else ''
    return sql(stack, 'SELECT action, actor_user_id, details FROM audit_log '
               f"WHERE object_type = 'post' AND object_id = {id}{where} "
               'ORDER BY id')


# Create and read

def test_create_answers_a_draft_with_html_author_and_a_revision(
        stack, front, who):
    new_tag = f't-{secrets.token_hex(3)}'
    r = create(front, who['author'], title='Hello there',
               body='# Head\n\nSome *text* <script>x()</script>',
               excerpt='Short.', tags=[new_tag, 'news'],
               meta_title='SEO title')
    assert r.status_code == 201, r.text
    post = r.json()
    assert post['status'] == 'draft' and post['version'] == 1
    assert post['visibility'] == 'public'
    assert '<h1>Head</h1>' in post['body_html']
    assert '<em>text</em>' in post['body_html']
    assert '<script>' not in post['body_html']
    assert post['excerpt'] == 'Short.' and post['meta_title'] == 'SEO title'
    assert [a['id'] for a in post['authors']] == [who['author_id']]
    assert post['tags'] == sorted(['news', new_tag])
    assert r.headers['ETag'] == '"v1"'
    rows = sql(stack, 'SELECT post_version, author_id, title FROM '
               f'post_revisions WHERE post_id = {post["id"]}')
    assert rows == [['1', str(who['author_id']), 'Hello there']]

    g = request('GET', f'{front}{ADMIN}/{post["id"]}',
                headers=who['author'])
    assert g.status_code == 200 and g.headers['ETag'] == '"v1"'
    assert g.json()['body'] == post['body']


def test_post_made_with_an_api_key_has_no_author(front, who):
    post = created(front, who['key_author'])
    assert post['authors'] == [] and post['created_by'] is None


def test_unicode_titles_give_folded_or_kept_slugs_and_duplicates_get_numbers(
        front, who):
    tag = secrets.token_hex(3)
    a = created(front, who['editor'], title=f'Ünïcödé Straße {tag}')
    assert a['slug'] == f'unicode-strasse-{tag}'
    b = created(front, who['editor'], title=f'Ünïcödé Straße {tag}')
    assert b['slug'] == f'unicode-strasse-{tag}-2'
    c = created(front, who['editor'], title=f'ÜNÏCÖDÉ  straße!! {tag}')
    assert c['slug'] == f'unicode-strasse-{tag}-3'
    d = created(front, who['editor'], title=f'Привет, Мир {tag}')
    assert d['slug'] == f'привет-мир-{tag}'


def test_concurrent_creations_of_one_title_get_distinct_slugs(front, who):
    title = f'Same title {secrets.token_hex(4)}'
    results = [None] * 6

    def run(i):
        results[i] = create(front, who['editor'], title=title)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 201 for r in results), \
        [r.text for r in results]
    slugs = {r.json()['slug'] for r in results}
    assert len(slugs) == 6


def test_a_taken_slug_given_by_the_editor_is_409(front, who):
    slug = f'taken-{secrets.token_hex(4)}'
    created(front, who['editor'], slug=slug)
    problem = assert_problem(create(front, who['editor'], slug=slug), 409)
    assert problem['field'] == 'slug'


@pytest.mark.parametrize('body, field', [
    ({'title': 'x', 'body': 'y', 'colour': 'red'}, 'colour'),
    ({'title': 'x', 'body': 'y', 'status': 'published'}, 'status'),
    ({'body': 'y'}, 'title'),
    ({'title': 'x'}, 'body'),
    ({'title': '   ', 'body': 'y'}, 'title'),
    ({'title': 'x', 'body': 'y', 'visibility': 'secret'}, 'visibility'),
    ({'title': 'x', 'body': 'y', 'visibility': 'tiers'}, 'tiers'),
    ({'title': 'x', 'body': 'y', 'visibility': 'tiers',
      'tiers': ['no-such-tier-here']}, 'tiers'),
    ({'title': 'x', 'body': 'y', 'tiers': ['supporter']}, 'tiers'),
    ({'title': 'x', 'body': 'y', 'slug': 'Not A Slug'}, 'slug'),
    ({'title': 'x', 'body': 'y', 'tags': ['ok', 'Bad Tag']}, 'tags'),
    ({'title': 'x', 'body': 'y', 'canonical_url': 'javascript:x'},
     'canonical_url'),
    ({'title': 'x' * 501, 'body': 'y'}, 'title'),
])
def test_a_bad_body_is_422_naming_the_field(front, who, body, field):
    r = request('POST', front + ADMIN, json=body, headers=who['editor'])
    problem = assert_problem(r, 422)
    assert problem['field'] == field


def test_visibility_tiers_with_a_tier_is_stored(stack, front, who):
    tier = f'tier-{secrets.token_hex(4)}'
    sql(stack, "INSERT INTO tiers (slug, name, kind) VALUES "
        f"('{tier}', 'T', 'free')")
    post = created(front, who['editor'], visibility='tiers', tiers=[tier])
    assert post['visibility'] == 'tiers' and post['tiers'] == [tier]
    # Leaving visibility tiers drops the tiers.
    r = patch(front, who['editor'], post['id'], {'visibility': 'members'},
              version=1)
    assert r.status_code == 200, r.text
    assert r.json()['tiers'] == []


# Updates and versions

def test_update_with_if_match_bumps_version_and_keeps_a_revision(
        stack, front, who):
    post = created(front, who['author'], title='Before')
    r = patch(front, who['author'], post['id'],
              {'title': 'After', 'body': '**bold**'}, version=1)
    assert r.status_code == 200, r.text
    assert r.json()['version'] == 2 and r.headers['ETag'] == '"v2"'
    assert r.json()['title'] == 'After'
    assert '<strong>bold</strong>' in r.json()['body_html']
    assert r.json()['slug'] == post['slug']
    rows = sql(stack, 'SELECT post_version, title FROM post_revisions '
               f'WHERE post_id = {post["id"]} ORDER BY id')
    assert rows == [['1', 'Before'], ['2', 'After']]

    # A change of visibility only is a new version, not a new revision.
    r = patch(front, who['author'], post['id'], {'visibility': 'members',
              'version': 2}, ctype='application/merge-patch+json')
    assert r.status_code == 200, r.text
    assert r.json()['version'] == 3
    assert len(sql(stack, 'SELECT id FROM post_revisions WHERE post_id = '
                   f'{post["id"]}')) == 2


def test_update_with_a_stale_version_is_412_with_the_current_one(front, who):
    post = created(front, who['author'])
    assert patch(front, who['author'], post['id'], {'title': 'one'},
                 version=1).status_code == 200
    problem = assert_problem(patch(front, who['author'], post['id'],
                                   {'title': 'two'}, version=1), 412)
    assert problem['current_version'] == 2
    g = request('GET', f'{front}{ADMIN}/{post["id"]}',
                headers=who['author'])
    assert g.json()['title'] == 'one'


def test_update_without_a_version_is_428(front, who):
    post = created(front, who['author'])
    assert_problem(patch(front, who['author'], post['id'], {'title': 'x'}),
                   428)


def test_two_concurrent_updates_of_one_version_give_one_200_and_one_412(
        front, who):
    post = created(front, who['editor'])
    version = 1
    for round in range(5):
        results = [None, None]
        barrier = threading.Barrier(2)

        def run(i):
            barrier.wait()
            results[i] = patch(front, who['editor'], post['id'],
                               {'title': f'round {round} client {i}'},
                               version=version)

        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 412], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200)
        version += 1
        assert winner.json()['version'] == version
        loser = next(r for r in results if r.status_code == 412)
        assert loser.json()['current_version'] == version


# Revisions

def test_revisions_are_listed_newest_first_and_restore_is_a_new_version(
        front, who):
    post = created(front, who['author'], title='First', body='one')
    patch(front, who['author'], post['id'], {'title': 'Second',
                                             'body': 'two'}, version=1)
    r = request('GET', f'{front}{ADMIN}/{post["id"]}/revisions',
                headers=who['author'])
    assert r.status_code == 200, r.text
    items = r.json()['items']
    assert [i['title'] for i in items] == ['Second', 'First']
    first = items[1]['id']
    r = request('GET', f'{front}{ADMIN}/{post["id"]}/revisions/{first}',
                headers=who['author'])
    assert r.status_code == 200 and r.json()['body'] == 'one'

    r = request('POST', f'{front}{ADMIN}/{post["id"]}/revisions/{first}/'
                'restore', headers=who['author'])
    assert r.status_code == 200, r.text
    assert r.json()['title'] == 'First' and r.json()['version'] == 3
    assert r.json()['body_html'].strip() == '<p>one</p>'
    r = request('GET', f'{front}{ADMIN}/{post["id"]}/revisions',
                headers=who['author'])
    assert [i['title'] for i in r.json()['items']] == \
        ['First', 'Second', 'First']
    assert r.json()['items'][0]['post_version'] == 3


def test_a_revision_of_another_post_is_404(front, who):
    a = created(front, who['editor'])
    b = created(front, who['editor'])
    rev = request('GET', f'{front}{ADMIN}/{a["id"]}/revisions',
                  headers=who['editor']).json()['items'][0]['id']
    assert_problem(request('GET', f'{front}{ADMIN}/{b["id"]}/revisions/'
                           f'{rev}', headers=who['editor']), 404)


def test_old_revisions_are_pruned_to_revisions_keep(stack, make_pool, who):
    pool = make_pool(conf={'content': {'revisions_keep': 3}})
    post = created(pool.url, who['editor'], title='v1')
    for v in range(1, 6):
        r = patch(pool.url, who['editor'], post['id'],
                  {'title': f'v{v + 1}'}, version=v)
        assert r.status_code == 200, r.text
    rows = sql(stack, 'SELECT title FROM post_revisions WHERE post_id = '
               f'{post["id"]} ORDER BY id')
    assert rows == [['v4'], ['v5'], ['v6']]


# Soft deletion

def test_delete_is_soft_and_restore_brings_the_post_back(stack, front, who):
    post = created(front, who['editor'])
    r = request('DELETE', f'{front}{ADMIN}/{post["id"]}',
                headers=who['editor'])
    assert r.status_code == 204, r.text
    g = request('GET', f'{front}{ADMIN}/{post["id"]}', headers=who['editor'])
    assert g.status_code == 200 and g.json()['deleted_at'] is not None
    assert_problem(patch(front, who['editor'], post['id'], {'title': 'x'},
                         version=g.json()['version']), 409)
    assert_problem(move(front, who['editor'], post['id'], 'publish'), 409)
    r = request('POST', f'{front}{ADMIN}/{post["id"]}/restore',
                headers=who['editor'])
    assert r.status_code == 200 and r.json()['deleted_at'] is None
    assert [a[0] for a in audit(stack, post['id'])] == \
        ['post.create', 'post.delete', 'post.restore']


# Lists

def all_pages(url, headers, query=''):
    items, cursor = [], None
    while True:
        q = f'?limit=2{query}' + (f'&cursor={cursor}' if cursor else '')
        r = request('GET', url + ADMIN + q, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()['items']
        cursor = r.json()['next_cursor']
        if cursor is None:
            return items


def test_authors_list_their_own_posts_through_every_page(stack, front):
    _, mine = user(stack, front, 'author')
    made = [created(front, mine)['id'] for _ in range(5)]
    items = all_pages(front, mine)
    assert [i['id'] for i in items] == list(reversed(made))
    assert 'body_html' not in items[0]


def test_list_filters_by_status_and_refuses_a_forged_cursor(front, who):
    post = created(front, who['editor'])
    move(front, who['editor'], post['id'], 'submit')
    r = request('GET', f'{front}{ADMIN}?status=review&limit=100',
                headers=who['editor'])
    assert r.status_code == 200
    assert all(i['status'] == 'review' for i in r.json()['items'])
    assert post['id'] in [i['id'] for i in r.json()['items']]
    forged = base64.urlsafe_b64encode(b'not,a cursor').decode().rstrip('=')
    assert_problem(request('GET', f'{front}{ADMIN}?cursor={forged}',
                           headers=who['editor']), 400)
    assert_problem(request('GET', f'{front}{ADMIN}?limit=101',
                           headers=who['editor']), 400)


# Permissions and the workflow

def test_anonymous_is_401_and_member_is_403(front, who):
    assert_problem(request('GET', front + ADMIN), 401)
    assert_problem(create(front, {}), 401)
    assert_problem(create(front, who['member']), 403)
    assert_problem(request('GET', front + ADMIN, headers=who['member']), 403)


def test_author_cannot_touch_another_authors_post(front, who):
    post = created(front, who['author'])
    url = f'{front}{ADMIN}/{post["id"]}'
    assert_problem(request('GET', url, headers=who['other']), 403)
    assert_problem(patch(front, who['other'], post['id'], {'title': 'x'},
                         version=1), 403)
    assert_problem(move(front, who['other'], post['id'], 'submit'), 403)
    assert_problem(request('GET', url + '/revisions', headers=who['other']),
                   403)
    assert post['id'] not in [i['id'] for i in
                              all_pages(front, who['other'])]


@pytest.mark.parametrize('name', ['publish', 'schedule', 'unpublish',
                                  'archive', 'reopen'])
def test_author_cannot_use_editor_transitions(front, who, name):
    post = created(front, who['author'])
    assert_problem(move(front, who['author'], post['id'], name), 403)
    assert_problem(request('DELETE', f'{front}{ADMIN}/{post["id"]}',
                           headers=who['author']), 403)


@pytest.mark.parametrize('editor', ['editor', 'key_editor'])
def test_workflow_transitions_bump_the_version_and_are_audited(
        stack, front, who, editor):
    post = created(front, who['author'])
    id = post['id']
    r = move(front, who['author'], id, 'submit')
    assert r.status_code == 200, r.text
    assert r.json()['status'] == 'review' and r.json()['version'] == 2
    steps = [('publish', 'published'), ('archive', 'archived'),
             ('reopen', 'draft'), ('publish', 'published'),
             ('unpublish', 'draft')]
    published_at = None
    for name, status in steps:
        r = move(front, who[editor], id, name)
        assert r.status_code == 200, (name, r.text)
        assert r.json()['status'] == status
        if name == 'publish':
            published_at = published_at or r.json()['published_at']
            # Republishing keeps the first date.
            assert r.json()['published_at'] == published_at
    assert r.json()['version'] == 2 + len(steps)
    # Unpublishing keeps published_at as history.
    assert r.json()['published_at'] == published_at

    rows = audit(stack, id)
    moves = [(a, d) for a, _, d in rows if a != 'post.create']
    assert [a for a, _ in moves] == ['post.submit'] + \
        [f'post.{n}' for n, _ in steps]
    assert json.loads(moves[0][1]) == {'from': 'draft', 'to': 'review'}
    assert json.loads(moves[1][1]) == {'from': 'review', 'to': 'published'}
    assert rows[1][1] == str(who['author_id'])


def test_an_invalid_transition_is_409_naming_the_current_status(front, who):
    post = created(front, who['editor'])
    problem = assert_problem(move(front, who['editor'], post['id'],
                                  'archive'), 409)
    assert problem['current_status'] == 'draft'
    assert 'draft' in problem['detail']
    move(front, who['editor'], post['id'], 'publish')
    problem = assert_problem(move(front, who['editor'], post['id'],
                                  'submit'), 409)
    assert problem['current_status'] == 'published'


def test_a_transition_with_a_stale_if_match_is_412(front, who):
    post = created(front, who['editor'])
    r = request('POST', f'{front}{ADMIN}/{post["id"]}/publish',
                headers={**who['editor'], 'If-Match': '"v7"'})
    assert assert_problem(r, 412)['current_version'] == 1


def rfc3339(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


@pytest.mark.parametrize('at', [
    None, 'tomorrow', '2030-01-01 10:00:00', '2030-01-01T10:00:00+02:00',
    '2030-13-01T10:00:00Z', 'PAST'])
def test_a_bad_schedule_time_is_422(front, who, at):
    post = created(front, who['editor'])
    if at == 'PAST':
        at = rfc3339(datetime.now(timezone.utc) - timedelta(minutes=1))
    body = {} if at is None else {'at': at}
    problem = assert_problem(move(front, who['editor'], post['id'],
                                  'schedule', body), 422)
    assert problem['field'] == 'at'


def test_schedule_sets_the_time_and_audits_it(stack, front, who):
    post = created(front, who['editor'])
    at = rfc3339(datetime.now(timezone.utc) + timedelta(days=2))
    r = move(front, who['editor'], post['id'], 'schedule', {'at': at})
    assert r.status_code == 200, r.text
    assert r.json()['status'] == 'scheduled'
    assert r.json()['scheduled_at'] == at
    assert at in audit(stack, post['id'], 'post.schedule')[0][2]
    r = move(front, who['editor'], post['id'], 'unpublish')
    assert r.json()['status'] == 'draft' and r.json()['scheduled_at'] is None


# Scheduled publishing

JOBS = {'jobs': {'enabled': True, 'interval_ms': 100}}


def wait_for(pred, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    return pred()


def post_row(stack, id):
    return sql(stack, "SELECT status, DATE_FORMAT(published_at, "
               "'%Y-%m-%dT%H:%i:%sZ'), version FROM posts WHERE id = "
               f"{id}")[0]


def test_a_scheduled_post_is_published_at_its_time(stack, make_pool, who):
    pool = make_pool(conf=JOBS)
    post = created(pool.url, who['editor'])
    when = datetime.now(timezone.utc).replace(microsecond=0) + \
        timedelta(seconds=3)
    r = move(pool.url, who['editor'], post['id'], 'schedule',
             {'at': rfc3339(when)})
    assert r.status_code == 200, r.text
    assert post_row(stack, post['id'])[0] == 'scheduled'
    assert wait_for(lambda: post_row(stack, post['id'])[0] == 'published',
                    seconds=8)
    late = datetime.now(timezone.utc) - when
    assert late < timedelta(seconds=1.5), late
    status, published_at, version = post_row(stack, post['id'])
    assert published_at == rfc3339(when) and version == '3'
    rows = audit(stack, post['id'], 'post.publish')
    assert len(rows) == 1 and rows[0][1] is None
    assert 'scheduler' in rows[0][2]


def schedule_in_the_past(stack, ids):
    sql(stack, "UPDATE posts SET status = 'scheduled', scheduled_at = "
        "NOW(6) - INTERVAL 1 MINUTE WHERE id IN "
        f"({', '.join(str(i) for i in ids)})")


def test_a_post_due_while_no_pool_ran_is_published_at_start(
        stack, front, make_pool, who):
    post = created(front, who['editor'])
    schedule_in_the_past(stack, [post['id']])
    due = sql(stack, "SELECT DATE_FORMAT(scheduled_at, "
              f"'%Y-%m-%dT%H:%i:%sZ') FROM posts WHERE id = {post['id']}")
    make_pool(conf=JOBS)
    assert wait_for(lambda: post_row(stack, post['id'])[0] == 'published',
                    seconds=5)
    assert post_row(stack, post['id'])[1] == due[0][0]


def test_two_pools_publish_each_due_post_exactly_once(
        stack, front, make_pool, who):
    ids = [created(front, who['editor'])['id'] for _ in range(20)]
    make_pool(conf={'jobs': {'enabled': True, 'interval_ms': 20}})
    make_pool(conf={'jobs': {'enabled': True, 'interval_ms': 20}})
    # Due at once for both background processes.
    schedule_in_the_past(stack, ids)
    assert wait_for(lambda: all(post_row(stack, i)[0] == 'published'
                                for i in ids), seconds=10)
    time.sleep(0.5)
    for i in ids:
        assert len(audit(stack, i, 'post.publish')) == 1, i
        assert post_row(stack, i)[2] == '2'
