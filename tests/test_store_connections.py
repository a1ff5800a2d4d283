"""The store's connections over a SQLite file: a thread keeps its own between transactions (emulator.store.engine),
and none is left checked out where that would be wrong: before ``serve`` forks its workers, after a thread ends,
after a dispose. Each is read off the pool's own count of connections checked out."""

from __future__ import annotations

import gc
import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from emulator.store import Store


def _store(tmp_path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store.init_schema()
    with store.transaction(write=True) as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    return store


def _checked_out(store: Store) -> int:
    return store.engine.pool.checkedout()


def test_a_thread_uses_one_connection_for_its_transactions_one_after_another(tmp_path):
    store = _store(tmp_path)
    seen = set()
    for _ in range(5):
        with store.transaction() as conn:
            seen.add(id(conn.connection.driver_connection))
    assert len(seen) == 1
    assert _checked_out(store) == 1  # the thread's own, between its transactions
    store.dispose()


def test_a_transaction_begun_inside_another_gets_a_connection_of_its_own(tmp_path):
    store = _store(tmp_path)
    with store.transaction() as outer:
        with store.transaction(write=True) as inner:
            assert inner.connection.driver_connection is not outer.connection.driver_connection
            inner.execute(text("INSERT INTO notes (body) VALUES ('inner')"))
        assert outer.execute(text("SELECT count(*) FROM notes")).scalar() in (0, 1)  # its snapshot, either way
    with store.transaction() as conn:
        assert conn.execute(text("SELECT body FROM notes")).scalars().all() == ["inner"]
    assert _checked_out(store) == 1  # the inner one went back to the pool: the thread keeps one
    store.dispose()


def test_release_before_a_fork_leaves_no_connection_checked_out(tmp_path):
    store = _store(tmp_path)
    with store.transaction() as conn:
        kept = conn.connection.driver_connection
    pool = store.engine.pool
    store.release()  # what serve's master does before its workers are forked
    assert pool.checkedout() == 0  # the pool it had: the kept connection was given back and closed
    with pytest.raises(sqlite3.ProgrammingError):  # no connection crosses the fork
        kept.execute("SELECT 1")
    with store.transaction() as conn:  # and the store works on afterwards, with a new connection
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0
    store.dispose()
    assert _checked_out(store) == 0


def test_a_thread_that_ends_gives_its_connection_back(tmp_path):
    store = _store(tmp_path)

    def work():
        with store.transaction(write=True) as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES ('from a thread')"))

    before = _checked_out(store)  # this thread's own
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gc.collect()
    assert _checked_out(store) == before == 1
    with store.transaction() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 4
    store.dispose()


def test_a_connection_kept_before_a_dispose_is_not_used_after_it(tmp_path):
    store = _store(tmp_path)
    with store.transaction() as conn:
        before = conn.connection.driver_connection
    other: list = []

    def elsewhere():  # another thread disposes of the engine (a reset, an import): this thread's kept one is stale
        store.dispose()
        other.append(True)

    t = threading.Thread(target=elsewhere)
    t.start()
    t.join()
    with store.transaction() as conn:
        assert conn.connection.driver_connection is not before
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0
    assert other == [True]
    store.dispose()


def test_a_failed_commit_does_not_leave_its_connection_kept(tmp_path):
    store = _store(tmp_path)
    conn = store.begin(write=True)
    conn.execute(text("INSERT INTO notes (body) VALUES ('x')"))
    conn.connection.driver_connection.close()  # the driver's connection is gone: the commit fails
    with pytest.raises(DBAPIError):
        store.end(conn, commit=True)
    with store.transaction() as fresh:
        assert fresh.connection.driver_connection is not None
        assert fresh.execute(text("SELECT count(*) FROM notes")).scalar() == 0
    store.dispose()
