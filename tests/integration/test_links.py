"""Links sent by email: sign-in by link (and signup by link), address
verification and password reset.  Each test's pool has a background
process that delivers the outbox to a real SMTP server (aiosmtpd), and
the tests follow the links found in the delivered messages.

Requests for links never tell whether an address has an account; tokens
are single use, expire, and work only for their purpose; requests are
limited per address and per client."""

import email.header
import hashlib
import re
import secrets
import smtplib
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import (REPO, Inbox, assert_problem, get, jobs_conf, output,
                     request, run_jamb, stackmod, wait_for, write_conf)

MAGIC_LINK = '/v1/auth/magic-link'
MAGIC_VERIFY = '/v1/auth/magic-link/verify'
VERIFY_REQUEST = '/v1/me/email/verify'
VERIFY_EMAIL = '/v1/auth/verify-email'
RESET = '/v1/auth/password-reset'
RESET_CONFIRM = '/v1/auth/password-reset/confirm'
PASSWORD = 'correct horse battery'
NEW_PASSWORD = 'a new and longer passphrase'
SITE = 'Kite Club'
ACCEPTED = {'status': 'accepted'}
LINK = re.compile(r'(http\S+[?&]token=([0-9a-f]{64})\S*)')
INVALID_TOKEN = 'Bearer realm="jamb", error="invalid_token"'

# Workers of the module's pool, all busy in the concurrency test.
WORKERS = 6

# A message that should not come has had this long to arrive; the pools
# look for work every 100 ms.
QUIET_SECONDS = 1.5


def new_email(tag='link'):
    return f'{tag}-{secrets.token_hex(6)}@example.com'


def post(url, path, body, headers=None):
    return request('POST', url + path, json=body, headers=headers)


def bearer(token):
    return {'Authorization': f'Bearer {token}'}


def signup_and_login(url, email, password=PASSWORD):
    r = post(url, '/v1/auth/signup', {'email': email, 'password': password})
    assert r.status_code == 202, r.text
    r = post(url, '/v1/auth/login', {'email': email, 'password': password})
    assert r.status_code == 200, r.text
    return r.json()


def sql(stack, query):
    out = stack.mysql(query, database=stack.config()['db']['name'])
    return [[None if v == 'NULL' else v for v in line.split('\t')]
            for line in out.splitlines()]


def subject(msg):
    return str(email.header.make_header(email.header.decode_header(
        msg['Subject'])))


def body(msg):
    return msg.get_payload(decode=True).decode('utf-8')


def mail_to(inbox, address, count=1, seconds=15):
    """The first COUNT messages delivered to ADDRESS, waiting for them."""
    got = wait_for(lambda: len(inbox.to(address)) >= count, seconds)
    assert got, f'{count} message(s) to {address} did not arrive'
    return inbox.to(address)[:count]


def link_in(msg):
    """(whole link, token) of the one link in a message."""
    found = LINK.findall(body(msg))
    assert len(found) == 1, body(msg)
    return found[0]


def request_link(url, inbox, address, path=MAGIC_LINK, count=1, **extra):
    """Ask for a link to ADDRESS and return its token once delivered."""
    r = post(url, path, {'email': address, **extra})
    assert r.status_code == 202, r.text
    return link_in(mail_to(inbox, address, count)[-1])[1]


def unique_prefix():
    """A memcached prefix of its own, so that counters start at zero."""
    return f'jamb:links-{secrets.token_hex(4)}:'


class Site:
    def __init__(self, pool, inbox):
        self.pool = pool
        self.url = pool.url
        self.inbox = inbox


@pytest.fixture(scope='module')
def inbox():
    """The one SMTP server of this module.  Every pool here that
    delivers mail sends it there: the background processes of all pools
    claim from the same outbox, so a message may leave through any of
    them.  Tests use new addresses and look only at their own mail."""
    box = Inbox().start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope='module')
def site(stack, inbox):
    """A pool of the module's own, with a site name and a ten-minute
    link lifetime."""
    conf = jobs_conf(inbox.port)
    conf['auth'] = {'site_name': SITE, 'magic_link_ttl': 600}
    conf['server'] = {'workers': WORKERS}
    pool = stack.pool(f'links-{secrets.token_hex(3)}', conf=conf)
    try:
        yield Site(pool, inbox)
    finally:
        pool.stop()


