"""Engine, sessions and schema: one :class:`Store` per process over SQLite or PostgreSQL.

SQLite is opened in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing on a lock upgrade. An in-memory
SQLite database lives on one connection shared by every thread, so its sessions are serialised.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import create_engine, event, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from emulator.store import writers
from emulator.store.beacon import Beacon, beside
from emulator.store.models import INDEXES, SCHEMA_VERSION, metadata, schema_meta

BUSY_SECONDS = 30  # how long a writer waits for the database (SQLite's busy timeout, and a writer's turn) before 503


class StoreVersionError(RuntimeError):
    """The database was written by an incompatible version of the emulator (or by something else)."""


def _is_memory(url) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _private_file(path: Path) -> None:
    """The SQLite file holds the token signing key and the clients: a directory we create is 0700 and a file we
    create is 0600 (SQLite gives its -wal and -shm files the database file's mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def json_loads(text: str | bytes):
    """A JSON column's text, decoded by orjson: an asset's variables, aspects and hierarchy are three such columns,
    and the standard library's decoder cost a quarter of a 50-asset page. The columns are written by the standard
    library's encoder, which writes what orjson refuses when a value came from elsewhere than a checked request
    (``NaN`` or ``Infinity`` from a YAML scenario, an integer past 64 bits): those are read by it again."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_reset_on_return=None)

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_conn, _record):
            from psycopg.types.json import set_json_loads

            set_json_loads(json_loads, dbapi_conn)  # this connection's json and jsonb columns (psycopg decodes them)

        return engine
    if _is_memory(url):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False},
                               pool_reset_on_return=None, json_deserializer=json_loads)
    else:
        _private_file(Path(url.database).expanduser().resolve())
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_SECONDS}, pool_size=20,
                               max_overflow=40, pool_reset_on_return=None, json_deserializer=json_loads)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        if not _is_memory(url):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA case_sensitive_like=ON")  # filters compare text case-sensitively, as PostgreSQL
        cur.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # SQLAlchemy's own transaction (its first statement on a connection, or a savepoint's): Store.begin has
        # begun the driver's already, except for a connection used outside the store (init_schema's inspection)
        driver = conn.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    return engine


def surely_new(database_url: str) -> bool:
    """A SQLite store that cannot hold anything yet, told without touching it: in memory (one per process), or a
    file that is not there."""
    url = make_url(database_url)
    return url.get_backend_name() == "sqlite" and (_is_memory(url) or not Path(url.database).expanduser().is_file())


def holds_store(database_url: str) -> bool:
    """Whether ``database_url`` names an emulator's store that exists, found without creating anything: a SQLite
    file that is not there stays not there, and an in-memory database (one per process) never holds one to read.
    A database that cannot be reached raises SQLAlchemy's ``OperationalError``."""
    if surely_new(database_url):
        return False
    engine = create_engine(make_url(database_url))
    try:
        return inspect(engine).has_table(schema_meta.name)
    finally:
        engine.dispose()


@contextmanager
def _driver_cursor(conn: Connection, sql: str) -> Iterator[tuple]:
    """(the driver's cursor in the caller's transaction, ``sql`` with its ``?`` placeholders in the driver's own
    style); the cursor is closed on the way out. A SQLite read transaction is begun here, by its first statement
    (see :meth:`Store.begin`)."""
    driver = conn.connection.driver_connection
    if conn.info.get("deferred") and not driver.in_transaction:
        _on_driver(conn, "execute", "BEGIN")
    cursor = driver.cursor()
    try:
        yield cursor, _native(conn, sql)
    finally:
        cursor.close()


def _native(conn: Connection, sql: str) -> str:
    """``sql`` with its ``?`` placeholders in the driver's own style (PostgreSQL's driver takes ``%s``)."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def fast_scalar(conn: Connection, sql: str, *params):
    """One value of a tiny query that every request runs, straight through the driver in the caller's
    transaction: SQLAlchemy's statement path costs ten times the query itself there. ``sql`` uses ``?``
    placeholders, turned into the driver's own style."""
    with _driver_cursor(conn, sql) as (cursor, text):
        cursor.execute(text, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def fast_rows(conn: Connection, sql: str, *params) -> list[tuple]:
    """All rows of a query, as the driver's tuples, in the caller's transaction (as :func:`fast_scalar`): for the
    hot reads of many rows, where SQLAlchemy's per-row processing cost more than the database's work."""
    with _driver_cursor(conn, sql) as (cursor, text):
        cursor.execute(text, params)
        return cursor.fetchall()


def fast_execute(conn: Connection, sql: str, *params) -> int:
    """One statement straight through the driver, in the caller's transaction; the rows it changed."""
    with _driver_cursor(conn, sql) as (cursor, text):
        cursor.execute(text, params)
        return cursor.rowcount


def fast_execute_each(conn: Connection, statements: list[str], *params) -> None:
    """Several statements with the same parameters on one driver cursor, in the caller's transaction (as
    :func:`fast_execute`): a tenant's removal runs a DELETE per table, and a cursor and its context per statement
    cost more than SQLite's work on a table where the tenant has no rows."""
    with _driver_cursor(conn, "") as (cursor, _):
        for sql in statements:
            cursor.execute(_native(conn, sql), params)


def fast_executemany(conn: Connection, sql: str, rows: list[tuple]) -> None:
    """``executemany`` straight through the driver, in the caller's transaction (as :func:`fast_scalar`)."""
    with _driver_cursor(conn, sql) as (cursor, text):
        cursor.executemany(text, rows)


def _on_driver(conn: Connection, method: str, *args):
    """A transaction's BEGIN, COMMIT or ROLLBACK (or a PRAGMA) straight on the SQLite driver (SQLAlchemy's begin and
    commit, their events and bookkeeping, cost more than a small request's statements), and what it returns; its
    errors raised as SQLAlchemy raises them (a locked or full database: ``OperationalError``, which the app answers
    with 503 or 507)."""
    try:
        return getattr(conn.connection.driver_connection, method)(*args)
    except conn.dialect.dbapi.Error as exc:
        raise DBAPIError.instance(None, None, exc, conn.dialect.dbapi.Error, dialect=conn.dialect) from exc


RECHECK_SECONDS = 1.0  # how long a kept answer trusts the writers' count alone (see Seen)


class Seen:
    """The store as a read that made a kept answer saw it (emulator.answers), to tell later whether it changed since.

    Two witnesses. The writers' count (emulator.store.writers), read before the read's first statement: every
    commit the emulator's writers make moves it, in any process, and reading it costs no statement, where the
    request's first statement (``PRAGMA data_version``) was a tenth of a small GET. And SQLite's own version
    (``PRAGMA data_version`` in the read's snapshot, with the rows the connection changed itself): it also sees a
    writer outside the emulator (a ``sqlite3`` shell), which the count does not; a kept answer asks it again once
    a second. Where there is no count (an in-memory store, a file system without ``flock``), it is asked every
    time, as before."""

    __slots__ = ("count", "version", "changes", "checked")

    def __init__(self, count: int | None, version: int, changes: int):
        self.count, self.version, self.changes = count, version, changes
        self.checked = time.monotonic()


def seen_now(conn: Connection) -> Seen | None:
    """What the read in ``conn``'s transaction saw, at its end; None where nothing can be told later: PostgreSQL, a
    transaction that has read nothing, or one that began while a commit was under way (its count odd)."""
    if conn.dialect.name != "sqlite":
        return None
    driver = conn.connection.driver_connection
    count = conn.info.get("count")
    if not driver.in_transaction or count is not None and count % 2:
        return None
    return Seen(count, _on_driver(conn, "execute", "PRAGMA data_version").fetchone()[0], driver.total_changes)


def unchanged_since(conn: Connection, seen: Seen) -> bool:
    """Whether the store holds what it held when ``seen`` was taken, asked on ``conn`` (the connection that took it,
    before its transaction's first statement): the same writers' count and rows changed by the connection, and,
    unless SQLite was asked less than ``RECHECK_SECONDS`` ago, the same ``PRAGMA data_version``."""
    driver = conn.connection.driver_connection
    if driver.total_changes != seen.changes:
        return False
    now = time.monotonic()
    if seen.count is not None:
        turns = conn.info.get("turns")
        if turns is None or turns.count() != seen.count:
            return False
        if now - seen.checked < RECHECK_SECONDS:
            return True
    if _on_driver(conn, "execute", "PRAGMA data_version").fetchone()[0] != seen.version:
        return False
    seen.checked = now
    return True


KEPT_UNCHANGED = 64  # values a connection keeps for kept_while_unchanged, the least recently used first out


def kept_while_unchanged(conn: Connection, key: tuple, make: Callable[[], tuple]) -> tuple:
    """``make()`` (a tuple: nothing a caller could change), read in the transaction open on ``conn``, and kept on
    that connection under ``key`` while the store holds what it held when it was made: given again while
    :func:`unchanged_since` finds nothing committed since by anyone (what a kept answer is checked by,
    :mod:`emulator.answers`, for a value rather than a whole answer). ``key`` holds every other input (the tenant
    among them: a connection serves every tenant). Made every time on PostgreSQL, which tells no version, and in a
    transaction that has read nothing yet (the value must be its snapshot's, which is not taken yet)."""
    if conn.dialect.name != "sqlite" or not conn.connection.driver_connection.in_transaction:
        return make()
    shelf = conn.info.get("unchanged")
    if shelf is None:
        shelf = conn.info["unchanged"] = OrderedDict()
    hit = shelf.get(key)
    if hit is not None and unchanged_since(conn, hit[0]):
        shelf.move_to_end(key)
        return hit[1]
    value = make()
    seen = seen_now(conn)
    if seen is not None:
        shelf[key] = (seen, value)
        shelf.move_to_end(key)
        while len(shelf) > KEPT_UNCHANGED:
            shelf.popitem(last=False)
    return value


def noted(conn: Connection) -> dict:
    """What the transaction open on ``conn`` noted about itself, for its end or for its own later reads (a version to
    announce once committed, a model changed but not committed yet); :meth:`Store.begin` starts each afresh."""
    return conn.info.setdefault("noted", {})


def driver_rows(conn: Connection, stmt) -> list[tuple]:
    """All rows of a SQLAlchemy statement as the driver's tuples: the statement is compiled (and cached) as usual,
    and only the per-row processing is left out (SQLAlchemy's ``CursorResult.cursor``), for reads of thousands
    of rows whose columns need no conversion (text, integers)."""
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


class _Kept(threading.local):
    """A thread's SQLite connection between its transactions (see :class:`Store`). When the thread ends, its slot
    goes with it, and SQLAlchemy gives the connection of a collected ``Connection`` back to the pool."""

    conn: Connection | None = None
    generation = -1

    def take(self, generation: int) -> Connection | None:
        conn, self.conn = self.conn, None
        if conn is not None and self.generation != generation:  # made before a dispose: not used again
            conn.close()
            return None
        return conn


class Store:
    """The process's handle on the database.

    Every transaction is ended explicitly by :meth:`end`, so the pool does not reset connections
    on return (``pool_reset_on_return=None``): that would be a second rollback per request.

    Over a SQLite file, a thread keeps its connection between transactions instead of handing it back to the pool:
    taking a connection from the pool and returning it (SQLAlchemy's ``Connection``, its events) cost more than a
    small request's own statements. A transaction begun while the thread's own is open (rare: a nested helper)
    takes one from the pool. PostgreSQL's connections go back to the pool, which checks each one as it hands it
    out (``pool_pre_ping``: a restarted server); an in-memory database has one connection in all.
    """

    def __init__(self, database_url: str):
        self.url = database_url
        self.engine = make_engine(database_url)
        self.dialect = self.engine.dialect.name
        parsed = make_url(database_url)
        self._serial = threading.RLock() if _is_memory(parsed) else None
        self._kept = _Kept() if self.dialect == "sqlite" and self._serial is None else None
        self._generation = 0  # of the engine's pool: a dispose makes every kept connection stale
        self._turns = None  # a SQLite file's writers take turns (emulator.store.writers); others are serial already
        if self.dialect != "sqlite":
            self.beacon = None  # PostgreSQL's clients may be on other machines (emulator.store.beacon)
        elif self._serial is not None:
            self.beacon = Beacon()  # in memory: one process
        else:
            path = str(Path(parsed.database).expanduser().resolve())
            self.beacon = beside(path)
            self._turns = writers.beside(path)

    def init_schema(self, parts: Mapping[str, tuple[int, tuple]] | None = None) -> None:
        """Create the schema on first start; refuse a database of another schema version.

        The core tables carry ``SCHEMA_VERSION``; each API's tables (``parts``: name -> (version, tables), from
        the registry) carry their own, under ``schema_version.<api>``. An API new to an existing database gets
        its tables created; one whose version differs is refused, as the core is. An index added since a database
        was made is made on it (``INDEXES``, the indexes' generation, is recorded: a start finds it and checks
        nothing more)."""
        parts = parts or {}
        names = set(inspect(self.engine).get_table_names())
        if names and "schema_meta" not in names:
            raise StoreVersionError(
                f"the database {self.describe()} holds tables that are not the emulator's; "
                "point --database-url at an empty database"
            )
        wanted = {"schema_version": str(SCHEMA_VERSION)}
        wanted.update({f"schema_version.{name}": str(version) for name, (version, _) in parts.items()})
        if "schema_meta" in names:
            with self.transaction() as conn:
                found = dict(conn.execute(select(schema_meta.c.key, schema_meta.c.value)).all())
            for key, version in wanted.items():
                if key in found and found[key] != version or key == "schema_version" and key not in found:
                    part = "" if key == "schema_version" else f" ({key.partition('.')[2]} tables)"
                    raise StoreVersionError(
                        f"the database {self.describe()} was written with schema version {found.get(key, '?')}"
                        f"{part}; this emulator uses version {version}. Remove it (or use another "
                        "--data-dir/--database-url)."
                    )
            missing = [key for key in wanted if key not in found]
            if not missing and found.get("indexes") == str(INDEXES):
                return
        # only the tables that do not exist yet; an empty database has none, and asking each table cost a start
        metadata.create_all(self.engine, checkfirst=bool(names))
        if names:  # a database made before: the indexes added since (they change no data, so no version)
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    index.create(self.engine, checkfirst=True)
        with self.transaction(write=True) as conn:
            found = dict(conn.execute(select(schema_meta.c.key, schema_meta.c.value)).all())
            rows = [{"key": key, "value": version} for key, version in wanted.items() if key not in found]
            if rows:
                conn.execute(insert(schema_meta), rows)
            if "indexes" in found:
                conn.execute(update(schema_meta).where(schema_meta.c.key == "indexes").values(value=str(INDEXES)))
            else:
                conn.execute(insert(schema_meta), [{"key": "indexes", "value": str(INDEXES)}])

    def describe(self) -> str:
        return self.describe_url(self.url)

    @staticmethod
    def describe_url(url: str) -> str:
        return make_url(url).render_as_string(hide_password=True)

    def begin(self, write: bool = False, counted: bool = True) -> Connection:
        """Open a transaction; the caller must :meth:`end` it. ``write`` takes the write lock up front. A SQLite read
        transaction's BEGIN goes with its first statement (a deferred BEGIN takes its snapshot at the first read
        anyway): a request whose answer was kept (emulator.answers) runs none, and sends neither BEGIN nor COMMIT.
        ``counted=False``: a write of what no kept answer reads (the request journal's), whose commit does not move
        the writers' count (emulator.store.writers): under load the journal's commits, four a second in each
        worker, made every thread's kept answers be read again, a tenth of a small GET's throughput."""
        if self._serial is not None:
            self._serial.acquire()
        taken = False
        conn = None
        try:
            if self._takes_turn(write):
                self._take_turn()
                taken = True
            conn = self._kept.take(self._generation) if self._kept is not None else None
            if conn is None:
                conn = self.engine.connect()
            conn.info["write"] = write
            conn.info["counted"] = counted
            conn.info["noted"] = {}  # see noted()
            conn.info["deferred"] = self.dialect == "sqlite" and not write
            if self._turns is not None:  # the writers' count before the transaction's first statement (Seen)
                conn.info["turns"], conn.info["count"] = self._turns, self._turns.count()
            if self.dialect != "sqlite":
                conn.begin()
            elif write:
                _on_driver(conn, "execute", "BEGIN IMMEDIATE")
        except BaseException:
            try:
                if conn is not None:  # BEGIN failed (a locked database): the connection goes back to the pool
                    conn.close()
            finally:
                self._let_go(taken)
            raise
        return conn

    def _let_go(self, turn: bool) -> None:
        """Give back what a transaction held besides its connection: its writer's turn, if it took one, and an
        in-memory store's lock."""
        try:
            if turn:
                self._turns.give()
        finally:
            if self._serial is not None:
                self._serial.release()

    def _takes_turn(self, write: bool) -> bool:
        """Whether a transaction takes a writer's turn: a write into a SQLite file (emulator.store.writers)."""
        return write and self._turns is not None

    def _take_turn(self) -> None:
        """This writer's turn (emulator.store.writers); past SQLite's own busy timeout, the error SQLite gives."""
        try:
            self._turns.take(BUSY_SECONDS)
        except writers.TurnTimeout as exc:
            raise OperationalError("BEGIN IMMEDIATE", (), sqlite3.OperationalError("database is locked")) from exc

    def end(self, conn: Connection, commit: bool) -> None:
        """Commit (or roll back) and release the connection (kept by the thread, see above, when it ended cleanly
        and the thread keeps none yet), and the serial lock of an in-memory store."""
        ended = False
        announce = noted(conn).get("announce")
        turn = self._takes_turn(conn.info["write"])  # begin() took one
        counted = turn and commit and conn.info["counted"]
        try:
            if counted:
                self._turns.committing()
            try:
                if conn.in_transaction():  # SQLAlchemy's, begun by a statement of its own: it ends the driver's too
                    conn.commit() if commit else conn.rollback()
                else:  # SQLite's, begun by begin() and used through the driver alone
                    _on_driver(conn, "commit" if commit else "rollback")
            finally:
                if counted:
                    self._turns.committed()
            if commit and announce is not None:
                self.beacon.announce(announce)
            ended = True
        finally:
            try:
                kept = self._kept
                if ended and kept is not None and kept.conn is None and not conn.invalidated:
                    kept.conn, kept.generation = conn, self._generation
                else:
                    conn.close()
            finally:
                self._let_go(turn)

    @contextmanager
    def transaction(self, write: bool = False, counted: bool = True) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises (``counted``: :meth:`begin`)."""
        conn = self.begin(write, counted)
        ok = False
        try:
            yield conn
            ok = True
        finally:
            self.end(conn, commit=ok)

    def announce_on_commit(self, conn: Connection, version: int) -> None:
        """Announce ``version`` on the store's beacon (emulator.store.beacon) once ``conn``'s transaction commits
        (:meth:`end`); nothing if it is rolled back."""
        noted(conn)["announce"] = version

    def dispose(self) -> None:
        """Close the store's connections. An in-memory store's one connection is closed once no thread is in a
        transaction on it (its serial lock): closed under a journal flush, it crashed the process."""
        with self._serial if self._serial is not None else contextlib.nullcontext():
            self._forget_kept()
            self.engine.dispose()

    def _forget_kept(self) -> None:
        """Close this thread's kept connection, and make every other thread's stale (closed at its next use)."""
        self._generation += 1
        if self._kept is not None:
            self._kept.take(self._generation)  # stale now: closed

    def release(self) -> None:
        """Close the pooled connections (the next use opens new ones): ``serve``'s master, which made the app, holds
        none when it forks its workers (a SQLite or PostgreSQL connection must not cross a fork: each worker opens
        its own). An in-memory store keeps its one connection: it is the data (a single worker's copy)."""
        if self._serial is None:
            self._forget_kept()
            self.engine.dispose()
