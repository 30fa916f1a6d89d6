"""TLS between jamb and MariaDB ([db] tls and tls_ca).

A MariaDB of this module's own serves a certificate for 127.0.0.1 (an IP
subjectAltName) from a throw-away CA made with the openssl command, and
has a user created REQUIRE SSL.  jamb with tls = yes and that CA
connects, and the server sees an encrypted session; the certificate is
refused when it chains to another CA or names another address; with
tls = no the user is refused, and with tls = yes a server without TLS
(the session stack's) is refused.  jamb is run as `jamb migrate`, which
connects through app/db.c like the workers do, and the C suite
tests/unit/test_db runs whole over the TLS link."""

import os
import re
import secrets
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from support import REPO, output, run_jamb, stackmod

UNIT = REPO / 'tests' / 'unit' / 'test_db'
USER = 'jamb_tls'
# A second loopback address on which the server also listens: the
# certificate does not name it.
OTHER_ADDR = '127.0.0.2'
# The client's error numbers as db_error() shows them: a TLS failure
# (CR_SSL_CONNECTION_ERROR) and a refused login (ER_ACCESS_DENIED_ERROR).
TLS_ERROR = '(2026)'
ACCESS_DENIED = '(1045)'


def openssl(dir, *args):
    r = subprocess.run(['openssl', *args], cwd=dir, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, f'openssl {" ".join(args)}:\n{r.stderr}'


def make_ca(dir, name):
    """A self-signed CA certificate NAME.pem with its key NAME.key."""
    openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
            '-days', '2', '-subj', f'/CN=jamb test {name}',
            '-keyout', f'{name}.key', '-out', f'{name}.pem')
    return dir / f'{name}.pem'


def make_server_cert(dir, ca):
    """server.pem and server.key for 127.0.0.1, signed by the CA CA."""
    (dir / 'server.ext').write_text(
        f'subjectAltName = IP:{stackmod.HOST}\n'
        'basicConstraints = CA:FALSE\n'
        'extendedKeyUsage = serverAuth\n')
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes',
            '-subj', f'/CN={stackmod.HOST}', '-keyout', 'server.key',
            '-out', 'server.csr')
    openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', ca.name,
            '-CAkey', ca.with_suffix('.key').name, '-CAcreateserial',
            '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem')
    return dir / 'server.pem', dir / 'server.key'


def can_bind(addr):
    """Whether this machine has the loopback address ADDR (Linux routes
    all of 127.0.0.0/8 to lo; other systems may not)."""
    try:
        with socket.socket() as s:
            s.bind((addr, 0))
        return True
    except OSError:
        return False


class TlsDb:
    """The module's MariaDB, its CAs, and jamb configurations for it."""

    def __init__(self, stack, dir, ca, other_ca, password, other_addr):
        self.stack = stack
        self.dir = dir
        self.ca = ca
        self.other_ca = other_ca
        self.password = password
        self.other_addr = other_addr

    def conf(self, name, tls, ca='', host=stackmod.HOST):
        """A jamb config NAME.conf logging in as the REQUIRE SSL user."""
        return self.stack.write_config({'db': {
            'host': host, 'user': USER, 'password': self.password,
            'tls': tls, 'tls_ca': ca, 'connect_timeout': 5,
        }}, path=self.dir / f'{name}.conf')

    def migrate(self, conf, *args):
        return run_jamb(self.stack, ['migrate', *args, '-c', conf],
                        timeout=120)

    def logs(self):
        return (f'--- mariadb.log\n'
                f'{stackmod.tail(self.stack.dir / "mariadb.log", 15)}')


@pytest.fixture(scope='module')
def tls_db(tmp_path_factory, request):
    jamb = Path(request.config.getoption('--jamb')).resolve()
    if not os.access(jamb, os.X_OK):
        pytest.fail(f'{jamb} is not built: run ./autogen.sh && ./configure '
                    '&& make first', pytrace=False)
    dir = tmp_path_factory.mktemp('dbtls')
    certs = dir / 'certs'
    certs.mkdir()
    ca = make_ca(certs, 'ca')
    other_ca = make_ca(certs, 'other-ca')
    cert, key = make_server_cert(certs, ca)
    args = [f'--ssl-ca={ca}', f'--ssl-cert={cert}', f'--ssl-key={key}']
    other_addr = OTHER_ADDR if can_bind(OTHER_ADDR) else None
    if other_addr:
        args.append(f'--bind-address={stackmod.HOST},{other_addr}')
    s = stackmod.Stack(dir / 'stack', jamb=jamb, fronts=(), db_args=args)
    try:
        s.up_mariadb()
        password = secrets.token_urlsafe(18)
        sql = []
        for addr in filter(None, (stackmod.HOST, other_addr)):
            u = f"'{USER}'@'{addr}'"
            sql += [f"CREATE USER {u} IDENTIFIED BY '{password}' "
                    'REQUIRE SSL;',
                    f'GRANT ALL PRIVILEGES ON jamb.* TO {u};']
        s.mysql('\n'.join(sql))
        yield TlsDb(s, dir, ca, other_ca, password, other_addr)
    finally:
        s.down()
        shutil.rmtree(s.dir / 'mariadb', ignore_errors=True)


