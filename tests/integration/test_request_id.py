"""X-Request-Id: honoured when well-formed, replaced otherwise, and the
same id in a problem's `instance`."""

import pytest

from support import REQUEST_ID, assert_problem, get


def request_id(response):
    rid = response.headers.get('X-Request-Id')
    assert rid is not None, 'no X-Request-Id in the response'
    assert REQUEST_ID.match(rid), f'malformed X-Request-Id {rid!r}'
    return rid


@pytest.mark.parametrize('rid', ['abc-123', 'A.b_C-9', 'x' * 64])
def test_well_formed_request_id_is_echoed(front, rid):
    r = get(front + '/v1/health', headers={'X-Request-Id': rid})
    assert request_id(r) == rid


@pytest.mark.parametrize('rid', ['has space', 'x' * 65, 'a' * 200,
                                 'slash/in/it', 'quote"d'])
def test_malformed_request_id_is_replaced(front, rid):
    r = get(front + '/v1/health', headers={'X-Request-Id': rid})
    assert request_id(r) != rid


def test_request_id_is_generated_when_absent_and_differs_each_time(front):
    first = request_id(get(front + '/v1/health'))
    second = request_id(get(front + '/v1/health'))
    assert first != second


def test_problem_instance_carries_the_request_id(front):
    r = get(front + '/v1/no-such-thing', headers={'X-Request-Id': 'trace-42'})
    body = assert_problem(r, 404)
    assert request_id(r) == 'trace-42'
    assert 'trace-42' in body['instance']


def test_problem_instance_carries_a_generated_request_id(front):
    r = get(front + '/v1/no-such-thing')
    body = assert_problem(r, 404)
    assert request_id(r) in body['instance']