@pytest.fixture
def own_site(make_pool, inbox):
    """own_site(auth=None, **sections): a pool of the test's own with
    fresh counters, AUTH keys and other SECTIONS of configuration."""
    def make(auth=None, **sections):
        conf = stackmod.merge_conf(jobs_conf(inbox.port), {
            'cache': {'prefix': unique_prefix()}, 'auth': auth or {}},
            sections)
        return Site(make_pool(conf=conf), inbox)

    return make


# Sign-in by link

def test_sign_in_link_is_emailed_from_the_template_and_signs_in(site, stack):
    address = new_email()
    signup_and_login(site.url, address)
    r = post(site.url, MAGIC_LINK, {'email': address.upper(),
                                    'redirect': '/members/post?id=7'})
    assert r.status_code == 202, r.text
    assert r.json() == ACCEPTED

    msg, = mail_to(site.inbox, address)
    assert subject(msg) == f'Your sign-in link for {SITE}'
    assert msg['To'] == f'<{address}>'
    assert 'expires in 10 minutes' in body(msg)
    link, token = link_in(msg)
    assert link == ('http://localhost:3000/auth/callback?token=' + token +
                    '&redirect=/members/post%3Fid%3D7')
    # Only the token's SHA-256 is kept.
    rows = sql(stack, f"SELECT purpose, HEX(token_hash), used_at FROM "
               f"magic_links WHERE email = '{address}'")
    assert rows == [['login', hashlib.sha256(token.encode()).hexdigest()
                     .upper(), None]]

    r = post(site.url, MAGIC_VERIFY, {'token': token})
    assert r.status_code == 200, r.text
    assert r.headers['Cache-Control'] == 'no-store'
    tokens = r.json()
    assert set(tokens) == {'access_token', 'token_type', 'expires_in',
                           'refresh_token', 'user'}
    assert tokens['user']['email'] == address
    r = get(site.url + '/v1/me', headers=bearer(tokens['access_token']))
    assert r.status_code == 200, r.text
    assert r.json()['email'] == address
    # Following the link proved the address.
    assert r.json()['email_verified'] is True
    r = post(site.url, '/v1/auth/refresh',
             {'refresh_token': tokens['refresh_token']})
    assert r.status_code == 200, r.text
    assert sql(stack, f"SELECT used_at IS NOT NULL FROM magic_links WHERE "
               f"email = '{address}'") == [['1']]


def test_sign_up_by_link_creates_a_verified_member_without_password(
        site, stack):
    address = new_email('newcomer')
    token = request_link(site.url, site.inbox, address)
    assert sql(stack, f"SELECT COUNT(*) FROM users WHERE email = "
               f"'{address}'") == [['0']]
    r = post(site.url, MAGIC_VERIFY, {'token': token})
    assert r.status_code == 200, r.text
    user = r.json()['user']
    assert user['email'] == address and user['role'] == 'member'
    rows = sql(stack, f"SELECT id, password_hash, email_verified_at IS NOT "
               f"NULL FROM users WHERE email = '{address}'")
    assert rows == [[str(user['id']), None, '1']]


def test_an_account_made_after_the_link_was_sent_is_the_one_signed_in(
        site, stack):
    address = new_email('meanwhile')
    token = request_link(site.url, site.inbox, address)
    signed = signup_and_login(site.url, address)
    r = post(site.url, MAGIC_VERIFY, {'token': token})
    assert r.status_code == 200, r.text
    assert r.json()['user']['id'] == signed['user']['id']
    assert sql(stack, f"SELECT COUNT(*) FROM users WHERE email = "
               f"'{address}'") == [['1']]


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_mail_without_signup(  # noqa: E501
        own_site, stack):
    s = own_site(auth={'magic_link_signup': False})
    known, unknown = new_email('known'), new_email('unknown')
    signup_and_login(s.url, known)
    answers = [post(s.url, MAGIC_LINK, {'email': a})
               for a in (known, unknown)]
    assert [r.status_code for r in answers] == [202, 202]
    assert answers[0].json() == answers[1].json() == ACCEPTED
    assert (answers[0].headers['Content-Type'] ==
            answers[1].headers['Content-Type'])
    mail_to(s.inbox, known)
    time.sleep(QUIET_SECONDS)
    assert s.inbox.to(unknown) == []
    assert sql(stack, f"SELECT COUNT(*) FROM magic_links WHERE email = "
               f"'{unknown}'") == [['0']]
    assert sql(stack, f"SELECT COUNT(*) FROM outbox WHERE payload LIKE "
               f"'%{unknown}%'") == [['0']]


