"""Durability: every acknowledged write survives ``kill -9`` of the server, on a SQLite file and on PostgreSQL.

``mindsphere-emulator serve --workers 2`` runs as a child process. Client threads write time series (batches
of records on one asset, their times interleaved so that the writers share rollup buckets) and create assets
and update each a few times (merge PATCH with ``If-Match``). Mid-stream the whole process group gets SIGKILL;
the server is started again on the same database, and then:

* every acknowledged write (2xx received) is there with its exact values;
* no torn write: a batch nobody acknowledged (the kill cut its request) is wholly there or wholly absent, an
  asset is exactly the state of one of its requests (name, description and external id of the same
  revision, its etag counting the updates before it), and nothing is stored that no request sent;
* the aggregates (v4; 2-minute, hourly and daily intervals, each from its own rollups) agree with the raw
  records: per interval, the count and the sum of each numeric variable.

The workload and the checks are shared with the other durability tests (``test_durability_*.py``): PostgreSQL
restarted under load, and a full disk.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import requests

from conftest import backend_params, postgres_database
from emulator.testing import HAVE_PROC, ApiSession, ServerProcess, child_pids, fetch_token
from tests.support.paths import AGGREGATES_V4, ASSETS, TIMESERIES
from tests.support.timeseries import make_pump, read_all

MERGE = "application/merge-patch+json"
BASE = datetime(2026, 3, 2, tzinfo=UTC)  # writer w's n-th record is at BASE + (n * TS_WRITERS + w) * STEP
STEP = timedelta(seconds=7)  # the writers share 2-minute buckets; a few hundred batches span hours
BATCH = 20  # records per PUT
TS_WRITERS = 3
ASSET_WRITERS = 2
UPDATES = 3  # updates of each created asset
KILLS = 2  # kill -9 rounds of the kill test
ROUND_SPAN = timedelta(days=1)  # between the first record times of two rounds
CLIENT_ID, SECRET = "emutenant-client", "emulator-secret"
NUMERIC = ("count", "total", "temperature")  # the variables the aggregates are checked on


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse(text: str) -> datetime:
    return datetime.strptime(text.replace("Z", ""), "%Y-%m-%dT%H:%M:%S.%f" if "." in text else
                             "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)



def server_pids(srv: ServerProcess, workers: int, timeout: float = 15.0) -> list[int]:
    """gunicorn's master and its workers, once all are forked."""
    deadline = time.monotonic() + timeout
    kids = child_pids(srv.proc.pid)
    while HAVE_PROC and len(kids) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
        kids = child_pids(srv.proc.pid)
    return [srv.proc.pid, *kids]


def envelope_ok(path: str, body) -> bool:
    """The body is the error envelope of the API the path belongs to, with a message."""
    if not isinstance(body, dict):
        return False
    if path.startswith("/api/iottimeseries/"):
        return set(body) == {"id", "message"} and bool(body["message"])
    errors = body.get("errors")
    return (set(body) == {"errors"} and isinstance(errors, list) and len(errors) == 1
            and set(errors[0]) == {"code", "logref", "message"} and errors[0]["code"].startswith("mdsp.core.generic.")
            and bool(errors[0]["message"]))


def error_message(body) -> str:
    if isinstance(body, dict) and "message" in body:
        return body["message"]
    if isinstance(body, dict) and body.get("errors"):
        return body["errors"][0].get("message", "")
    return repr(body)[:200]


def make_record(epoch: datetime, w: int, n: int, status: str) -> dict:
    """Writer w's n-th record: its time and values follow from (w, n), so a check knows what was sent."""
    return {"_time": stamp(epoch + (n * TS_WRITERS + w) * STEP), "count": n, "total": w * 10**9 + n,
            "temperature": n * 0.25 - 40 + w, "running": n % 2 == 0, "status": status}


@dataclass
class Answer:
    op: str
    path: str
    started: float  # time.monotonic()
    seconds: float
    status: int | None  # None: no answer (connection refused or broken, timeout)
    body: object = None  # the decoded JSON of an error answer (or its text)
    error: str = ""
    data: object = None  # the decoded JSON of a 200 or 201


