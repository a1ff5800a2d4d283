"""Durability: PostgreSQL restarted under load, the emulator left running.

A throwaway PostgreSQL cluster of this test's own (``.ci/postgres`` with another port and data directory:
the suite's shared server is never touched) holds the database of ``serve --workers 2``. While client threads
write time series and create and update assets (see :mod:`test_durability`), the database server is stopped
twice, ``fast`` (its sessions ended, a clean shutdown) and ``immediate`` (a crash, recovered when it starts),
each time for a couple of seconds, then started again. Asserted:

* every request gets an answer, well within the client's timeout (none hangs);
* an answer during an outage is a 5xx in the API's own error envelope, with a message; no 4xx anywhere;
* once the database is back, the same emulator processes (no restart) answer every request with success;
* every acknowledged write is there with its exact values, no write is torn, the aggregates agree with the
  raw records (the checks of :mod:`test_durability`); a write answered 503 ("nothing was written") is not.

Needs PostgreSQL's server binaries (Debian's layout, as ``.ci/postgres`` finds them): skipped without them
locally, failed without them in CI (``.ci/run`` installs them).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from test_durability import (
    CLIENT_ID,
    HAVE_PROC,
    SECRET,
    Workload,
    check_everything,
    child_pids,
    envelope_ok,
    error_message,
    read_stored,
    report,
    server_pids,
    set_up,
)

from conftest import IN_CI
from emulator.testing import ApiSession, ServerProcess, fetch_token

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "postgres"
OUTAGE = 2.0  # seconds the database stays down
SLOW = 10.0  # no answer may take this long (the client's timeout is 30 s)


def have_binaries() -> bool:
    return any(Path(d, "initdb").exists() for d in glob.glob("/usr/lib/postgresql/*/bin"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of the test's own, started and stopped by ``.ci/postgres``."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="mdsp-durability-pg-")  # under /tmp: the postgres user reaches it
        self.env = {**os.environ, "MDSP_EMU_PG_PORT": str(free_port()), "MDSP_EMU_PG_DATA": self.data}
        self.url = ""

    def _run(self, *args: str) -> str:
        done = subprocess.run(["bash", str(SCRIPT), *args], env=self.env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f".ci/postgres {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def start(self) -> None:
        out = self._run("start")
        self.url = out.strip().rpartition("=")[2]

    def stop(self, mode: str = "fast") -> None:
        self._run("stop", mode)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data, ignore_errors=True)


@pytest.fixture
def cluster():
    if not have_binaries():
        if IN_CI:
            pytest.fail("CI=true but PostgreSQL's server binaries are missing: .ci/run must install them")
        pytest.skip("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are not installed")
    own = Cluster()
    try:
        own.start()
        yield own
    finally:
        own.remove()


def test_postgres_restarted_under_load(cluster, request):
    with ServerProcess("--port", "0", "--database-url", cluster.url, "--workers", "2", "--no-pump") as srv:
        pids = server_pids(srv, 2)
        token, root, pump = set_up(srv.url)
        load = Workload(srv.url, token, root, pump, keep_going=True, prefix="pg-").start()
        load.wait_for(ts_batches=10, assets=2)
        outages = []  # (mode, stop begun, stopped, start begun, started)
        token_answers = []  # an unauthenticated caller's token request while the database is down
        for mode in ("fast", "immediate"):
            began = time.monotonic()
            cluster.stop(mode)
            stopped = time.monotonic()
            token_answers.append(requests.post(srv.url + "/oauth/token", data={"grant_type": "client_credentials"},
                                               auth=(CLIENT_ID, SECRET), timeout=30))
            time.sleep(OUTAGE)
            restarting = time.monotonic()
            cluster.start()
            outages.append((mode, began, stopped, restarting, time.monotonic()))
            served = len(load.ts_acked)
            deadline = time.monotonic() + 15
            while len(load.ts_acked) < served + 10 and time.monotonic() < deadline:
                time.sleep(0.05)  # the writers get some batches in before the next outage
        time.sleep(0.5)
        load.finish()
        assert srv.proc.poll() is None, "the emulator exited"
        assert not HAVE_PROC or server_pids(srv, 2) == pids, (
            f"gunicorn's processes changed: {pids} -> {[srv.proc.pid, *child_pids(srv.proc.pid)]}\n{srv.output}")

        problems, during = [], Counter()
        for a in load.answers:
            outage = next((o for o in outages if o[1] <= a.started + a.seconds and a.started <= o[4]), None)
            if a.status is None:
                problems.append(f"{a.op}: no answer after {a.seconds:.1f} s: {a.error}")
            elif a.seconds > SLOW:
                problems.append(f"{a.op}: answered {a.status} after {a.seconds:.1f} s")
            elif a.status >= 500:
                if outage is None:
                    problems.append(f"{a.op}: {a.status} outside the outages: {a.body}")
                elif not envelope_ok(a.path, a.body):
                    problems.append(f"{a.op}: {a.status} not in the API's envelope: {a.body}")
                else:
                    during[(a.status, error_message(a.body))] += 1
            elif a.status >= 400:
                problems.append(f"{a.op}: {a.status} {a.body}")
            elif outage is not None:
                during[(a.status, "")] += 1
            down = [o for o in outages if o[2] <= a.started and a.started + a.seconds <= o[3]]
            if down and a.status is not None and a.status < 500:
                problems.append(f"{a.op}: {a.status} while the database was down")
        assert not problems, "\n".join(problems[:20]) + f"\n({len(problems)} in all)"
        port = cluster.env["MDSP_EMU_PG_PORT"]  # [trust] item 14: no answer tells where the database is
        assert [a.status_code for a in token_answers] == [503, 503], [a.text for a in token_answers]
        told = [m for (_, m) in during] + [a.text for a in token_answers]
        assert not [m for m in told if port in m or "connection to server" in m], told
        failed = sum(n for (status, _), n in during.items() if status >= 500)
        assert failed >= 2, f"the writers sent nothing during the outages: {during}"
        for i, (mode, *_, started) in enumerate(outages):
            until = outages[i + 1][1] if i + 1 < len(outages) else float("inf")
            after = [a for a in load.answers if started < a.started and a.started + a.seconds < until]
            assert after and all(a.status is not None and a.status < 300 for a in after), (
                f"after the {mode} restart: {Counter(a.status for a in after)}")

        with ApiSession(srv.url, fetch_token(srv.url, CLIENT_ID, SECRET)) as api:
            figures = check_everything(api, [load])
            stored = read_stored(api, pump)
        said_nothing = [b[0]["_time"] for b in load.ts_503 if any(r["_time"] in stored for r in b)]
        assert not said_nothing, f"batches answered 503 'nothing was written' are stored: {said_nothing}"
    figures = {**load.figures(), **figures, "requests": len(load.answers),
               "answers_during_outages": dict(sorted(Counter(s for s, _ in during.elements()).items())),
               "outage_messages": sorted({m for (s, m) in during if s >= 500}),
               "batches_answered_503_and_absent": len(load.ts_503),
               "slowest_answer_s": round(max(a.seconds for a in load.answers), 2)}
    report(request, "PostgreSQL restarted under load", figures)
