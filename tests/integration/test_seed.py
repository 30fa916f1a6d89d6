"""jamb seed: the demo site (its documented counts, slugs, authors, safe
HTML, the shared password, one transaction, refusal on a database that
has data, the same content every run) and bulk posts for benchmarks
(counts, unique slugs across runs, rejected counts).

Each database here is made for the test module by CREATE DATABASE,
migrated with `jamb migrate up` and named by JAMB_DB_NAME; the session
stack's config supplies everything else."""

import re
import secrets
from datetime import datetime, timedelta

import pytest

from support import output, run_jamb

try:
    import argon2
except ImportError:  # python3-argon2 is in tools/dev's package list
    argon2 = None

USERS = ("'jamb'@'127.0.0.1'", "'jamb'@'localhost'")
SIGN_IN = re.compile(r'^sign in as owner@demo\.jamb\.test with password '
                     r'(.+)$', re.MULTILINE)
SLUG = re.compile(r'^[a-z0-9]+(-[a-z0-9]+)*$')


class Database:
    """A migrated, empty database of the session's MariaDB."""

    def __init__(self, stack):
        self.stack = stack
        self.name = f'jamb_seed_{secrets.token_hex(6)}'
        self.env = {'JAMB_DB_NAME': self.name}
        grants = ''.join(f'GRANT ALL PRIVILEGES ON {self.name}.* TO {u};'
                         for u in USERS)
        stack.mysql(f'CREATE DATABASE {self.name} CHARACTER SET utf8mb4 '
                    f'COLLATE utf8mb4_unicode_ci;{grants}')
        proc = self.jamb('migrate', 'up')
        assert proc.returncode == 0, output(proc)

    def jamb(self, *args, timeout=60):
        return run_jamb(self.stack, [*args, '-c', self.stack.conf_path],
                        env=self.env, timeout=timeout)

    def seed(self, *args, timeout=120):
        return self.jamb('seed', *args, timeout=timeout)

    def rows(self, sql):
        """Rows as lists of strings (NULL as None)."""
        out = self.stack.mysql(sql, database=self.name)
        return [[None if v == 'NULL' else v for v in line.split('\t')]
                for line in out.splitlines()]

    def value(self, sql):
        return self.rows(sql)[0][0]

    def count(self, sql):
        return int(self.value(sql))

    def counts(self):
        """Rows of every table seed writes, to see that nothing changed."""
        tables = ('users', 'tiers', 'subscriptions', 'tags', 'posts',
                  'post_authors', 'post_tags', 'post_tiers',
                  'post_revisions')
        return {t: self.count(f'SELECT COUNT(*) FROM {t}') for t in tables}

    def drop(self):
        self.stack.mysql(f'DROP DATABASE IF EXISTS {self.name}')


@pytest.fixture(scope='module')
def databases(stack):
    made = []

    def make():
        db = Database(stack)
        made.append(db)
        return db

    try:
        yield make
    finally:
        for db in made:
            db.drop()


@pytest.fixture(scope='module')
def demo(databases):
    """A database with the demo site, the output of `jamb seed demo` and
    the password it printed."""
    db = databases()
    proc = db.seed('demo')
    text = output(proc)
    assert proc.returncode == 0, text
    found = SIGN_IN.search(proc.stdout.decode())
    assert found, text
    return db, text, found.group(1)


def db_now(db):
    return datetime.strptime(db.value('SELECT UTC_TIMESTAMP()'),
                             '%Y-%m-%d %H:%M:%S')


def as_time(text):
    return datetime.strptime(text[:19], '%Y-%m-%d %H:%M:%S')


def test_demo_creates_one_owner_editor_author_and_eight_members(demo):
    db, _, _ = demo
    roles = dict(db.rows('SELECT role, COUNT(*) FROM users GROUP BY role'))
    assert roles == {'owner': '1', 'editor': '1', 'author': '1',
                     'member': '8'}
    owner = db.rows("SELECT email, role, email_verified_at FROM users "
                    "WHERE email = 'owner@demo.jamb.test'")
    assert owner and owner[0][1] == 'owner' and owner[0][2] is not None
    emails = [r[0] for r in db.rows('SELECT email FROM users')]
    assert all(e.endswith('@demo.jamb.test') for e in emails), emails