@dataclass
class AssetTrack:
    """One asset a writer made and updated: what it sent and what was acknowledged."""

    base: str  # the name before " r<rev>"
    asset_id: str | None = None  # known when the creation was acknowledged
    sent: int = -1  # the highest revision sent (0: the creation)
    acked: int = -1  # the highest revision acknowledged


@dataclass
class Workload:
    """Client threads writing to one emulator; what each request sent and what it got back.

    ``keep_going``: a writer carries on after a failed request (a database outage) instead of stopping
    (the server is gone). A failed batch is never sent again, so each record time belongs to one request.
    """

    url: str
    token: str
    root: str
    pump: str
    keep_going: bool = False
    prefix: str = "d"  # of the assets' names
    epoch: datetime = BASE  # of the records' times
    ts_writers: int = TS_WRITERS
    asset_writers: int = ASSET_WRITERS
    pause_after_failure: float = 0.02
    ts_acked: list[list[dict]] = field(default_factory=list)
    ts_unacked: list[list[dict]] = field(default_factory=list)
    ts_503: list[list[dict]] = field(default_factory=list)  # batches answered 503 "nothing was written"
    assets: list[AssetTrack] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._guarded, args=(self.ts_writer, w), daemon=True)
                        for w in range(self.ts_writers)]
        self.threads += [threading.Thread(target=self._guarded, args=(self.asset_writer, w), daemon=True)
                         for w in range(self.asset_writers)]

    def start(self) -> Workload:
        for t in self.threads:
            t.start()
        return self

    def finish(self, timeout: float = 30) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=timeout)
        assert not any(t.is_alive() for t in self.threads), "a writer did not finish"
        assert not self.crashes, "\n".join(self.crashes)

    def wait_for(self, ts_batches: int, assets: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.ts_acked) >= ts_batches and sum(a.acked >= 0 for a in self.assets) >= assets:
                return
            time.sleep(0.02)
        raise AssertionError(f"the writers got {len(self.ts_acked)} batches and "
                             f"{sum(a.acked >= 0 for a in self.assets)} assets in within {timeout} s")

    def _guarded(self, target, w: int) -> None:
        try:
            target(w)
        except Exception as exc:  # a bug of the test itself: reported by finish()
            self.crashes.append(f"writer {target.__name__}({w}): {exc!r}\n{traceback.format_exc()}")

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = "Bearer " + self.token
        return session

    def call(self, session, op: str, method: str, path: str, **kwargs) -> Answer:
        started = time.monotonic()
        try:
            resp = session.request(method, self.url + path, timeout=30, **kwargs)
        except requests.RequestException as exc:
            answer = Answer(op, path, started, time.monotonic() - started, None, error=repr(exc)[:300])
        else:
            body = None
            if resp.status_code >= 400:
                try:
                    body = resp.json()
                except ValueError:
                    body = resp.text[:300]
            data = resp.json() if resp.status_code in (200, 201) else None
            answer = Answer(op, path, started, time.monotonic() - started, resp.status_code, body, data=data)
        with self.lock:
            self.answers.append(answer)
        return answer

    def record(self, w: int, b: int, j: int) -> dict:
        return make_record(self.epoch, w, b * BATCH + j, f"w{w}b{b}")

    def failed(self, answer: Answer) -> bool:
        """After a failed request: True when the writer should stop."""
        if not self.keep_going:
            return True
        time.sleep(self.pause_after_failure)
        return False

    def ts_writer(self, w: int) -> None:
        session = self._session()
        b = 0
        while not self.stop.is_set():
            batch = [self.record(w, b, j) for j in range(BATCH)]
            b += 1
            answer = self.call(session, "ts-put", "PUT", f"{TIMESERIES}/{self.pump}/Sensors", json=batch)
            if answer.status == 204:
                with self.lock:
                    self.ts_acked.append(batch)
                continue
            with self.lock:
                self.ts_unacked.append(batch)
                # a 503 before the commit wrote nothing; one from the commit itself ("could not be committed")
                # may hide a commit that happened as the connection dropped: its outcome is unknown
                if answer.status == 503 and "could not be committed" not in error_message(answer.body):
                    self.ts_503.append(batch)
            if self.failed(answer):
                return

    def asset_writer(self, w: int) -> None:
        session = self._session()
        k = 0
        while not self.stop.is_set():
            track = AssetTrack(f"{self.prefix}{w}-{k}")
            k += 1
            with self.lock:
                self.assets.append(track)
            track.sent = 0
            answer = self.call(session, "asset-post", "POST", ASSETS, json={
                "typeId": "core.basicasset", "parentId": self.root, **self.revision(track.base, 0)})
            if answer.status != 201:
                if self.failed(answer):
                    return
                continue
            track.asset_id, track.acked = answer.data["assetId"], 0
            for rev in range(1, UPDATES + 1):
                if self.stop.is_set():
                    return
                track.sent = rev
                answer = self.call(session, "asset-patch", "PATCH", f"{ASSETS}/{track.asset_id}",
                                   json=self.revision(track.base, rev),
                                   headers={"If-Match": f'"{rev - 1}"', "Content-Type": MERGE})
                if answer.status != 200:
                    if self.failed(answer):
                        return
                    break  # the asset's state is unknown now: the next asset
                assert answer.data["etag"] == rev, answer.data
                track.acked = rev

    @staticmethod
    def revision(base: str, rev: int) -> dict:
        return {"name": f"{base} r{rev}", "description": f"{base} rev {rev}", "externalId": f"{base}-r{rev}"}

    # ---- figures ----

    def figures(self) -> dict:
        unacked_assets = sum(a.sent > a.acked for a in self.assets)
        return {"ts_batches_acked": len(self.ts_acked), "ts_records_acked": BATCH * len(self.ts_acked),
                "ts_batches_unacked": len(self.ts_unacked),
                "asset_writes_acked": sum(a.acked + 1 for a in self.assets if a.acked >= 0),
                "asset_writes_unacked": unacked_assets}


