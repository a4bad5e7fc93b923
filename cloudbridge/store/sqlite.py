"""SQLite connections: a small pool of connections in WAL mode."""

import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

from cloudbridge.store.errors import StoreError

log = logging.getLogger(__name__)

# Seconds a connection waits for another writer's lock before it fails with
# "database is locked".
BUSY_TIMEOUT = 30.0
# Idle connections kept for reuse; more are opened when threads need them.
MAX_IDLE_CONNECTIONS = 8
WAL_RETRY_PAUSE = 0.02

SQLITE_CONSTRAINT_PRIMARYKEY = 1555
SQLITE_CONSTRAINT_UNIQUE = 2067


class SQLiteDatabase:
    """Connections to one SQLite file, each used by one thread at a time.

    Transactions are explicit (isolation_level=None).  Write transactions
    start with BEGIN IMMEDIATE, which takes the write lock up front, so a
    transaction that reads and then writes cannot fail half-way with
    "database is locked" when another connection wrote in between.
    """

    name = "sqlite"
    errors = (sqlite3.Error,)
    integrity_errors = (sqlite3.IntegrityError,)
    insert_ignore = "INSERT OR IGNORE INTO"

    def __init__(self, path, description):
        self.path = path
        self.description = description
        self._idle = []
        self._lock = threading.Lock()
        self._closed = False

    def _open(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise StoreError("cannot create the directory of the SQLite database %s: %s"
                             % (self.path, exc)) from exc
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                               check_same_thread=False)
        try:
            self._enable_wal(conn)
            # NORMAL is durable in WAL mode except for the last transactions
            # before a power failure; it avoids an fsync per commit.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _enable_wal(self, conn):
        # Switching to WAL needs an exclusive lock, and SQLite returns
        # "database is locked" at once instead of calling the busy handler
        # while another connection uses the file, so wait here.  The mode is
        # stored in the file: later connections find it already set.
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(WAL_RETRY_PAUSE)
                continue
            if mode.lower() != "wal":
                log.warning("SQLite database %s uses journal mode %s, not WAL: "
                            "readers will wait for writers", self.path, mode)
            return

    def acquire(self):
        with self._lock:
            if self._closed:
                raise StoreError("the store for %s is closed" % self.description)
            if self._idle:
                return self._idle.pop()
        return self._open()

    def release(self, conn, broken=False):
        with self._lock:
            if not broken and not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def close(self):
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def begin(self, conn, cursor, write):
        cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    @contextmanager
    def named_lock(self, cursor, name):
        # BEGIN IMMEDIATE already serialises all writers of the file.
        yield

    def sql(self, statement):
        return statement

    def is_duplicate(self, exc):
        if not isinstance(exc, sqlite3.IntegrityError):
            return False
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code in (SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY)
        return "UNIQUE constraint failed" in str(exc)

    def is_retryable(self, exc):
        # The busy timeout already waited for other writers.
        return False

    def to_db_time(self, value):
        return value.strftime("%Y-%m-%d %H:%M:%S")

    def from_db_time(self, value):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)

    def upsert(self, table, columns, key_columns):
        """Return an INSERT that updates the non-key columns when the key exists."""
        updates = ", ".join("%s = excluded.%s" % (c, c) for c in columns if c not in key_columns)
        return "INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s" % (
            table, ", ".join(columns), ", ".join("?" * len(columns)),
            ", ".join(key_columns), updates)

    # Schema introspection, used by ensure_schema.

    def table_names(self, cursor):
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0].lower() for row in cursor.fetchall()}

    def column_names(self, cursor, table):
        cursor.execute("PRAGMA table_info(%s)" % table)
        return {row[1].lower() for row in cursor.fetchall()}

    def has_unique_index(self, cursor, table, column):
        cursor.execute("PRAGMA index_list(%s)" % table)
        for row in cursor.fetchall():
            index_name, unique = row[1], row[2]
            if not unique:
                continue
            cursor.execute("PRAGMA index_info(%s)" % quote_identifier(index_name))
            columns = [info[2].lower() for info in cursor.fetchall()]
            if columns == [column.lower()]:
                return True
        return False

    @contextmanager
    def schema_session(self):
        """Yield a cursor inside one write transaction for the whole schema change."""
        conn = self.acquire()
        broken = True
        try:
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            broken = False
        finally:
            self.release(conn, broken)


def quote_identifier(name):
    return '"%s"' % name.replace('"', '""')