def test_demo_creates_a_free_and_two_paid_tiers_in_euro_cents(demo):
    db, _, _ = demo
    tiers = db.rows('SELECT slug, name, kind, currency, monthly_amount, '
                    'yearly_amount FROM tiers ORDER BY position')
    assert len(tiers) == 3
    assert tiers[0][2] == 'free' and tiers[0][3] is None
    assert tiers[1] == ['supporter', 'Supporter', 'paid', 'EUR', '500',
                        '5000']
    assert tiers[2][2:4] == ['paid', 'EUR']
    assert int(tiers[2][4]) > 500 and int(tiers[2][5]) > 5000


def test_demo_gives_five_paying_members_active_stripe_subscriptions(demo):
    db, _, _ = demo
    subs = db.rows(
        'SELECT s.provider, s.provider_subscription_id, '
        's.provider_customer_id, u.stripe_customer_id, s.status, '
        's.billing_interval, s.current_period_end, u.role, t.kind '
        'FROM subscriptions s JOIN users u ON u.id = s.user_id '
        'JOIN tiers t ON t.id = s.tier_id')
    assert len(subs) == 5
    now = db_now(db)
    for (provider, sub, cus, user_cus, status, interval, end, role,
         kind) in subs:
        assert provider == 'stripe' and status == 'active'
        assert sub.startswith('sub_demo_') and cus.startswith('cus_demo_')
        assert cus == user_cus
        assert role == 'member' and kind == 'paid'
        assert as_time(end) > now
    intervals = sorted(s[5] for s in subs)
    assert intervals == ['month'] * 3 + ['year'] * 2
    assert db.count('SELECT COUNT(DISTINCT provider_subscription_id) '
                    'FROM subscriptions') == 5
    free = db.count("SELECT COUNT(*) FROM users u WHERE role = 'member' "
                    'AND NOT EXISTS (SELECT 1 FROM subscriptions s '
                    'WHERE s.user_id = u.id)')
    assert free == 3


def test_demo_creates_200_posts_with_the_documented_status_mix(demo):
    db, _, _ = demo
    status = dict(db.rows('SELECT status, COUNT(*) FROM posts '
                          'GROUP BY status'))
    assert status == {'published': '188', 'scheduled': '4', 'review': '3',
                      'draft': '5'}


def test_demo_dates_published_posts_over_two_years_and_schedules_ahead(
        demo):
    db, _, _ = demo
    now = db_now(db)
    published = [as_time(r[0]) for r in db.rows(
        "SELECT published_at FROM posts WHERE status = 'published'")]
    assert all(now - timedelta(days=731) <= t <= now for t in published)
    # Spread over the whole period, not bunched at one end.
    assert min(published) < now - timedelta(days=700)
    assert max(published) > now - timedelta(days=14)
    scheduled = db.rows("SELECT scheduled_at, published_at FROM posts "
                        "WHERE status = 'scheduled'")
    assert len(scheduled) == 4
    for at, pub in scheduled:
        assert pub is None
        assert now < as_time(at) < now + timedelta(days=7)
    assert db.count("SELECT COUNT(*) FROM posts WHERE status IN "
                    "('draft', 'review') AND (published_at IS NOT NULL "
                    "OR scheduled_at IS NOT NULL)") == 0


def test_demo_mixes_visibilities_and_links_tier_posts_to_a_tier(demo):
    db, _, _ = demo
    vis = dict(db.rows('SELECT visibility, COUNT(*) FROM posts '
                       'GROUP BY visibility'))
    assert vis == {'public': '140', 'members': '30', 'paid': '20',
                   'tiers': '10'}
    assert db.count("SELECT COUNT(*) FROM posts p WHERE visibility = "
                    "'tiers' AND NOT EXISTS (SELECT 1 FROM post_tiers t "
                    "WHERE t.post_id = p.id)") == 0
    assert db.count("SELECT COUNT(*) FROM post_tiers t JOIN posts p ON "
                    "p.id = t.post_id WHERE p.visibility <> 'tiers'") == 0


def test_demo_tags_every_post_with_one_to_three_of_ten_to_fifteen_tags(
        demo):
    db, _, _ = demo
    assert 10 <= db.count('SELECT COUNT(*) FROM tags') <= 15
    per_post = db.rows('SELECT p.id, COUNT(t.tag_id) FROM posts p LEFT '
                       'JOIN post_tags t ON t.post_id = p.id GROUP BY p.id')
    assert len(per_post) == 200
    assert all(1 <= int(n) <= 3 for _, n in per_post), per_post


def test_demo_slugs_are_unique_lowercase_ascii_words(demo):
    db, _, _ = demo
    slugs = [r[0] for r in db.rows('SELECT slug FROM posts')]
    assert len(slugs) == 200 == len(set(slugs))
    bad = [s for s in slugs if not SLUG.match(s)]
    assert not bad, bad


