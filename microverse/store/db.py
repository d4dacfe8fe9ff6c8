"""Open the SQLite store and bring each component's tables up to date.

WAL journaling lets readers (``microverse score``, the web app) read while ``eval`` writes,
and with ``synchronous=NORMAL`` a committed row survives a killed process (only a power
loss can drop the last transactions), which is what resume needs.

Migrations are per *component* (``judgments``, ``studies``…): each store module owns an
ordered list of SQL scripts and calls :func:`migrate` once after :func:`connect`. The
applied count is kept in ``schema_versions``; scripts are append-only — never edit one
that shipped, add the next.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Sequence

from microverse.errors import MicroverseError


def connect(path: str | Path, *, readonly: bool = False, timeout_s: float = 30.0) -> sqlite3.Connection:
    """A connection with WAL, foreign keys and a busy timeout; rows come back as ``sqlite3.Row``.

    ``isolation_level=None`` (autocommit) so callers group writes explicitly with
    :func:`transaction`; nothing is left uncommitted by accident.
    """
    path = Path(path)
    try:
        if readonly:
            if not path.is_file():
                raise MicroverseError("database not found", file=str(path),
                                      fix="pass --db with the file `microverse eval` wrote")
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout_s, isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        conn.row_factory = sqlite3.Row
        return conn
    except sqlite3.DatabaseError as exc:
        raise MicroverseError(f"cannot open the database: {exc}", file=str(path),
                              fix="pass --db with a SQLite file microverse wrote, or a new path") from None


class transaction:
    """``with transaction(conn): ...`` — BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    """How many of ``component``'s migrations this database has (0 if none)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply ``migrations[current:]`` for ``component``, each in its own transaction; return the new version.

    A database written by a newer microverse (more migrations than we know) is refused
    rather than silently misread.
    """
    current = schema_version(conn, component)
    if current > len(migrations):
        raise MicroverseError(
            f"the database's {component!r} tables are version {current}, this microverse knows {len(migrations)}",
            fix="upgrade microverse, or use another --db")
    for version in range(current + 1, len(migrations) + 1):
        with transaction(conn):
            # executescript would COMMIT our transaction; run statement by statement instead.
            for statement in _statements(migrations[version - 1]):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_versions(component, version) VALUES(?, ?) "
                         "ON CONFLICT(component) DO UPDATE SET version = excluded.version", (component, version))
    return len(migrations)


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (sqlite3.complete_statement knows quoting)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]}")
    return statements


def open_component(path: str | Path, component: str, migrations: Sequence[str], *, readonly: bool,
                   marker_table: str, missing_fix: str, empty_fix: str, what: str,
                   error: type[MicroverseError] = MicroverseError) -> sqlite3.Connection:
    """Open one component's database: migrated when writing; when reading, it must exist and hold
    ``marker_table``, else ``error`` names the file and the command that creates it."""
    if readonly and not Path(path).is_file():
        raise error(f"{what} database not found", file=str(path), fix=missing_fix)
    conn = connect(path, readonly=readonly)
    if not readonly:
        migrate(conn, component, migrations)
    elif conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (marker_table,)).fetchone() is None:
        conn.close()
        raise error(f"this database holds no {what}", file=str(path), fix=empty_fix)
    return conn
