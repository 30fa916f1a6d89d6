"""Public reads: GET /v1/posts (keyset pages, filters, fields), one post,
tags, author pages and search, and the paywall they all share.

The module has a database of its own with the demo site (`jamb seed
demo`) plus a few posts written here directly: a paid post whose body
alone holds a made-up word, two posts to rank (the word in one's title,
in the other's body), and posts that must stay invisible (a draft, a
scheduled, an archived and a deleted one).  A jamb pool of the module's
own reads that database.  Readers: anonymous, a free member, a monthly
Supporter, a yearly Patron (signed in with the demo's shared password),
and staff through an editor's API key."""

import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest

from support import assert_problem, output, request, run_jamb

USERS = ("'jamb'@'127.0.0.1'", "'jamb'@'localhost'")
SIGN_IN = re.compile(r'^sign in as owner@demo\.jamb\.test with password '
                     r'(.+)$', re.MULTILINE)
DEMO_PUBLISHED = 188

# A word nobody else uses, only in the body of a paid post.
GATED_WORD = 'zorblaxquint'
GATED_SLUG = 'a-paid-letter-with-a-secret'
# A word in one post's title and only in the other's body.
RANK_WORD = 'snorkelvane'
# A word in every post that must never be seen.
HIDDEN_WORD = 'ghostlymoth'
HIDDEN = {'draft': 'hidden-draft', 'scheduled': 'hidden-scheduled',
          'archived': 'hidden-archived', 'deleted': 'hidden-deleted'}
CRAFTED_PUBLISHED = 4

READERS = ('anonymous', 'free', 'monthly', 'yearly', 'staff')
# Which visibility each reader may read (the demo's 'tiers' posts are
# for Patrons; the monthly reader is a Supporter, the yearly a Patron).
CAN_READ = {
    'anonymous': {'public'},
    'free': {'public', 'members'},
    'monthly': {'public', 'members', 'paid'},
    'yearly': {'public', 'members', 'paid', 'tiers'},
    'staff': {'public', 'members', 'paid', 'tiers'},
}
LIST_FIELDS = {'id', 'slug', 'title', 'excerpt', 'published_at',
               'updated_at', 'visibility', 'tags', 'authors',
               'feature_image', 'access'}


class Site:
    def __init__(self, stack, name, pool, password):
        self.stack = stack
        self.name = name
        self.pool = pool
        self.password = password
        self.tokens = {'anonymous': None}

    def rows(self, sql):
        out = self.stack.mysql(sql, database=self.name)
        return [[None if v == 'NULL' else v for v in line.split('\t')]
                for line in out.splitlines()]

    def count(self, sql):
        return int(self.rows(sql)[0][0])

    def get(self, path, reader='anonymous', **params):
        token = self.tokens[reader]
        headers = {'Authorization': f'Bearer {token}'} if token else {}
        return request('GET', self.pool.url + path, params=params,
                       headers=headers)

    def ok(self, path, reader='anonymous', **params):
        r = self.get(path, reader, **params)
        assert r.status_code == 200, r.text
        return r.json()

    def walk(self, path='/v1/posts', reader='anonymous', **params):
        """Every item of a list, following next_cursor."""
        items, cursor, pages = [], None, 0
        while True:
            extra = {'cursor': cursor} if cursor else {}
            body = self.ok(path, reader, **params, **extra)
            items += body['items']
            pages += 1
            cursor = body['next_cursor']
            if cursor is None:
                return items, pages