def test_demo_posts_have_authors_and_safe_rendered_bodies(demo):
    db, _, _ = demo
    assert db.count('SELECT COUNT(*) FROM posts p WHERE NOT EXISTS '
                    '(SELECT 1 FROM post_authors a WHERE a.post_id = '
                    'p.id)') == 0
    # created_by is the first author.
    assert db.count('SELECT COUNT(*) FROM posts p JOIN post_authors a ON '
                    'a.post_id = p.id AND a.position = 0 WHERE '
                    'a.user_id <> p.created_by') == 0
    assert db.count("SELECT COUNT(*) FROM post_authors a JOIN users u ON "
                    "u.id = a.user_id WHERE u.role = 'member'") == 0
    assert db.count("SELECT COUNT(*) FROM posts WHERE body_html = '' OR "
                    "excerpt = '' OR body_html LIKE '%<script%' OR "
                    "body_html LIKE '%href=\"javascript:%'") == 0
    # The Markdown's heading, list and link reach the HTML.
    for tag in ('<h2>', '<ul>', '<a href="https://'):
        assert db.count(f"SELECT COUNT(*) FROM posts WHERE body_html "
                        f"LIKE '%{tag}%'") == 200, tag
    lengths = [int(r[0]) for r in db.rows(
        'SELECT LENGTH(body_md) FROM posts')]
    assert max(lengths) > 2 * min(lengths)


def test_demo_records_one_revision_per_post_with_its_text(demo):
    db, _, _ = demo
    assert db.count('SELECT COUNT(*) FROM post_revisions') == 200
    assert db.count('SELECT COUNT(*) FROM posts p JOIN post_revisions r '
                    'ON r.post_id = p.id WHERE r.post_version = 1 AND '
                    'r.title = p.title AND r.body_md = p.body_md AND '
                    'r.excerpt = p.excerpt') == 200


def test_demo_prints_the_counts_and_a_password_every_account_shares(
        demo, stack):
    db, text, password = demo
    assert '200 posts' in text and '11 users' in text, text
    assert len(password) == 16 and password.isalnum(), password
    hashes = {r[0] for r in db.rows('SELECT password_hash FROM users')}
    assert len(hashes) == 1
    (hashed,) = hashes
    # Hashed with the configured parameters (the test stack lowers the
    # memory cost to keep the suite fast).
    auth = stack.config()['auth']
    assert hashed.startswith(
        f"$argon2id$v=19$m={auth['argon2_memory_kib']},"
        f"t={auth.get('argon2_iterations', 2)},"
        f"p={auth.get('argon2_parallelism', 1)}$")


@pytest.mark.skipif(argon2 is None, reason='python3-argon2 is missing')
def test_demo_password_verifies_against_the_stored_argon2id_hash(demo):
    db, _, password = demo
    hashed = db.value("SELECT password_hash FROM users "
                      "WHERE email = 'owner@demo.jamb.test'")
    hasher = argon2.PasswordHasher()
    assert hasher.verify(hashed, password)
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        hasher.verify(hashed, password + 'x')


def test_demo_refuses_a_database_with_data_and_changes_nothing(demo):
    db, _, _ = demo
    before = db.counts()
    proc = db.seed('demo')
    text = output(proc)
    assert proc.returncode == 1, text
    assert 'empty database' in text and 'sign in' not in text, text
    assert db.counts() == before


def test_demo_with_a_given_password_makes_the_same_site(demo, databases):
    db, _, _ = demo
    other = databases()
    proc = other.seed('demo', '--password', 'tide and time')
    assert proc.returncode == 0, output(proc)
    assert 'with password tide and time' in output(proc)
    sql = ('SELECT slug, title, excerpt, body_md, body_html, status, '
           'visibility FROM posts ORDER BY id')
    assert other.rows(sql) == db.rows(sql)
    tags = ('SELECT p.slug, t.slug FROM post_tags x JOIN posts p ON p.id = '
            'x.post_id JOIN tags t ON t.id = x.tag_id ORDER BY 1, 2')
    assert other.rows(tags) == db.rows(tags)
    if argon2 is not None:
        hashed = other.value("SELECT password_hash FROM users "
                             "WHERE email = 'owner@demo.jamb.test'")
        assert argon2.PasswordHasher().verify(hashed, 'tide and time')


