"""Engine, sessions and schema: one :class:`Store` per process over SQLite or PostgreSQL.

SQLite is opened in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing on a lock upgrade. An in-memory
SQLite database lives on one connection shared by every thread, so its sessions are serialised.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from emulator.store.models import SCHEMA_VERSION, Base, SchemaMeta


class StoreVersionError(RuntimeError):
    """The database was written by an incompatible version of the emulator (or by something else)."""


def _is_memory(url) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if _is_memory(url):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20,
                               max_overflow=40)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        if not _is_memory(url):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    return engine


class Store:
    """The process's handle on the database."""

    def __init__(self, database_url: str):
        self.url = database_url
        self.engine = make_engine(database_url)
        self.dialect = self.engine.dialect.name
        parsed = make_url(database_url)
        self._serial = threading.RLock() if _is_memory(parsed) else None

    def init_schema(self) -> None:
        """Create the schema on first start; refuse a database of another schema version."""
        names = set(inspect(self.engine).get_table_names())
        if names and "schema_meta" not in names:
            raise StoreVersionError(
                f"the database {self.describe()} holds tables that are not the emulator's; "
                "point --database-url at an empty database"
            )
        if "schema_meta" in names:
            with self.session() as s:
                row = s.get(SchemaMeta, "schema_version")
            found = row.value if row else "?"
            if found != str(SCHEMA_VERSION):
                raise StoreVersionError(
                    f"the database {self.describe()} was written with schema version {found}; this emulator "
                    f"uses version {SCHEMA_VERSION}. Remove it (or use another --data-dir/--database-url)."
                )
            return
        Base.metadata.create_all(self.engine)
        with self.session(write=True) as s:
            if s.get(SchemaMeta, "schema_version") is None:
                s.add(SchemaMeta(key="schema_version", value=str(SCHEMA_VERSION)))

    def describe(self) -> str:
        return self.describe_url(self.url)

    @staticmethod
    def describe_url(url: str) -> str:
        return make_url(url).render_as_string(hide_password=True)

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._serial or nullcontext(), self.engine.connect() as conn:
            conn.info["write"] = write
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    def scalar(self, stmt):
        with self.session() as s:
            return s.scalar(stmt)

    def dispose(self) -> None:
        self.engine.dispose()