def craft(site):
    """The posts this module writes itself, with a tag and an author for
    the gated one so that tag and author pages show it."""
    def post(slug, title, body, status='published', visibility='public',
             hours_ago=1, deleted=False):
        site.stack.mysql(
            "INSERT INTO posts (slug, title, excerpt, body_md, body_html, "
            "status, visibility, published_at, deleted_at) VALUES "
            f"('{slug}', '{title}', 'An ordinary opening line.', "
            f"'{body}', '<p>{body}</p>', '{status}', '{visibility}', "
            + ('NULL' if status in ('draft', 'scheduled') else
               f'UTC_TIMESTAMP(6) - INTERVAL {hours_ago} HOUR')
            + ', ' + ('UTC_TIMESTAMP(6)' if deleted else 'NULL') + ')',
            database=site.name)

    post(GATED_SLUG, 'A paid letter', f'Only payers read that the '
         f'{GATED_WORD} came back to the harbour.', visibility='paid')
    site.stack.mysql(
        "INSERT INTO post_tags (post_id, tag_id) SELECT p.id, t.id FROM "
        f"posts p, tags t WHERE p.slug = '{GATED_SLUG}' AND "
        "t.slug = 'essays';"
        "INSERT INTO post_authors (post_id, user_id) SELECT p.id, u.id "
        f"FROM posts p, users u WHERE p.slug = '{GATED_SLUG}' AND "
        "u.slug = 'ines-calloway'", database=site.name)
    post('rank-in-title', f'The {RANK_WORD} of the estuary',
         'A short note about mud.', hours_ago=3)
    # Newer, so that a ranking by date alone would put it first.
    post('rank-in-body', 'A walk to the pier',
         f'On the way back I thought about the {RANK_WORD} again.',
         hours_ago=2)
    # Markup in the text itself, for the escaping of snippets.
    site.stack.mysql(
        "INSERT INTO posts (slug, title, excerpt, body_md, body_html, "
        "status, visibility, published_at) VALUES ('escape-test', "
        "'Tags <b>and</b> quirkmoss', 'x', 'quirkmoss & <i>', "
        "'<p>quirkmoss &amp; &lt;i&gt;</p>', 'published', 'public', "
        "UTC_TIMESTAMP(6) - INTERVAL 500 DAY)", database=site.name)
    for status, slug in HIDDEN.items():
        post(slug, f'The {HIDDEN_WORD} note', f'{HIDDEN_WORD} text.',
             status='published' if status == 'deleted' else status,
             deleted=status == 'deleted')


def login(site, local):
    r = request('POST', site.pool.url + '/v1/auth/login',
                json={'email': f'{local}@demo.jamb.test',
                      'password': site.password})
    assert r.status_code == 200, r.text
    return r.json()['access_token']


@pytest.fixture(scope='module')
def site(stack):
    name = f'jamb_posts_{secrets.token_hex(6)}'
    env = {'JAMB_DB_NAME': name}
    grants = ''.join(f'GRANT ALL PRIVILEGES ON {name}.* TO {u};'
                     for u in USERS)
    stack.mysql(f'CREATE DATABASE {name} CHARACTER SET utf8mb4 '
                f'COLLATE utf8mb4_unicode_ci;{grants}')
    pool = None
    try:
        for args in (['migrate', 'up'], ['seed', 'demo']):
            proc = run_jamb(stack, [*args, '-c', stack.conf_path], env=env,
                            timeout=120)
            assert proc.returncode == 0, output(proc)
        password = SIGN_IN.search(proc.stdout.decode()).group(1)
        proc = run_jamb(stack, ['key', 'create', '--role', 'editor',
                                'posts test', '-c', stack.conf_path],
                        env=env)
        assert proc.returncode == 0, output(proc)
        key = proc.stdout.decode().strip()
        pool = stack.pool(f'posts{secrets.token_hex(3)}',
                          conf={'db': {'name': name}})
        s = Site(stack, name, pool, password)
        craft(s)
        s.tokens.update(free=login(s, 'hannah.brooks'),
                        monthly=login(s, 'daniel.kim'),
                        yearly=login(s, 'noah.fischer'), staff=key)
        yield s
    finally:
        if pool is not None:
            pool.stop()
        stack.mysql(f'DROP DATABASE IF EXISTS {name}')


def published_slugs(site):
    return [r[0] for r in site.rows(
        "SELECT slug FROM posts WHERE status = 'published' AND deleted_at "
        "IS NULL ORDER BY published_at DESC, id DESC")]


# Pagination