def test_a_signup_link_sent_before_signup_was_turned_off_creates_nobody(
        site, make_pool, stack):
    address = new_email('late')
    token = request_link(site.url, site.inbox, address)
    # A pool on the same database, configured without signup by link.
    closed = make_pool(conf={'auth': {'magic_link_signup': False}})
    r = post(closed.url, MAGIC_VERIFY, {'token': token})
    assert_problem(r, 401)
    assert sql(stack, f"SELECT COUNT(*) FROM users WHERE email = "
               f"'{address}'") == [['0']]


def test_a_used_token_cannot_sign_in_again(site):
    token = request_link(site.url, site.inbox, new_email())
    assert post(site.url, MAGIC_VERIFY, {'token': token}).status_code == 200
    r = post(site.url, MAGIC_VERIFY, {'token': token})
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == INVALID_TOKEN


def test_an_expired_token_is_401(site, stack):
    address = new_email()
    token = request_link(site.url, site.inbox, address)
    stack.mysql(f"UPDATE magic_links SET expires_at = UTC_TIMESTAMP(6) - "
                f"INTERVAL 1 SECOND WHERE email = '{address}'",
                database='jamb')
    r = post(site.url, MAGIC_VERIFY, {'token': token})
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == INVALID_TOKEN


@pytest.mark.parametrize('token', ['0' * 64, secrets.token_hex(32),
                                   'A' * 64, 'short', 'z' * 64, ''])
def test_a_made_up_token_is_401(site, token):
    r = post(site.url, MAGIC_VERIFY, {'token': token})
    assert_problem(r, 401)
    assert r.headers['WWW-Authenticate'] == INVALID_TOKEN


@pytest.mark.parametrize('payload,field', [
    ({}, 'token'), ({'token': 7}, 'token'),
    ({'token': '0' * 64, 'extra': 1}, 'extra')])
def test_a_malformed_verify_body_is_422_naming_the_field(site, payload,
                                                          field):
    body_ = assert_problem(post(site.url, MAGIC_VERIFY, payload), 422)
    assert body_['field'] == field


def test_concurrent_uses_of_one_token_sign_in_once(site):
    # Several rounds, all workers at once: a use that does not lock the
    # link's row lets two of them through in most rounds.
    for _ in range(5):
        token = request_link(site.url, site.inbox, new_email())
        start = threading.Barrier(WORKERS)

        def verify(_):
            start.wait()
            return post(site.url, MAGIC_VERIFY, {
                'token': token}).status_code

        with ThreadPoolExecutor(WORKERS) as ex:
            statuses = sorted(ex.map(verify, range(WORKERS)))
        assert statuses == [200] + [401] * (WORKERS - 1)


def test_a_link_works_only_for_its_own_purpose(site):
    address = new_email()
    signup_and_login(site.url, address)
    login_token = request_link(site.url, site.inbox, address)
    reset_token = request_link(site.url, site.inbox, address, path=RESET,
                               count=2)
    assert_problem(post(site.url, VERIFY_EMAIL, {'token': login_token}), 401)
    assert_problem(post(site.url, RESET_CONFIRM, {
        'token': login_token, 'new_password': NEW_PASSWORD}), 401)
    assert_problem(post(site.url, MAGIC_VERIFY, {'token': reset_token}), 401)
    # Refused elsewhere, each still works where it belongs.
    assert post(site.url, MAGIC_VERIFY, {
        'token': login_token}).status_code == 200
    assert post(site.url, RESET_CONFIRM, {
        'token': reset_token, 'new_password': NEW_PASSWORD}).status_code == 204


@pytest.mark.parametrize('redirect', [
    'https://evil.example/', '//evil.example', '/\\evil.example',
    'relative/path', '/a b', '/x\r\nSet-Cookie: a=b', 7])
def test_a_redirect_that_is_not_a_path_of_the_site_is_422(site, redirect):
    r = post(site.url, MAGIC_LINK, {'email': new_email(),
                                    'redirect': redirect})
    assert assert_problem(r, 422)['field'] == 'redirect'