def test_tls_with_the_servers_ca_connects_and_migrates(tls_db):
    conf = tls_db.conf('good', 'yes', tls_db.ca)
    r = tls_db.migrate(conf, 'up')
    assert r.returncode == 0, output(r) + tls_db.logs()
    r = tls_db.migrate(conf, 'status')
    out = output(r)
    assert r.returncode == 0, out + tls_db.logs()
    assert re.search(r'^\d+ applied, 0 pending', out, re.MULTILINE), out


def test_c_suite_passes_over_tls_with_an_encrypted_session(tls_db):
    """tests/unit/test_db, every connection over TLS as the REQUIRE SSL
    user; with JAMB_TEST_DB_TLS=yes it also checks that the server
    reports a TLS cipher for the session."""
    if not UNIT.is_file():
        pytest.fail(f'{UNIT} is not built: run make check first',
                    pytrace=False)
    name = f'jamb_unit_{secrets.token_hex(6)}'
    tls_db.stack.mysql(
        f'CREATE DATABASE {name} CHARACTER SET utf8mb4 '
        'COLLATE utf8mb4_unicode_ci;' +
        f"GRANT ALL PRIVILEGES ON {name}.* TO '{USER}'@'{stackmod.HOST}';")
    results = tls_db.dir / f'{name}.check.log'
    env = stackmod.jamb_env({
        'JAMB_TEST_DB_HOST': stackmod.HOST,
        'JAMB_TEST_DB_PORT': str(tls_db.stack.ports['db']),
        'JAMB_TEST_DB_USER': USER,
        'JAMB_TEST_DB_PASSWORD': tls_db.password,
        'JAMB_TEST_DB_NAME': name,
        'JAMB_TEST_DB_TLS': 'yes',
        'JAMB_TEST_DB_TLS_CA': str(tls_db.ca),
        # Check writes every test's result there.
        'CK_LOG_FILE_NAME': str(results),
    })
    try:
        r = subprocess.run([str(UNIT)], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    finally:
        tls_db.stack.mysql(f'DROP DATABASE IF EXISTS {name}')
    out = r.stdout + r.stderr
    assert r.returncode == 0, f'{UNIT} exited {r.returncode}:\n{out}'
    assert '100%: Checks:' in out, out
    log = results.read_text()
    assert re.search(r':P:tls:tls_session_is_encrypted:', log), log


def test_tls_refuses_a_server_certificate_from_another_ca(tls_db):
    r = tls_db.migrate(tls_db.conf('other-ca', 'yes', tls_db.other_ca),
                       'status')
    out = output(r)
    assert r.returncode == 1, out
    assert 'cannot reach the database' in out, out
    assert TLS_ERROR in out, out


def test_tls_refuses_a_server_certificate_for_another_address(tls_db):
    if tls_db.other_addr is None:
        pytest.skip(f'{OTHER_ADDR} is not a local address here')
    # Without TLS the server answers there, refusing only the login: the
    # address is reachable, and the TLS refusal below is the name's.
    plain = tls_db.conf('other-addr-plain', 'no', host=tls_db.other_addr)
    out = output(tls_db.migrate(plain, 'status'))
    assert ACCESS_DENIED in out, out + tls_db.logs()

    conf = tls_db.conf('other-addr', 'yes', tls_db.ca,
                       host=tls_db.other_addr)
    r = tls_db.migrate(conf, 'status')
    out = output(r)
    assert r.returncode == 1, out
    assert 'cannot reach the database' in out, out
    assert TLS_ERROR in out, out


def test_tls_refuses_a_server_without_tls(stack, tmp_path):
    """The session stack's MariaDB runs without certificates."""
    if stack.mysql('SELECT @@have_ssl').strip() == 'YES':
        pytest.skip("the session stack's MariaDB offers TLS")
    conf = stack.write_config({'db': {'tls': 'yes', 'connect_timeout': 5}},
                              path=tmp_path / 'tls.conf')
    r = run_jamb(stack, ['migrate', 'status', '-c', conf], timeout=60)
    out = output(r)
    assert r.returncode == 1, out
    assert 'cannot reach the database' in out, out
    assert TLS_ERROR in out, out


def test_plain_link_is_refused_for_a_user_requiring_ssl(tls_db):
    r = tls_db.migrate(tls_db.conf('plain', 'no'), 'status')
    out = output(r)
    assert r.returncode == 1, out
    assert 'cannot reach the database' in out, out
    assert ACCESS_DENIED in out, out