def test_pages_walk_every_published_post_once_newest_first(site):
    items, pages = site.walk(limit=7)
    slugs = [i['slug'] for i in items]
    assert len(slugs) == DEMO_PUBLISHED + CRAFTED_PUBLISHED
    assert len(set(slugs)) == len(slugs)
    assert slugs == published_slugs(site)
    assert pages == -(-len(slugs) // 7)
    times = [i['published_at'] for i in items]
    assert times == sorted(times, reverse=True)


def test_pages_are_stable_across_walks_and_page_sizes(site):
    first, _ = site.walk(limit=100)
    again, _ = site.walk(limit=13)
    assert [i['id'] for i in first] == [i['id'] for i in again]


def test_default_page_is_20_and_the_last_page_has_no_cursor(site):
    body = site.ok('/v1/posts')
    assert len(body['items']) == 20 and body['next_cursor']
    last = site.ok('/v1/posts', limit=100, cursor=site.ok(
        '/v1/posts', limit=100)['next_cursor'])
    assert len(last['items']) == DEMO_PUBLISHED + CRAFTED_PUBLISHED - 100
    assert last['next_cursor'] is None


def test_public_list_query_uses_the_posts_public_index_without_a_sort(
        site):
    # The statement of POSTS_LIST_WHERE in routes/posts.c, with a cursor
    # deep in the list.
    at, pid = site.rows("SELECT DATE_FORMAT(published_at, "
                        "'%Y-%m-%d %H:%i:%s.%f'), id FROM posts WHERE "
                        "status = 'published' ORDER BY published_at "
                        "LIMIT 1 OFFSET 10")[0]
    plan = site.rows(
        "EXPLAIN SELECT p.id FROM posts p WHERE p.status = 'published' "
        "AND p.deleted_at IS NULL AND p.published_at > CAST('1000-01-01' "
        "AS DATETIME(6)) AND p.published_at < CAST('9999-12-31' AS "
        f"DATETIME(6)) AND (p.published_at < CAST('{at}' AS DATETIME(6)) "
        f"OR (p.published_at = CAST('{at}' AS DATETIME(6)) AND p.id < "
        f"{pid})) AND (NULL IS NULL OR p.visibility = NULL) "
        "ORDER BY p.published_at DESC, p.id DESC LIMIT 21")
    assert len(plan) == 1, plan
    assert plan[0][5] == 'posts_public', plan
    assert plan[0][3] == 'range', plan
    assert 'filesort' not in (plan[0][9] or ''), plan
    # Rows examined: the posts older than the cursor, not the whole table.
    assert int(plan[0][8]) <= 40, plan


@pytest.mark.parametrize('params', [
    {'limit': '0'}, {'limit': '101'}, {'limit': 'ten'}, {'limit': '-1'},
    {'cursor': 'not-a-cursor'}, {'cursor': 'MjAyNC0wMS0wMQ'},
    {'visibility': 'secret'}, {'published_before': 'yesterday'},
    {'published_after': '2024-01-01'},
    {'published_after': '2024-02-30T00:00:00Z'},
])
def test_bad_list_parameters_are_400(site, params):
    assert_problem(site.get('/v1/posts', **params), 400)


def test_unknown_fields_are_400_naming_each(site):
    body = assert_problem(site.get('/v1/posts', fields='id,bogus,nope'),
                          400)
    assert '"bogus"' in body['detail'] and '"nope"' in body['detail']
    assert '"id"' not in body['detail']


def test_unknown_query_parameters_are_ignored(site):
    a = site.ok('/v1/posts', limit=5)
    b = site.ok('/v1/posts', limit=5, colour='blue', sort='oldest')
    assert a == b


# Fields and filters

def test_list_items_have_every_field_but_the_body_by_default(site):
    for item in site.ok('/v1/posts', 'staff', limit=100)['items']:
        assert set(item) == LIST_FIELDS, item
        assert isinstance(item['tags'], list)
        assert isinstance(item['authors'], list)


def test_fields_select_what_an_item_holds(site):
    items = site.ok('/v1/posts', limit=10, fields='slug,title')['items']
    assert all(set(i) == {'slug', 'title'} for i in items), items


def test_demo_posts_carry_their_tags_and_authors_in_order(site):
    item = site.ok('/v1/posts', limit=100, visibility='public')['items'][5]
    tags = [r[0] for r in site.rows(
        "SELECT t.slug FROM post_tags x JOIN tags t ON t.id = x.tag_id "
        f"WHERE x.post_id = {item['id']} ORDER BY t.name")]
    authors = [r[0] for r in site.rows(
        "SELECT u.slug FROM post_authors y JOIN users u ON u.id = "
        f"y.user_id WHERE y.post_id = {item['id']} ORDER BY y.position")]
    assert [t['slug'] for t in item['tags']] == tags
    assert [a['slug'] for a in item['authors']] == authors
    assert all(t['name'] for t in item['tags'])


def test_tag_filter_lists_exactly_the_tags_published_posts(site):
    items, _ = site.walk(tag='birds', limit=50)
    expected = site.count(
        "SELECT COUNT(*) FROM posts p JOIN post_tags x ON x.post_id = p.id "
        "JOIN tags t ON t.id = x.tag_id WHERE t.slug = 'birds' AND "
        "p.status = 'published' AND p.deleted_at IS NULL")
    assert len(items) == expected > 0
    assert all('birds' in [t['slug'] for t in i['tags']] for i in items)


def test_author_filter_lists_exactly_the_authors_published_posts(site):
    items, _ = site.walk(author='priya-natarajan', limit=50)
    expected = site.count(
        "SELECT COUNT(*) FROM posts p JOIN post_authors y ON y.post_id = "
        "p.id JOIN users u ON u.id = y.user_id WHERE u.slug = "
        "'priya-natarajan' AND p.status = 'published' AND p.deleted_at "
        "IS NULL")
    assert len(items) == expected > 0
    assert all('priya-natarajan' in [a['slug'] for a in i['authors']]
               for i in items)


def test_visibility_filter(site):
    items, _ = site.walk(visibility='paid', limit=100)
    expected = site.count("SELECT COUNT(*) FROM posts WHERE visibility = "
                          "'paid' AND status = 'published' AND deleted_at "
                          "IS NULL")
    assert len(items) == expected > 0
    assert {i['visibility'] for i in items} == {'paid'}


def test_published_before_and_after_bound_the_list(site):
    now = datetime.now(timezone.utc)
    after = (now - timedelta(days=200)).strftime('%Y-%m-%dT%H:%M:%SZ')
    # The same instant, written with an offset.
    before = (now - timedelta(days=100)).astimezone(
        timezone(timedelta(hours=2))).strftime('%Y-%m-%dT%H:%M:%S+02:00')
    items, _ = site.walk(published_after=after, published_before=before,
                         limit=100)
    expected = site.count(
        "SELECT COUNT(*) FROM posts WHERE status = 'published' AND "
        "deleted_at IS NULL AND published_at > UTC_TIMESTAMP() - INTERVAL "
        "200 DAY AND published_at < UTC_TIMESTAMP() - INTERVAL 100 DAY")
    # A post may sit on a bound that moved by a second between the two.
    assert abs(len(items) - expected) <= 1 and expected > 0
    for i in items:
        assert after <= i['published_at'][:19] + 'Z'


# The paywall, reader by reader

@pytest.mark.parametrize('reader', READERS)
def test_list_access_and_bodies_follow_the_readers_class(site, reader):
    items, _ = site.walk(reader=reader, limit=100,
                         fields='slug,visibility,access,body_html')
    assert len(items) == DEMO_PUBLISHED + CRAFTED_PUBLISHED
    seen = set()
    for i in items:
        can = i['visibility'] in CAN_READ[reader]
        assert i['access'] is can, (reader, i)
        assert ('body_html' in i) is can, (reader, i)
        seen.add(i['visibility'])
    assert seen == {'public', 'members', 'paid', 'tiers'}


@pytest.mark.parametrize('reader', READERS)
def test_single_post_has_a_body_only_for_readers_with_access(site, reader):
    for vis in ('public', 'members', 'paid', 'tiers'):
        slug = site.rows("SELECT slug FROM posts WHERE status = "
                         f"'published' AND visibility = '{vis}' LIMIT 1")[0][0]
        post = site.ok(f'/v1/posts/{slug}', reader)
        can = vis in CAN_READ[reader]
        assert post['access'] is can
        assert ('body_html' in post) is can
        assert post['slug'] == slug and post['excerpt'] and post['title']
        if can:
            assert post['body_html'].startswith('<')


def gated_body_leaks(site, reader):
    """Every way a reader could reach the gated post's body text."""
    return [
        site.get('/v1/posts', reader, limit=100,
                 fields=','.join(LIST_FIELDS | {'body_html'})),
        site.get(f'/v1/posts/{GATED_SLUG}', reader),
        site.get(f'/v1/posts/{GATED_SLUG}', reader, fields='body_html'),
        site.get('/v1/tags/essays', reader, fields='slug,body_html'),
        site.get('/v1/tags/essays', reader),
        site.get('/v1/authors/ines-calloway', reader, fields='body_html'),
        site.get('/v1/search', reader, q=GATED_WORD),
        site.get('/v1/search', reader, q=f'harbour {GATED_WORD}'),
    ]


@pytest.mark.parametrize('reader', ['anonymous', 'free'])
def test_gated_body_text_reaches_no_reader_without_access(site, reader):
    for r in gated_body_leaks(site, reader):
        assert r.status_code == 200, r.text
        assert GATED_WORD not in r.text.lower(), (r.url, r.text[:500])
        assert 'body_md' not in r.text


@pytest.mark.parametrize('reader', ['anonymous', 'free'])
def test_search_finds_a_gated_post_but_snippets_only_its_metadata(
        site, reader):
    hits = site.ok('/v1/search', reader, q=GATED_WORD)['items']
    assert [h['slug'] for h in hits] == [GATED_SLUG]
    (hit,) = hits
    assert hit['access'] is False
    assert hit['title'] == 'A paid letter'
    assert 'A paid letter' in hit['snippet']
    assert '<mark>' not in hit['snippet']


@pytest.mark.parametrize('reader', ['monthly', 'yearly', 'staff'])
def test_readers_with_access_get_the_gated_body_and_a_marked_snippet(
        site, reader):
    post = site.ok(f'/v1/posts/{GATED_SLUG}', reader)
    assert post['access'] is True and GATED_WORD in post['body_html']
    (hit,) = site.ok('/v1/search', reader, q=GATED_WORD)['items']
    assert hit['access'] is True
    assert f'<mark>{GATED_WORD}</mark>' in hit['snippet']
    assert '<p>' not in hit['snippet']


def test_tag_and_author_pages_show_the_gated_post_without_its_body(site):
    for path in ('/v1/tags/essays', '/v1/authors/ines-calloway'):
        items = site.ok(path, fields='slug,access,body_html')['items']
        gated = [i for i in items if i['slug'] == GATED_SLUG]
        assert gated == [{'slug': GATED_SLUG, 'access': False}], path


# Posts the public never sees

@pytest.mark.parametrize('reader', ['anonymous', 'staff'])
def test_drafts_scheduled_archived_and_deleted_posts_are_404(site, reader):
    for slug in HIDDEN.values():
        body = assert_problem(site.get(f'/v1/posts/{slug}', reader), 404)
        missing = assert_problem(site.get('/v1/posts/never-was', reader),
                                 404)
        assert body['type'] == missing['type']
        assert body['title'] == missing['title']
    assert site.ok('/v1/search', reader, q=HIDDEN_WORD)['items'] == []
    items, _ = site.walk(reader=reader, limit=100, fields='slug')
    assert not {i['slug'] for i in items} & set(HIDDEN.values())


# Tags and authors

def test_tags_list_counts_published_posts_of_each_tag(site):
    items = site.ok('/v1/tags')['items']
    counts = dict(site.rows(
        "SELECT t.slug, COUNT(p.id) FROM tags t LEFT JOIN post_tags x ON "
        "x.tag_id = t.id LEFT JOIN posts p ON p.id = x.post_id AND "
        "p.status = 'published' AND p.deleted_at IS NULL GROUP BY t.id"))
    assert {i['slug']: i['count'] for i in items} == {
        k: int(v) for k, v in counts.items()}
    assert all(i['name'] for i in items)


def test_tag_page_has_the_tag_and_pages_of_its_posts(site):
    body = site.ok('/v1/tags/birds', limit=5)
    assert body['tag']['slug'] == 'birds' and body['tag']['name'] == 'Birds'
    assert len(body['items']) == 5 and body['next_cursor']
    items, _ = site.walk('/v1/tags/birds', limit=5)
    assert len(items) == body['tag']['count']
    listed, _ = site.walk(tag='birds', limit=100)
    assert [i['id'] for i in items] == [i['id'] for i in listed]


def test_author_page_has_name_bio_slug_and_posts(site):
    body = site.ok('/v1/authors/priya-natarajan')
    assert body['author']['slug'] == 'priya-natarajan'
    assert body['author']['name'] == 'Priya Natarajan'
    assert body['author']['bio']
    assert 'email' not in body['author']
    assert body['items'] and all(
        'priya-natarajan' in [a['slug'] for a in i['authors']]
        for i in body['items'])


def test_unknown_tags_and_authors_and_members_are_404(site):
    assert_problem(site.get('/v1/tags/no-such-tag'), 404)
    assert_problem(site.get('/v1/authors/no-such-author'), 404)
    assert_problem(site.get('/v1/authors/hannah-brooks'), 404)


# Search

def test_search_ranks_a_title_match_above_a_body_match(site):
    hits = site.ok('/v1/search', q=RANK_WORD)['items']
    assert [h['slug'] for h in hits] == ['rank-in-title', 'rank-in-body']
    assert f'<mark>{RANK_WORD}</mark>' in hits[0]['snippet']
    assert f'<mark>{RANK_WORD}</mark>' in hits[1]['snippet']
    assert set(hits[0]) == {'id', 'slug', 'title', 'excerpt',
                            'published_at', 'visibility', 'access',
                            'snippet'}


def test_search_results_are_published_relevant_and_limited(site):
    hits = site.ok('/v1/search', q='heron lighthouse', limit=50)['items']
    assert 0 < len(hits) <= 50
    assert len({h['slug'] for h in hits}) == len(hits)
    assert len(site.ok('/v1/search', q='heron', limit=3)['items']) == 3


def test_search_snippets_escape_html_around_the_marks(site):
    (hit,) = site.ok('/v1/search', q='quirkmoss')['items']
    assert hit['snippet'] == '<mark>quirkmoss</mark> &amp; &lt;i&gt;'


@pytest.mark.parametrize('params', [
    {}, {'q': ''}, {'q': 'x' * 201}, {'q': 'heron', 'limit': '51'},
    {'q': 'heron', 'limit': '0'},
])
def test_bad_search_parameters_are_400(site, params):
    assert_problem(site.get('/v1/search', **params), 400)


def test_search_accepts_200_characters(site):
    q = ('heron ' * 40)[:200]
    assert site.get('/v1/search', q=q).status_code == 200


# Caching

@pytest.mark.parametrize('path', ['/v1/posts', '/v1/tags', '/v1/tags/birds',
                                  '/v1/authors/ines-calloway',
                                  '/v1/search?q=heron',
                                  f'/v1/posts/{GATED_SLUG}'])
def test_responses_are_public_vary_on_authorization_and_identical(
        site, path):
    a = site.get(path)
    b = site.get(path)
    assert a.status_code == 200, a.text
    assert a.headers['Cache-Control'].startswith('public, ')
    assert 'Authorization' in a.headers['Vary']
    assert a.content == b.content