# ---- reading back and checking ----

def read_stored(api: ApiSession, asset: str) -> dict[str, dict]:
    """Every record this test can have written (its times lie within 20 days of ``BASE``)."""
    return read_all(api, asset, stamp(BASE - timedelta(days=1)), stamp(BASE + timedelta(days=20)))


def check_time_series(stored: dict[str, dict], acked: list[list[dict]], unacked: list[list[dict]],
                      refused_absent: bool = False) -> dict:
    """Acknowledged batches whole and exact; unacknowledged ones whole or absent (absent with
    ``refused_absent``: the server said nothing was written); nothing stored that was never sent."""
    problems = []
    for batch in acked:
        for rec in batch:
            if stored.get(rec["_time"]) != rec:
                problems.append(f"acknowledged record lost or torn: sent {rec}, stored {stored.get(rec['_time'])}")
    present = 0
    for batch in unacked:
        found = [stored.get(rec["_time"]) for rec in batch]
        if all(f is None for f in found):
            continue
        present += 1
        if refused_absent:
            problems.append(f"a refused batch from {batch[0]['_time']} is stored (the answer said nothing was)")
        if found != batch:
            problems.append(f"unacknowledged batch from {batch[0]['_time']} partly stored or torn: "
                            f"{sum(f == r for f, r in zip(found, batch, strict=True))} of {len(batch)} as sent")
    sent = {rec["_time"] for batch in acked + unacked for rec in batch}
    extra = sorted(set(stored) - sent)
    if extra:
        problems.append(f"{len(extra)} records nobody sent, e.g. {stored[extra[0]]}")
    assert not problems, "\n".join(problems[:20]) + (f"\n... {len(problems)} in all" if len(problems) > 20 else "")
    return {"records": len(stored), "unacked_batches_present": present,
            "unacked_batches_absent": len(unacked) - present}