# Limits

def test_link_requests_are_limited_per_address_whether_or_not_it_has_an_account(  # noqa: E501
        own_site):
    s = own_site(auth={'link_requests_per_email': 2,
                       'link_request_window': 3600})
    known, unknown = new_email('known'), new_email('unknown')
    signup_and_login(s.url, known)
    # The windows are aligned to the clock: keep clear of an edge.
    left = 3600 - time.time() % 3600
    if left < 10:
        time.sleep(left + 0.5)
    refusals = []
    for address in (known, unknown):
        answers = [post(s.url, MAGIC_LINK, {'email': address})
                   for _ in range(3)]
        assert [r.status_code for r in answers] == [202, 202, 429]
        problem = assert_problem(answers[2], 429)
        # The same problem, but for the seconds left.
        problem['detail'] = re.sub(r'\d+', 'N', problem['detail'])
        refusals.append({k: v for k, v in problem.items()
                         if k != 'instance'})
        retry = int(answers[2].headers['Retry-After'])
        assert 1 <= retry <= 3600
    assert refusals[0] == refusals[1]
    # Password resets count against the same addresses.
    assert_problem(post(s.url, RESET, {'email': known}), 429)
    # The refused requests sent nothing.
    mail_to(s.inbox, known, 2)
    time.sleep(QUIET_SECONDS)
    assert len(s.inbox.to(known)) == 2
    # Another address is not affected.
    assert post(s.url, MAGIC_LINK, {
        'email': new_email()}).status_code == 202


def test_link_requests_are_limited_per_client(own_site):
    s = own_site(auth={'link_requests_per_client': 3,
                       'link_request_window': 3600})
    left = 3600 - time.time() % 3600
    if left < 10:
        time.sleep(left + 0.5)
    statuses = [post(s.url, path, {'email': new_email()}).status_code
                for path in (MAGIC_LINK, RESET, MAGIC_LINK, RESET,
                             MAGIC_LINK)]
    assert statuses == [202, 202, 202, 429, 429]
    r = post(s.url, MAGIC_LINK, {'email': new_email()})
    assert_problem(r, 429)
    assert 1 <= int(r.headers['Retry-After']) <= 3600


def test_without_memcached_the_database_caps_links_per_address(own_site,
                                                               stack):
    dead = f'127.0.0.1:{stackmod.free_port()}'
    s = own_site(auth={'link_requests_per_email': 2},
                 cache={'servers': dead, 'timeout_ms': 100})
    address = new_email('capped')
    statuses = [post(s.url, MAGIC_LINK, {'email': address}).status_code
                for _ in range(4)]
    assert statuses == [202] * 4
    mail_to(s.inbox, address, 2)
    time.sleep(QUIET_SECONDS)
    assert len(s.inbox.to(address)) == 2
    assert sql(stack, f"SELECT COUNT(*) FROM magic_links WHERE email = "
               f"'{address}'") == [['2']]


# Email verification

def test_email_verification_link_marks_the_address_verified(site, stack):
    address = new_email('verify')
    tokens = signup_and_login(site.url, address)
    auth = bearer(tokens['access_token'])
    r = get(site.url + '/v1/me', headers=auth)
    assert r.json()['email_verified'] is False

    r = post(site.url, VERIFY_REQUEST, None, headers=auth)
    assert r.status_code == 202, r.text
    assert r.json() == ACCEPTED
    msg, = mail_to(site.inbox, address)
    assert subject(msg) == f'Confirm your email address for {SITE}'
    link, token = link_in(msg)
    assert link == f'http://localhost:3000/auth/verify-email?token={token}'

    r = post(site.url, VERIFY_EMAIL, {'token': token})
    assert r.status_code == 204, r.text
    r = get(site.url + '/v1/me', headers=auth)
    assert r.json()['email_verified'] is True
    assert_problem(post(site.url, VERIFY_EMAIL, {'token': token}), 401)
    # Nothing left to verify.
    assert_problem(post(site.url, VERIFY_REQUEST, None, headers=auth), 409)


def test_asking_for_a_verification_link_needs_a_signed_in_member(site):
    assert_problem(post(site.url, VERIFY_REQUEST, None), 401)


# Password reset

