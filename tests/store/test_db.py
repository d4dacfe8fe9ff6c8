"""The shared SQLite helpers: WAL, transactions and per-component migrations."""

from __future__ import annotations

import sqlite3

import pytest

from microverse.errors import MicroverseError
from microverse.store.db import connect, migrate, schema_version, transaction

V1 = "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT);\nINSERT INTO t(note) VALUES ('a;b');"
V2 = "ALTER TABLE t ADD COLUMN extra TEXT;"


def test_wal_and_migrations(tmp_path):
    db = tmp_path / "sub" / "x.sqlite"
    conn = connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert migrate(conn, "alpha", [V1]) == 1
    assert migrate(conn, "alpha", [V1]) == 1  # idempotent
    assert migrate(conn, "alpha", [V1, V2]) == 2
    assert migrate(conn, "beta", [V1.replace(" t ", " u ").replace("INTO t", "INTO u")]) == 1
    assert schema_version(conn, "alpha") == 2 and schema_version(conn, "beta") == 1
    assert conn.execute("SELECT note FROM t").fetchone()["note"] == "a;b"
    with pytest.raises(MicroverseError, match="version 2"):
        migrate(conn, "alpha", [V1])


def test_failed_migration_rolls_back(tmp_path):
    conn = connect(tmp_path / "x.sqlite")
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, "alpha", ["CREATE TABLE ok (a);\nCREATE TABLE broken (;"])
    assert schema_version(conn, "alpha") == 0
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='ok'").fetchone() is None


def test_transaction_rolls_back_on_error(tmp_path):
    conn = connect(tmp_path / "x.sqlite")
    migrate(conn, "alpha", [V1])
    with pytest.raises(RuntimeError):
        with transaction(conn):
            conn.execute("INSERT INTO t(note) VALUES ('lost')")
            raise RuntimeError
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1


def test_readonly_and_bad_files(tmp_path):
    with pytest.raises(MicroverseError, match="not found"):
        connect(tmp_path / "missing.sqlite", readonly=True)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(MicroverseError, match="cannot open"):
        conn = connect(junk)
        migrate(conn, "alpha", [V1])
