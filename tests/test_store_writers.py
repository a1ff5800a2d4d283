"""The writers of a SQLite file take turns (emulator.store.writers): a writer waits for the writer before it on a lock
that hands over the moment it is released, not in SQLite's busy handler (which slept up to 100 ms between tries, so
that under steady writes a waiting writer kept missing its turn: 0.66-1.27 s at the 99th percentile where the median
was 13 ms). The latency itself is a benchmark row (bench_timeseries); here, what the turns do: two stores on one file
(as two worker processes have) wait for each other, a forked process takes its own turn instead of sharing its
parent's, a failed write gives its turn back, and the data of every writer is there."""

from __future__ import annotations

import multiprocessing
import stat
import threading
import time

import pytest
from sqlalchemy import text

from emulator.store import Store, writers


@pytest.fixture
def path(tmp_path):
    return tmp_path / "turns.sqlite3"


def _table(store: Store) -> None:
    with store.transaction(write=True) as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (writer TEXT, at REAL)"))


def test_two_stores_on_one_file_wait_for_each_other(path):
    first, second = Store(f"sqlite:///{path}"), Store(f"sqlite:///{path}")
    _table(first)
    entered = threading.Event()
    times: dict[str, float] = {}

    def write_second():
        with second.transaction(write=True) as conn:
            times["second"] = time.monotonic()
            entered.set()
            conn.execute(text("INSERT INTO t VALUES ('second', 0)"))

    conn = first.begin(write=True)
    conn.execute(text("INSERT INTO t VALUES ('first', 0)"))
    waiting = threading.Thread(target=write_second)
    waiting.start()
    assert not entered.wait(0.5)  # the first holds the turn: the second waits
    times["first done"] = time.monotonic()
    first.end(conn, commit=True)
    waiting.join(10)
    assert entered.is_set() and times["second"] >= times["first done"]
    with first.transaction() as conn:
        assert sorted(conn.execute(text("SELECT writer FROM t")).scalars()) == ["first", "second"]
    assert stat.S_IMODE(path.with_name(path.name + "-writers").stat().st_mode) == 0o600  # as private as the data
    first.dispose()
    second.dispose()


def test_the_threads_of_one_store_take_turns_and_lose_no_write(path):
    store = Store(f"sqlite:///{path}")
    _table(store)
    inside = []

    def writer(name: str):
        for i in range(20):
            with store.transaction(write=True) as conn:
                inside.append(name)
                assert len(inside) == 1  # nobody else's turn meanwhile
                conn.execute(text("INSERT INTO t VALUES (:w, :i)"), {"w": name, "i": i})
                inside.remove(name)

    threads = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with store.transaction() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 120
    store.dispose()


def test_a_failed_write_gives_its_turn_back(path):
    store = Store(f"sqlite:///{path}")
    _table(store)
    with pytest.raises(RuntimeError, match="the write fails"), store.transaction(write=True) as conn:
        conn.execute(text("INSERT INTO t VALUES ('lost', 0)"))
        raise RuntimeError("the write fails")
    done = threading.Event()

    def write():
        with store.transaction(write=True) as conn:
            conn.execute(text("INSERT INTO t VALUES ('kept', 0)"))
        done.set()

    threading.Thread(target=write).start()
    assert done.wait(5)
    with store.transaction() as conn:
        assert list(conn.execute(text("SELECT writer FROM t")).scalars()) == ["kept"]
    store.dispose()


def _child_takes(turns: writers.WriterTurns, parent_holds, queue) -> None:
    parent_holds.wait(10)
    turns.take(10)
    queue.put(time.time())
    turns.give()


def test_a_forked_process_takes_its_own_turn(path):
    """A worker forked from ``serve``'s master inherits the master's open lock file; a lock held through that one
    open file would be held by both. Each process opens its own."""
    turns = writers.beside(str(path))
    turns.take(1)  # the lock file is open in this process now
    turns.give()
    context = multiprocessing.get_context("fork")
    parent_holds, queue = context.Event(), context.Queue()
    child = context.Process(target=_child_takes, args=(turns, parent_holds, queue))
    child.start()
    turns.take(1)
    parent_holds.set()
    time.sleep(0.5)  # the child waits meanwhile
    released = time.time()
    turns.give()
    taken = queue.get(timeout=10)
    child.join(10)
    assert taken >= released