def test_demo_that_fails_midway_leaves_nothing_behind(databases):
    db = databases()
    # A tag the demo wants to create already exists: its insert fails
    # after the users, tiers and subscriptions went in.
    db.stack.mysql("INSERT INTO tags (slug, name) VALUES ('birds', 'B')",
                   database=db.name)
    proc = db.seed('demo')
    text = output(proc)
    assert proc.returncode == 1, text
    assert 'nothing was loaded' in text, text
    counts = db.counts()
    assert counts.pop('tags') == 1
    assert set(counts.values()) == {0}, counts


def test_demo_refuses_an_empty_password(databases):
    db = databases()
    proc = db.seed('demo', '--password', '')
    assert proc.returncode == 2, output(proc)
    assert db.count('SELECT COUNT(*) FROM users') == 0


@pytest.fixture(scope='module')
def bulk(databases):
    """A demo database (for authors and tags) plus two bulk runs of
    20,000 posts; returns the database and both runs' output."""
    db = databases()
    assert db.seed('demo').returncode == 0
    runs = []
    for _ in range(2):
        proc = db.seed('bulk', '20000', timeout=180)
        assert proc.returncode == 0, output(proc)
        runs.append(output(proc))
    return db, runs


def test_bulk_twice_adds_40000_posts_with_unique_numbered_slugs(bulk):
    db, runs = bulk
    assert 'bulk-1 to bulk-20000' in runs[0], runs[0]
    assert 'bulk-20001 to bulk-40000' in runs[1], runs[1]
    assert 'posts/s' in runs[1]
    assert db.count("SELECT COUNT(*) FROM posts WHERE slug LIKE "
                    "'bulk-%'") == 40000
    assert db.count('SELECT COUNT(*) FROM posts') == 40200
    assert db.count("SELECT COUNT(DISTINCT slug) FROM posts") == 40200
    numbers = db.rows("SELECT MIN(CAST(SUBSTRING(slug, 6) AS UNSIGNED)), "
                      "MAX(CAST(SUBSTRING(slug, 6) AS UNSIGNED)) FROM posts "
                      "WHERE slug LIKE 'bulk-%'")
    assert numbers == [['1', '40000']]


def test_bulk_posts_are_published_over_five_years_mostly_public(bulk):
    db, _ = bulk
    now = db_now(db)
    rows = db.rows("SELECT status, MIN(published_at), MAX(published_at) "
                   "FROM posts WHERE slug LIKE 'bulk-%' GROUP BY status")
    assert len(rows) == 1 and rows[0][0] == 'published', rows
    assert as_time(rows[0][1]) >= now - timedelta(days=5 * 366)
    assert as_time(rows[0][1]) < now - timedelta(days=4 * 365)
    assert as_time(rows[0][2]) <= now
    public = db.count("SELECT COUNT(*) FROM posts WHERE slug LIKE "
                      "'bulk-%' AND visibility = 'public'")
    assert public > 40000 * 0.7
    assert db.count("SELECT COUNT(*) FROM posts WHERE slug LIKE 'bulk-%' "
                    "AND visibility = 'tiers'") == 0


def test_bulk_posts_have_short_rendered_bodies_authors_and_tags(bulk):
    db, _ = bulk
    (low, high, unsafe, empty), = db.rows(
        "SELECT MIN(LENGTH(body_md)), MAX(LENGTH(body_md)), "
        "SUM(body_html LIKE '%<script%'), SUM(body_html NOT LIKE '<%') "
        "FROM posts WHERE slug LIKE 'bulk-%'")
    assert 250 <= int(low) and int(high) <= 700, (low, high)
    assert unsafe == '0' and empty == '0'
    assert db.count("SELECT COUNT(*) FROM posts p WHERE slug LIKE 'bulk-%' "
                    "AND NOT EXISTS (SELECT 1 FROM post_authors a WHERE "
                    "a.post_id = p.id AND a.user_id = p.created_by)") == 0
    assert db.count("SELECT COUNT(*) FROM posts p WHERE slug LIKE 'bulk-%' "
                    "AND NOT EXISTS (SELECT 1 FROM post_tags t WHERE "
                    "t.post_id = p.id)") == 0


@pytest.mark.parametrize('count', ['0', '-3', 'abc', '12x', '', '1e3',
                                   '100000001'])
def test_bulk_rejects_a_count_that_is_not_a_positive_number(
        bulk, count):
    db, _ = bulk
    before = db.count('SELECT COUNT(*) FROM posts')
    proc = db.seed('bulk', count)
    text = output(proc)
    assert proc.returncode == 2, text
    assert 'whole number' in text, text
    assert db.count('SELECT COUNT(*) FROM posts') == before
