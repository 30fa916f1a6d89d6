"""jamb migrate: numbered files applied in order and recorded with their
SHA-256, edited or missing applied files refused, one migrator at a time,
and the check `jamb serve` makes before it starts.

Each test migrates a database of its own, named by JAMB_DB_NAME, from a
folder of its own, named by JAMB_DB_MIGRATIONS; the session stack's
config supplies everything else."""

import hashlib
import re
import secrets
import shutil
import subprocess

import pytest

from support import REPO, get, output, run_jamb, stackmod

INIT = REPO / 'sql' / '0001_init.sql'
USERS = ("'jamb'@'127.0.0.1'", "'jamb'@'localhost'")
TIMESTAMP = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z'


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Migrations:
    """A fresh database and migrations folder, and jamb pointed at them."""

    def __init__(self, stack, dir):
        self.stack = stack
        self.dir = dir
        self.db = f'jamb_mig_{secrets.token_hex(6)}'
        self.env = {'JAMB_DB_NAME': self.db,
                    'JAMB_DB_MIGRATIONS': str(dir)}

    def write(self, name, sql):
        path = self.dir / name
        path.write_text(sql)
        return path

    def argv(self, *args):
        return ['migrate', *args, '-c', self.stack.conf_path]

    def run(self, *args):
        return run_jamb(self.stack, self.argv(*args), env=self.env,
                        timeout=60)

    def popen(self, *args):
        return subprocess.Popen(
            [str(self.stack.jamb)] + [str(a) for a in self.argv(*args)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=stackmod.jamb_env(self.env))

    def sql(self, text):
        return self.stack.mysql(text, database=self.db)

    def tables(self):
        out = self.stack.mysql(
            'SELECT TABLE_NAME FROM information_schema.TABLES '
            f"WHERE TABLE_SCHEMA = '{self.db}'")
        return set(out.split())

    def rows(self):
        """schema_migrations as [(version, name, checksum, applied_at)];
        None when the table does not exist."""
        if 'schema_migrations' not in self.tables():
            return None
        out = self.sql('SELECT version, name, checksum, applied_at '
                       'FROM schema_migrations ORDER BY version')
        return [tuple(line.split('\t')) for line in out.splitlines()]

    def versions(self):
        return [int(row[0]) for row in self.rows() or []]


@pytest.fixture
def mig(stack, tmp_path):
    m = Migrations(stack, tmp_path / 'sql')
    m.dir.mkdir()
    grants = ''.join(f'GRANT ALL PRIVILEGES ON `{m.db}`.* TO {u};'
                     for u in USERS)
    stack.mysql(f'CREATE DATABASE `{m.db}` CHARACTER SET utf8mb4 '
                f'COLLATE utf8mb4_unicode_ci; {grants}')
    try:
        yield m
    finally:
        revokes = ''.join(f'REVOKE ALL PRIVILEGES ON `{m.db}`.* FROM {u};'
                          for u in USERS)
        stack.mysql(f'DROP DATABASE IF EXISTS `{m.db}`; {revokes}')


def one_error_line(proc):
    """The failure message: exactly one line on stderr, 'jamb: ...'."""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith('jamb: '), lines
    return lines[0]


def serve_until_exit(stack, tmp_path, env, timeout=20):
    """Run `jamb serve` on a socket of its own and return (exit status,
    output) once it exits; fails the test if it is still serving after
    TIMEOUT seconds."""
    sock = stack.run_dir / f'mig-{secrets.token_hex(4)}.sock'
    conf = stack.write_config(path=tmp_path / 'serve.conf', listen=sock,
                              pidfile=tmp_path / 'serve.pid')
    log = tmp_path / 'serve.log'
    proc = stackmod.Proc.spawn('jamb', [stack.jamb, 'serve', '-c', conf],
                               log, env=stackmod.jamb_env(env))
    if not proc.wait(timeout):
        stackmod.stop_tree(proc, 15)
        pytest.fail(f'jamb serve started although it should have refused:'
                    f'\n{stackmod.tail(log)}')
    return proc.returncode, log.read_text()


def test_up_on_an_empty_database_applies_init_and_creates_its_tables(mig):
    shutil.copy(INIT, mig.dir)

    proc = mig.run('up')

    assert proc.returncode == 0, output(proc)
    assert re.search(r'^applied 0001_init\.sql', output(proc), re.M)
    expected = set(re.findall(r'^CREATE TABLE (\w+)', INIT.read_text(),
                              re.M))
    assert len(expected) > 10
    assert mig.tables() == expected | {'schema_migrations'}
    [(version, name, checksum, applied_at)] = mig.rows()
    assert (version, name) == ('1', '0001_init.sql')
    assert checksum == sha256(INIT)
    assert re.match(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$', applied_at)


def test_schema_migrations_has_the_documented_columns(mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    assert mig.run('up').returncode == 0

    out = mig.stack.mysql(
        'SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY '
        'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '
        f"'{mig.db}' AND TABLE_NAME = 'schema_migrations' "
        'ORDER BY ORDINAL_POSITION')
    columns = [tuple(line.split('\t')) for line in out.splitlines()]
    assert columns == [
        ('version', 'int(10) unsigned', 'NO', 'PRI'),
        ('name', 'varchar(255)', 'NO', ''),
        ('checksum', 'char(64)', 'NO', ''),
        ('applied_at', 'datetime(6)', 'NO', ''),
    ]


def test_up_again_applies_nothing_and_adds_no_row(mig):
    shutil.copy(INIT, mig.dir)
    assert mig.run('up').returncode == 0
    before = mig.rows()

    proc = mig.run('up')

    assert proc.returncode == 0, output(proc)
    assert 'nothing to apply' in output(proc)
    assert 'applied 0001' not in output(proc)
    assert mig.rows() == before


def test_up_applies_in_numeric_order_and_ignores_other_files(mig):
    mig.write('0001_log.sql', 'CREATE TABLE log (n INT AUTO_INCREMENT '
              'PRIMARY KEY, v INT);\nINSERT INTO log (v) VALUES (1);\n')
    mig.write('0100_c.sql', 'INSERT INTO log (v) VALUES (100);\n')
    mig.write('0010_b.sql', 'INSERT INTO log (v) VALUES (10);\n')
    mig.write('0009_a.sql', 'INSERT INTO log (v) VALUES (9);\n')
    # Not migrations: wrong case, too few digits, no name, other suffix.
    for name in ('0002_Upper.sql', '003_short.sql', '0004_.sql',
                 '0005_x.sql.orig', 'demo.sql', 'README'):
        mig.write(name, 'THIS IS NOT SQL;\n')

    proc = mig.run('up')

    assert proc.returncode == 0, output(proc)
    assert mig.sql('SELECT v FROM log ORDER BY n').split() == \
        ['1', '9', '10', '100']
    assert mig.versions() == [1, 9, 10, 100]
    applied = re.findall(r'^applied (\S+):', proc.stdout.decode(), re.M)
    assert applied == ['0001_log.sql', '0009_a.sql', '0010_b.sql',
                       '0100_c.sql']
    # Names that were probably meant as migrations are pointed out.
    assert '0002_Upper.sql' in proc.stderr.decode()
    assert '003_short.sql' in proc.stderr.decode()


def test_status_lists_applied_with_time_and_pending(mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    assert mig.run('up').returncode == 0
    mig.write('0002_b.sql', 'CREATE TABLE b (x INT);\n')

    proc = mig.run('status')

    assert proc.returncode == 0, output(proc)
    text = proc.stdout.decode()
    assert re.search(rf'^0001_a\.sql\s+applied {TIMESTAMP}$', text, re.M)
    assert re.search(r'^0002_b\.sql\s+pending$', text, re.M)
    assert '1 applied, 1 pending' in text
    assert mig.versions() == [1]
    assert 'b' not in mig.tables()


def test_status_of_a_database_never_migrated_changes_nothing(mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')

    proc = mig.run('status')

    assert proc.returncode == 0, output(proc)
    assert re.search(r'^0001_a\.sql\s+pending$', proc.stdout.decode(),
                     re.M)
    assert mig.tables() == set()


def test_dry_run_prints_pending_files_and_their_sql_and_changes_nothing(
        mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    assert mig.run('up').returncode == 0
    before = mig.rows()
    mig.write('0002_b.sql', 'CREATE TABLE b (x INT);\n')
    mig.write('0003_c.sql', 'CREATE TABLE c (y INT);\n')

    proc = mig.run('up', '--dry-run')

    text = output(proc)
    assert proc.returncode == 0, text
    assert '0002_b.sql' in text and 'CREATE TABLE b (x INT);' in text
    assert '0003_c.sql' in text and 'CREATE TABLE c (y INT);' in text
    assert '0001_a.sql' not in text
    assert mig.rows() == before
    assert mig.tables() == {'a', 'schema_migrations'}


def test_dry_run_on_a_database_never_migrated_creates_nothing(mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')

    proc = mig.run('up', '--dry-run')

    assert proc.returncode == 0, output(proc)
    assert 'CREATE TABLE a (x INT);' in output(proc)
    assert mig.tables() == set()


def test_up_refuses_an_applied_file_that_was_changed(mig):
    path = mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    assert mig.run('up').returncode == 0
    recorded = sha256(path)
    path.write_text('CREATE TABLE a (x BIGINT);\n')
    mig.write('0002_b.sql', 'CREATE TABLE b (x INT);\n')

    proc = mig.run('up')

    assert proc.returncode == 1, output(proc)
    line = one_error_line(proc)
    assert '0001_a.sql was changed after it was applied' in line
    assert recorded[:12] in line and sha256(path)[:12] in line
    assert 'add a new migration' in line
    assert mig.versions() == [1]
    assert 'b' not in mig.tables()
    status = mig.run('status')
    assert status.returncode == 1
    assert 'changed' in status.stdout.decode()


def test_up_refuses_when_an_applied_file_is_missing(mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    mig.write('0002_b.sql', 'CREATE TABLE b (x INT);\n')
    assert mig.run('up').returncode == 0
    (mig.dir / '0002_b.sql').unlink()
    mig.write('0003_c.sql', 'CREATE TABLE c (x INT);\n')

    proc = mig.run('up')

    assert proc.returncode == 1, output(proc)
    line = one_error_line(proc)
    assert '0002_b.sql' in line and 'missing' in line
    assert mig.versions() == [1, 2]
    assert 'c' not in mig.tables()
    status = mig.run('status')
    assert status.returncode == 1
    assert re.search(r'^0002_b\.sql\s+applied .*file missing',
                     status.stdout.decode(), re.M)


def test_up_refuses_two_files_with_the_same_version(mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    mig.write('0002_b.sql', 'CREATE TABLE b (x INT);\n')
    mig.write('00002_c.sql', 'CREATE TABLE c (x INT);\n')

    proc = mig.run('up')

    assert proc.returncode == 1, output(proc)
    line = one_error_line(proc)
    assert '0002_b.sql' in line and '00002_c.sql' in line
    assert 'same version' in line
    assert mig.tables() == set()


def test_failing_migration_is_not_recorded_and_the_fixed_file_applies(
        mig):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    bad = mig.write('0002_bc.sql', '-- b, then c\n'
                    'CREATE TABLE b (x INT);\n'
                    'CREAT TABLE c (y INT);\n')

    proc = mig.run('up')

    assert proc.returncode == 1, output(proc)
    assert re.search(r'^applied 0001_a\.sql', proc.stdout.decode(), re.M)
    line = one_error_line(proc)
    assert '0002_bc.sql failed at statement 2 of 2 (line 3)' in line
    assert 'SQL syntax' in line
    assert 'statement 1 ran before it' in line
    assert mig.versions() == [1]
    # MySQL committed the first CREATE TABLE: the message says so.
    assert 'b' in mig.tables()

    bad.write_text('-- b, then c\n'
                   'CREATE TABLE IF NOT EXISTS b (x INT);\n'
                   'CREATE TABLE c (y INT);\n')
    proc = mig.run('up')

    assert proc.returncode == 0, output(proc)
    assert mig.versions() == [1, 2]
    assert mig.rows()[1][2] == sha256(bad)
    assert {'a', 'b', 'c'} <= mig.tables()


def test_failing_first_statement_reports_its_line_after_comments(mig):
    mig.write('0001_a.sql', '-- nothing yet\n\n'
              'INSERT INTO nowhere VALUES (1);\n')

    proc = mig.run('up')

    assert proc.returncode == 1, output(proc)
    line = one_error_line(proc)
    assert 'failed at statement 1 of 1 (line 3)' in line
    assert 'nowhere' in line
    assert 'no statement ran before it' in line
    assert mig.versions() == []


def test_stored_programs_between_delimiter_lines_apply(mig):
    mig.write('0001_trigger.sql', """CREATE TABLE t (x INT, y INT);
DELIMITER //
CREATE TRIGGER t_y BEFORE INSERT ON t FOR EACH ROW
BEGIN
	SET NEW.y = NEW.x * 2;
	SET NEW.y = NEW.y + 1;
END//
DELIMITER ;
INSERT INTO t (x) VALUES (5);
""")

    proc = mig.run('up')

    assert proc.returncode == 0, output(proc)
    assert mig.sql('SELECT y FROM t').split() == ['11']


def test_concurrent_ups_apply_each_version_exactly_once(mig):
    mig.write('0001_runs.sql', 'CREATE TABLE runs (n INT AUTO_INCREMENT '
              'PRIMARY KEY, v INT);\nINSERT INTO runs (v) VALUES (1);\n')
    mig.write('0002_slow.sql', 'DO SLEEP(1);\n'
              'INSERT INTO runs (v) VALUES (2);\n')

    procs = [mig.popen('up') for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        results.append((p.returncode, out.decode(), err.decode()))

    for rc, out, err in results:
        assert rc == 0, out + err
    outs = ''.join(out for _, out, _ in results)
    assert len(re.findall(r'^applied 0001_runs\.sql', outs, re.M)) == 1
    assert len(re.findall(r'^applied 0002_slow\.sql', outs, re.M)) == 1
    assert len(re.findall(r'^nothing to apply', outs, re.M)) == 1
    assert mig.sql('SELECT v FROM runs ORDER BY n').split() == ['1', '2']
    assert mig.versions() == [1, 2]


def test_usage_errors_exit_2(mig):
    for args in ((), ('down',), ('status', '--dry-run'),
                 ('up', '--force')):
        proc = mig.run(*args)
        assert proc.returncode == 2, (args, output(proc))
        assert 'usage' in proc.stderr.decode()


def test_serve_refuses_to_start_with_a_pending_migration(mig, tmp_path):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')

    rc, log = serve_until_exit(mig.stack, tmp_path, mig.env)

    assert rc == 1, log
    assert '1 migration pending; run `jamb migrate up`' in log
    assert 'allow_pending_migrations' in log


def test_serve_refuses_to_start_when_an_applied_file_was_changed(
        mig, tmp_path):
    path = mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    assert mig.run('up').returncode == 0
    path.write_text('CREATE TABLE a (x TEXT);\n')

    env = dict(mig.env, JAMB_DB_ALLOW_PENDING_MIGRATIONS='yes')
    rc, log = serve_until_exit(mig.stack, tmp_path, env)

    assert rc == 1, log
    assert '0001_a.sql was changed after it was applied' in log


def test_serve_starts_with_pending_migrations_when_allowed(mig, make_pool):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')

    pool = make_pool(env=dict(mig.env,
                              JAMB_DB_ALLOW_PENDING_MIGRATIONS='yes'))

    assert get(pool.url + '/v1/health').status_code == 200
    assert '1 migration pending' in pool.log.read_text()


def test_serve_starts_after_up_applied_everything(mig, make_pool):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    assert mig.run('up').returncode == 0

    pool = make_pool(env=mig.env)

    assert get(pool.url + '/v1/health').status_code == 200


def test_serve_starts_without_checking_while_mysql_is_unreachable(
        mig, make_pool):
    mig.write('0001_a.sql', 'CREATE TABLE a (x INT);\n')
    env = dict(mig.env, JAMB_DB_PORT=str(stackmod.free_port()),
               JAMB_DB_SOCKET='')

    pool = make_pool(env=env)

    assert get(pool.url + '/v1/health').status_code == 200
    assert 'migrations not checked' in pool.log.read_text()