def test_password_reset_sets_the_password_and_signs_out_everywhere(
        site, stack):
    address = new_email('reset')
    first = signup_and_login(site.url, address)
    second = post(site.url, '/v1/auth/login', {
        'email': address, 'password': PASSWORD}).json()

    r = post(site.url, RESET, {'email': address})
    assert r.status_code == 202, r.text
    assert r.json() == ACCEPTED
    msg, = mail_to(site.inbox, address)
    assert subject(msg) == f'Reset your {SITE} password'
    link, token = link_in(msg)
    assert link == f'http://localhost:3000/auth/reset-password?token={token}'

    r = post(site.url, RESET_CONFIRM, {'token': token,
                                       'new_password': NEW_PASSWORD})
    assert r.status_code == 204, r.text
    old = post(site.url, '/v1/auth/login', {'email': address,
                                            'password': PASSWORD})
    assert_problem(old, 401)
    new = post(site.url, '/v1/auth/login', {'email': address,
                                            'password': NEW_PASSWORD})
    assert new.status_code == 200, new.text
    for session in (first, second):
        r = post(site.url, '/v1/auth/refresh',
                 {'refresh_token': session['refresh_token']})
        assert_problem(r, 401)
    # The sign-in made after the reset is not touched.
    r = post(site.url, '/v1/auth/refresh',
             {'refresh_token': new.json()['refresh_token']})
    assert r.status_code == 200, r.text
    assert_problem(post(site.url, RESET_CONFIRM, {
        'token': token, 'new_password': 'yet another passphrase'}), 401)
    rows = sql(stack, f"SELECT password_hash LIKE '$argon2id$%', "
               f"email_verified_at IS NOT NULL FROM users WHERE email = "
               f"'{address}'")
    assert rows == [['1', '1']]


def test_a_reset_voids_the_other_reset_links_of_the_account(site):
    address = new_email('twice')
    signup_and_login(site.url, address)
    first = request_link(site.url, site.inbox, address, path=RESET)
    second = request_link(site.url, site.inbox, address, path=RESET,
                          count=2)
    assert post(site.url, RESET_CONFIRM, {
        'token': second, 'new_password': NEW_PASSWORD}).status_code == 204
    assert_problem(post(site.url, RESET_CONFIRM, {
        'token': first, 'new_password': NEW_PASSWORD}), 401)


def test_a_member_without_a_password_can_set_one_by_reset(site):
    address = new_email('linkonly')
    token = request_link(site.url, site.inbox, address)
    assert post(site.url, MAGIC_VERIFY, {'token': token}).status_code == 200
    token = request_link(site.url, site.inbox, address, path=RESET, count=2)
    assert post(site.url, RESET_CONFIRM, {
        'token': token, 'new_password': NEW_PASSWORD}).status_code == 204
    r = post(site.url, '/v1/auth/login', {'email': address,
                                          'password': NEW_PASSWORD})
    assert r.status_code == 200, r.text


def test_reset_of_an_unknown_address_answers_the_same_and_sends_nothing(
        site, stack):
    known, unknown = new_email('known'), new_email('unknown')
    signup_and_login(site.url, known)
    answers = [post(site.url, RESET, {'email': a}) for a in (known, unknown)]
    assert [r.status_code for r in answers] == [202, 202]
    assert answers[0].json() == answers[1].json() == ACCEPTED
    mail_to(site.inbox, known)
    time.sleep(QUIET_SECONDS)
    assert site.inbox.to(unknown) == []
    assert sql(stack, f"SELECT COUNT(*) FROM magic_links WHERE email = "
               f"'{unknown}'") == [['0']]


@pytest.mark.parametrize('password', ['short', 'x' * 1025, 12, None])
def test_reset_to_a_weak_or_overlong_password_is_422_and_keeps_the_link(
        site, password):
    address = new_email()
    signup_and_login(site.url, address)
    token = request_link(site.url, site.inbox, address, path=RESET)
    r = post(site.url, RESET_CONFIRM, {'token': token,
                                       'new_password': password})
    assert assert_problem(r, 422)['field'] == 'new_password'
    assert post(site.url, RESET_CONFIRM, {
        'token': token, 'new_password': NEW_PASSWORD}).status_code == 204


# Addresses that would change the message's headers

