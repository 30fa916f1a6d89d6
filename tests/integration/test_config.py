"""jamb check-config: validation, masking of secrets, environment
overrides."""

import re

import pytest

from support import output, run_jamb, write_conf


def check_config(stack, conf, tmp_path, env=None):
    path = write_conf(tmp_path / 'jamb.conf', conf)
    return run_jamb(stack, ['check-config', '-c', path], env=env)


def test_check_config_accepts_the_stack_config_and_masks_the_password(
        stack, tmp_path):
    proc = check_config(stack, stack.config(), tmp_path)
    text = output(proc)
    assert proc.returncode == 0, text
    assert 'password' in text
    assert stack.db_password not in text


def test_check_config_rejects_an_unknown_key_naming_it(stack, tmp_path):
    conf = stack.config({'server': {'colour': 'blue'}})
    proc = check_config(stack, conf, tmp_path)
    assert proc.returncode == 1
    assert 'colour' in output(proc)


@pytest.mark.parametrize('section,key,value', [
    ('server', 'workers', 'many'),
    ('log', 'level', 'loud'),
    ('log', 'format', 'xml'),
])
def test_check_config_rejects_a_bad_value_naming_the_key(
        stack, tmp_path, section, key, value):
    conf = stack.config({section: {key: value}})
    proc = check_config(stack, conf, tmp_path)
    assert proc.returncode == 1
    assert key in output(proc)


def test_environment_overrides_the_config_file(stack, tmp_path):
    proc = check_config(stack, stack.config({'server': {'workers': 3}}),
                        tmp_path, env={'JAMB_SERVER_WORKERS': '7'})
    text = output(proc)
    assert proc.returncode == 0, text
    assert re.search(r'\bworkers\b["\s]*[=:]\s*"?7\b', text), text


def test_check_config_with_a_missing_file_fails(stack, tmp_path):
    proc = run_jamb(stack, ['check-config', '-c', tmp_path / 'absent.conf'])
    assert proc.returncode == 1
    assert 'absent.conf' in output(proc)