def check_aggregates(api: ApiSession, asset: str, stored: dict[str, dict]) -> int:
    """v4 aggregates by 2 minutes, by hour and by day against the raw records: per interval the count and
    the sum of each numeric variable; every record counted once. Returns the intervals compared."""
    if not stored:
        return 0
    points = sorted((parse(t), rec) for t, rec in stored.items())
    first, last = points[0][0], points[-1][0]
    compared = 0
    for unit, value, window in (("minute", 2, timedelta(hours=20)), ("hour", 1, timedelta(days=6)),
                                ("day", 1, timedelta(days=80))):  # windows within v4's maximum ranges
        start = first.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        intervals = []
        while start <= last:
            resp = api.get(AGGREGATES_V4, params={"assetId": asset, "aspectName": "Sensors", "from": stamp(start),
                                                  "to": stamp(start + window), "intervalUnit": unit,
                                                  "intervalValue": value, "select": ",".join(NUMERIC)})
            assert resp.status_code == 200, resp.text
            intervals += resp.json()["aggregates"]
            start += window
        counted = 0
        for agg in intervals:
            lo, hi = parse(agg["starttime"]), parse(agg["endtime"])
            inside = [rec for t, rec in points if lo < t <= hi]
            for var in NUMERIC:
                values = [rec[var] for rec in inside if var in rec]
                got = agg.get(var)
                assert got is not None, f"{unit} interval {agg['starttime']}: no {var}, {len(values)} records"
                count = got["countgood"] + got["countuncertain"] + got["countbad"]
                assert count == len(values), (f"{unit} interval {agg['starttime']}: {var} counted {count}, "
                                              f"{len(values)} raw records")
                assert math.isclose(got["sum"], math.fsum(values), rel_tol=1e-12, abs_tol=1e-9), (
                    f"{unit} interval {agg['starttime']}: {var} sum {got['sum']}, raw records {math.fsum(values)}")
            counted += len(inside)
        assert counted == len(points), f"{unit} intervals count {counted} records, {len(points)} stored"
        compared += len(intervals)
    return compared


def list_assets(api: ApiSession, prefix: str) -> list[dict]:
    found, page = [], 0
    while True:
        resp = api.get(ASSETS, params={"filter": json.dumps({"name": {"startsWith": prefix}}), "size": 200,
                                       "page": page})
        assert resp.status_code == 200, resp.text
        found += resp.json().get("_embedded", {}).get("assets", [])
        if page + 1 >= resp.json()["page"]["totalPages"]:
            return found
        page += 1


def check_assets(api: ApiSession, tracks: list[AssetTrack], prefix: str, refused_absent: bool = False) -> dict:
    """Each asset is exactly one revision a request sent: at least the last acknowledged, at most the last
    sent (with ``refused_absent``: exactly the last acknowledged); its etag counts the updates."""
    by_base: dict[str, list[dict]] = {}
    for asset in list_assets(api, prefix):
        by_base.setdefault(asset["name"].rsplit(" r", 1)[0], []).append(asset)
    problems = []
    unacked_present = 0
    for track in tracks:
        found = by_base.pop(track.base, [])
        if track.acked < 0 and not found:
            continue  # an unacknowledged creation that did not happen
        if len(found) != 1:
            problems.append(f"{track.base}: {len(found)} assets (creation acknowledged: {track.acked >= 0})")
            continue
        asset = found[0]
        rev = int(asset["name"].rsplit(" r", 1)[1])
        want = Workload.revision(track.base, rev)
        if {k: asset[k] for k in want} != want or asset["etag"] != rev:
            problems.append(f"{track.base}: torn: {({k: asset[k] for k in (*want, 'etag')})}")
        if track.asset_id is not None and asset["assetId"] != track.asset_id:
            problems.append(f"{track.base}: id {asset['assetId']}, acknowledged {track.asset_id}")
        top = track.acked if refused_absent else track.sent
        if not track.acked <= rev <= top:
            problems.append(f"{track.base}: revision {rev}, acknowledged {track.acked}, sent {track.sent}")
        unacked_present += rev > track.acked
    for base, extra in by_base.items():
        problems.append(f"{base}: {len(extra)} assets nobody created")
    assert not problems, "\n".join(problems[:20])
    return {"assets": len(tracks), "unacked_asset_writes_present": unacked_present}


