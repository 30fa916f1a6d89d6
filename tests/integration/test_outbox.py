"""The outbox and the pool's background process: emails queued through
the database are delivered over SMTP to a real server (aiosmtpd), retried
while it is down, marked dead after the last attempt, and sent once even
when two pools (two hosts) share the database."""

import os
import signal
import time
import uuid

import pytest
import requests

from support import Inbox, jobs_conf, stackmod, wait_for

TIMEOUT = 10


def queue(pool, to, subject, text='Hello.\nSecond line.'):
    r = requests.post(pool.url + '/v1/debug/mail', timeout=TIMEOUT,
                      json={'to': to, 'subject': subject, 'text': text})
    assert r.status_code == 202, r.text
    return r.json()['id']


def outbox_row(stack, id):
    out = stack.mysql(f'SELECT status, attempts, last_error FROM outbox '
                      f'WHERE id = {int(id)}', database='jamb')
    return out.strip().split('\t')


def test_queued_email_is_delivered_with_utf8_subject_and_body(
        stack, make_pool):
    inbox = Inbox().start()
    try:
        pool = make_pool(conf=jobs_conf(inbox.port))
        subject = f'Bienvenue à bord {uuid.uuid4().hex[:8]}'
        id = queue(pool, 'reader@example.test', subject,
                   'Grüße!\nYour link is below.')
        got = wait_for(lambda: inbox.find(subject))
        assert len(got) == 1
        msg = got[0]
        assert msg['To'] == '<reader@example.test>'
        assert msg['From'] == '<site@example.test>'
        assert msg['Message-ID']
        body = msg.get_payload(decode=True).decode('utf-8')
        assert 'Grüße!' in body and 'Your link is below.' in body
        assert wait_for(lambda: outbox_row(stack, id)[0] == 'sent')
    finally:
        inbox.stop()


def test_delivery_waits_for_a_server_that_is_down_then_succeeds(
        stack, make_pool):
    port = stackmod.free_port()
    pool = make_pool(conf=jobs_conf(port))
    subject = f'retry {uuid.uuid4().hex[:8]}'
    id = queue(pool, 'reader@example.test', subject)
    # Nothing listens: the first attempts fail and are recorded.
    assert wait_for(lambda: int(outbox_row(stack, id)[1]) >= 1)
    status, attempts, error = outbox_row(stack, id)
    assert status == 'pending' and error != 'NULL'
    inbox = Inbox(port).start()
    try:
        got = wait_for(lambda: inbox.find(subject), seconds=20)
        assert len(got) == 1
        assert wait_for(lambda: outbox_row(stack, id)[0] == 'sent')
        assert int(outbox_row(stack, id)[1]) >= 2
    finally:
        inbox.stop()


def test_item_is_dead_after_the_last_attempt(stack, make_pool):
    port = stackmod.free_port()
    pool = make_pool(conf=jobs_conf(port, max_attempts=2))
    id = queue(pool, 'reader@example.test', f'dead {uuid.uuid4().hex}')
    assert wait_for(lambda: outbox_row(stack, id)[0] == 'dead', seconds=20)
    assert outbox_row(stack, id)[1] == '2'


def test_two_pools_sharing_the_database_send_each_message_once(
        stack, make_pool):
    inbox = Inbox().start()
    try:
        a = make_pool(conf=jobs_conf(inbox.port, interval_ms=20))
        b = make_pool(conf=jobs_conf(inbox.port, interval_ms=20))
        tag = uuid.uuid4().hex[:8]
        subjects = [f'once {tag} {i}' for i in range(30)]
        for i, s in enumerate(subjects):
            queue(a if i % 2 else b, f'r{i}@example.test', s)
        assert wait_for(lambda: all(inbox.find(s) for s in subjects),
                        seconds=30)
        time.sleep(0.5)
        for s in subjects:
            assert len(inbox.find(s)) == 1, s
    finally:
        inbox.stop()


@pytest.mark.parametrize('to', ['no-at-sign', 'a@b@c', 'a b@example.test',
                                'x@example.test\r\nBcc: y@example.test'])
def test_unsendable_address_is_refused_when_queued(make_pool, to):
    pool = make_pool(conf=jobs_conf(stackmod.free_port()))
    r = requests.post(pool.url + '/v1/debug/mail', timeout=TIMEOUT,
                      json={'to': to, 'subject': 's', 'text': 't'})
    assert r.status_code == 422


def test_background_process_is_replaced_after_being_killed(
        stack, make_pool):
    """Every child of the master is killed, the background process with
    the workers: the master starts them again and queued mail flows."""
    inbox = Inbox().start()
    try:
        pool = make_pool(conf=jobs_conf(inbox.port))
        before = set(pool.children())
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: len(set(pool.children()) - before)
                        >= len(before))
        subject = f'after kill {uuid.uuid4().hex[:8]}'
        queue(pool, 'reader@example.test', subject)
        assert wait_for(lambda: inbox.find(subject))
    finally:
        inbox.stop()


def test_background_process_prunes_links_and_tokens_expired_a_day_ago(
        stack, make_pool):
    tag = uuid.uuid4().hex[:12]
    email = f'prune-{tag}@example.test'
    stack.mysql(f"""
        INSERT INTO users (email, name) VALUES ('{email}', 'Prune');
        SET @u = LAST_INSERT_ID();
        INSERT INTO magic_links (email, purpose, token_hash, expires_at)
        VALUES ('{email}', 'login', UNHEX(SHA2('old-{tag}', 256)),
                NOW(6) - INTERVAL 2 DAY),
               ('{email}', 'login', UNHEX(SHA2('recent-{tag}', 256)),
                NOW(6) - INTERVAL 1 HOUR);
        INSERT INTO refresh_tokens (user_id, family_id, token_hash,
                                    expires_at)
        VALUES (@u, UNHEX(REPEAT('ab', 16)), UNHEX(SHA2('rold-{tag}', 256)),
                NOW(6) - INTERVAL 2 DAY),
               (@u, UNHEX(REPEAT('ab', 16)), UNHEX(SHA2('rnew-{tag}', 256)),
                NOW(6) + INTERVAL 1 DAY);
        """, database='jamb')

    def left():
        links = stack.mysql(f"SELECT COUNT(*) FROM magic_links WHERE "
                            f"email = '{email}'", database='jamb').strip()
        tokens = stack.mysql(f"SELECT COUNT(*) FROM refresh_tokens r JOIN "
                             f"users u ON u.id = r.user_id WHERE u.email = "
                             f"'{email}'", database='jamb').strip()
        return int(links), int(tokens)

    assert left() == (2, 2)
    # The first round of a new background process prunes at once; the
    # link expired an hour ago and the live token stay.
    make_pool(conf=jobs_conf(stackmod.free_port()))
    assert wait_for(lambda: left() == (1, 1))
