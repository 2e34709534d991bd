from db.connection import DatabaseUrl, transaction
from db.schema import init_schema, read_status, schema_objects


def test_schema_creates_every_table_and_is_idempotent(db_conn):
    with transaction(db_conn) as cur:
        assert init_schema(cur) == 0  # second run (db_conn's database has the schema): nothing to do
        assert read_status(cur).state == "current"
        cur.execute("SHOW TABLES")
        tables = {row[0] for row in cur.fetchall()}
    assert tables == set(schema_objects())
    assert {
        "students",
        "lectures",
        "enrollments",
        "class_sessions",
        "attendance",
        "applied_batches",
        "face_encodings",
        "schema_migrations",
    } <= tables


def test_init_recreates_the_tables_dropped_from_a_current_database_and_keeps_the_others(db_conn):
    with transaction(db_conn) as cur:
        cur.execute("INSERT INTO students (student_id, name) VALUES ('201911001', 'Kim')")
        cur.execute("DROP TABLE pending_candidates, pending_checkins")
        assert read_status(cur).missing == ("pending_checkins", "pending_candidates")
        assert init_schema(cur) > 0
        assert read_status(cur).missing == ()
        assert init_schema(cur) == 0
        cur.execute("SELECT name FROM students")
        assert cur.fetchall() == (("Kim",),)


def test_database_url_parsing():
    url = DatabaseUrl.parse("mysql://u:p%40ss@db.example:3307/att")
    assert (url.user, url.password, url.host, url.port, url.database) == ("u", "p@ss", "db.example", 3307, "att")
    assert "p@ss" not in str(url)
    sock = DatabaseUrl.parse("mysql://root@localhost/att?unix_socket=/tmp/my.sock")
    assert sock.unix_socket == "/tmp/my.sock"
    assert DatabaseUrl.parse(url.to_url()) == url
    assert DatabaseUrl.parse(sock.to_url()) == sock