INJECTIONS = [
    'x@example.test\r\nBcc: victim@example.test',
    'x@example.test\nBcc: victim@example.test',
    'x@example.test\r\n\r\nInjected body',
    'x@example.test>\r\nRCPT TO:<victim@example.test',
    '"x\r\nBcc: victim@example.test"@example.test',
    'x@example.test,victim@example.test',
    'x@example.test; victim@example.test',
    'x@example.test\tBcc: victim@example.test',
    'x@example.test\rBcc: victim@example.test',
]


@pytest.mark.parametrize('path', [MAGIC_LINK, RESET])
def test_header_injection_in_the_address_is_422_and_never_reaches_smtp(
        site, stack, path):
    for address in INJECTIONS:
        r = post(site.url, path, {'email': address})
        assert assert_problem(r, 422)['field'] == 'email', address
    # A good request after them is delivered alone.
    good = new_email('good')
    request_link(site.url, site.inbox, good)
    for rcpt, msg in site.inbox.messages:
        assert not any('victim' in a or '\n' in a for a in rcpt), rcpt
        assert 'Bcc' not in msg and 'Injected' not in body(msg)
    assert sql(stack, "SELECT COUNT(*) FROM outbox WHERE payload LIKE "
               "'%victim@example.test%'") == [['0']]


# Templates

def test_a_missing_template_is_500_and_the_log_names_the_file(
        own_site, tmp_path):
    empty = tmp_path / 'templates'
    empty.mkdir()
    s = own_site(mail={'templates': empty})
    r = post(s.url, MAGIC_LINK, {'email': new_email()})
    assert_problem(r, 500)
    log = s.pool.log.read_text()
    assert f'mail template {empty}/magic-link.txt' in log
    r = post(s.url, RESET, {'email': new_email()})
    assert_problem(r, 500)


def test_a_template_with_an_unknown_placeholder_is_500(own_site, tmp_path):
    dir = tmp_path / 'templates'
    dir.mkdir()
    (dir / 'magic-link.txt').write_text('Subject: Hi {{site}}\n\n'
                                        'Go to {{url}}\n')
    s = own_site(mail={'templates': dir})
    assert_problem(post(s.url, MAGIC_LINK, {'email': new_email()}), 500)
    assert 'magic-link.txt: a placeholder' in s.pool.log.read_text()


@pytest.mark.parametrize('key,value', [
    ('link_base', 'javascript:alert(1)'),
    ('reset_link_base', 'https://example.test/reset#top'),
    ('verify_link_base', 'https://example.test/a b'),
    ('site_name', 'Kite\x01Club')])
def test_check_config_refuses_link_bases_and_site_names_unfit_for_mail(
        stack, tmp_path, key, value):
    conf = stackmod.merge_conf(stack.config(), {'auth': {key: f'"{value}"'}})
    path = write_conf(tmp_path / 'jamb.conf', conf)
    proc = run_jamb(stack, ['check-config', '-c', path])
    assert proc.returncode == 1, output(proc)
    expected = ('site_name: must be UTF-8' if key == 'site_name' else
                f'link bases must be http or https URLs without blanks or '
                f"'#', got \"{value}\"")
    assert expected in output(proc), output(proc)


# The development stack's mail sink

def test_mail_sink_keeps_each_message_as_a_numbered_file(tmp_path):
    port = stackmod.free_port()
    mail = tmp_path / 'mail'
    sink = stackmod.Proc.spawn(
        'mailsink', [sys.executable, REPO / 'tools' / 'mailsink.py',
                     '--dir', mail, '--port', port],
        tmp_path / 'mailsink.log')
    try:
        def connect():
            try:
                return smtplib.SMTP('127.0.0.1', port, timeout=5)
            except OSError:
                return None

        smtp = wait_for(connect, 10)
        assert smtp is not None, stackmod.tail(sink.log)
        for n in (1, 2):
            smtp.sendmail('site@example.test', ['reader@example.test'],
                          f'Subject: message {n}\r\n\r\nbody {n}\r\n')
        smtp.quit()
        assert sorted(p.name for p in mail.iterdir()) == ['1.eml', '2.eml']
        assert 'Subject: message 2' in (mail / '2.eml').read_text()
    finally:
        sink.stop()
    assert not sink.alive()
    # It prints nothing.
    assert (tmp_path / 'mailsink.log').read_text() == ''
