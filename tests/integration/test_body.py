"""Request bodies: size limit, JSON and UTF-8 validation, through the
debug echo route and both fronts."""

import json

import pytest

from support import BODY_LIMIT, assert_problem, request

JSON = {'Content-Type': 'application/json'}


def echo(front, data):
    return request('POST', front + '/v1/debug/echo', data=data,
                   headers=JSON)


def test_echo_returns_valid_json_body(front):
    doc = {'name': 'jamb', 'list': [1, 2.5, True, None],
           'text': 'caf\u00e9 \u2713 \U0001f600', 'nested': {'a': {}}}
    r = echo(front, json.dumps(doc).encode())
    assert r.status_code == 200, r.text
    assert r.json() == {'body': doc}


def test_body_of_exactly_the_limit_is_accepted(front):
    # A JSON string of BODY_LIMIT bytes including its quotes.
    data = b'"' + b'a' * (BODY_LIMIT - 2) + b'"'
    r = echo(front, data)
    assert r.status_code == 200, r.text
    assert r.json() == {'body': 'a' * (BODY_LIMIT - 2)}


def test_body_over_the_limit_is_413_problem(front):
    data = b'"' + b'a' * (BODY_LIMIT - 1) + b'"'
    assert_problem(echo(front, data), 413)


@pytest.mark.parametrize('data', [b'{"a":', b'{"a": 1,}', b'not json',
                                  b'{"a": 1} trailing'])
def test_invalid_json_is_400_problem(front, data):
    assert_problem(echo(front, data), 400)


@pytest.mark.parametrize('data', [
    b'{"a": "\xff"}',               # never valid in UTF-8
    b'{"a": "\xc3\x28"}',           # lead byte without continuation
    b'{"a": "\xc0\xaf"}',           # overlong encoding of "/"
    b'{"a": "\xed\xa0\x80"}',       # an encoded surrogate
])
def test_invalid_utf8_is_400_problem(front, data):
    assert_problem(echo(front, data), 400)