def set_up(url: str) -> tuple[str, str, str]:
    """A token, the root asset and a pump (aspect ``Sensors``) in the default tenant."""
    token = fetch_token(url, CLIENT_ID, SECRET)
    with ApiSession(url, token) as api:
        root = api.get(f"{ASSETS}/root").json()["assetId"]
        pump = make_pump(api, {"name": "emutenant", "rootAssetId": root})
    return token, root, pump


def check_everything(api: ApiSession, loads: list[Workload], refused_absent: bool = False) -> dict:
    """Every check, over the writes of one or more workloads on the same pump."""
    stored = read_stored(api, loads[0].pump)
    figures = check_time_series(stored, [b for load in loads for b in load.ts_acked],
                                [b for load in loads for b in load.ts_unacked], refused_absent)
    for load in loads:
        for key, value in check_assets(api, load.assets, load.prefix, refused_absent).items():
            figures[key] = figures.get(key, 0) + value
    figures["aggregate_intervals_compared"] = check_aggregates(api, loads[0].pump, stored)
    return figures


def sum_figures(loads: list[Workload]) -> dict:
    total: dict = {}
    for load in loads:
        for key, value in load.figures().items():
            total[key] = total.get(key, 0) + value
    return total


class Summary:
    """The figures of the durability tests in pytest's terminal summary (shown without ``-s``)."""

    def __init__(self):
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "durability")
        for line in self.lines:
            terminalreporter.write_line(line)


def report(request, name: str, figures: dict) -> None:
    """The figures as the test's JUnit properties and a line of the terminal summary."""
    for key, value in figures.items():
        request.node.user_properties.append((key, value))
    plugins = request.config.pluginmanager
    summary = plugins.get_plugin("durability-summary")
    if summary is None:
        summary = Summary()
        plugins.register(summary, "durability-summary")
    summary.lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


# ---- kill -9 ----

@pytest.fixture
def database(backend, tmp_path):
    """A fresh database of the backend: a SQLite file, or a new database on the test PostgreSQL server."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'emulator.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


@pytest.mark.parametrize("backend", backend_params())
def test_acknowledged_writes_survive_kill_9(backend, database, request):
    args = ("--port", "0", "--database-url", database, "--no-pump")
    loads = []
    rng = random.Random(9)
    for round_no in range(KILLS):  # each round: start, write, SIGKILL mid-stream; the next starts on what is left
        with ServerProcess(*args, "--workers", "2") as srv:
            if round_no == 0:
                token, root, pump = set_up(srv.url)
            else:
                token = fetch_token(srv.url, CLIENT_ID, SECRET)
            load = Workload(srv.url, token, root, pump, prefix=f"k{round_no}-", epoch=BASE + round_no * ROUND_SPAN)
            loads.append(load.start())
            load.wait_for(ts_batches=20, assets=3)
            time.sleep(rng.uniform(0, 0.3))
            srv.kill()  # SIGKILL to the whole process group (master and workers), mid-write
            load.finish()
        refused = [a for a in load.answers if a.status is not None and a.status >= 300]
        assert not refused, f"round {round_no}, before the kill: {refused[:5]}"
    with ServerProcess(*args) as srv, ApiSession(srv.url, fetch_token(srv.url, CLIENT_ID, SECRET)) as api:
        figures = {"kills": KILLS, **sum_figures(loads), **check_everything(api, loads)}
        after = api.put(f"{TIMESERIES}/{pump}/Sensors", json=[{"_time": stamp(BASE - timedelta(days=1)), "count": 1}])
        assert after.status_code == 204, after.text  # and it writes again
    report(request, f"kill -9 ({backend})", figures)
