"""The CI backend under load: ``serve --workers 4`` over one PostgreSQL database and 16 concurrent clients.

For ``MDSP_EMU_LOAD_SECONDS`` seconds (default 60) each client, a thread with its own ``requests.Session``
and token, writes time series records (shared assets, interleaved times, so rollup buckets are shared too),
reads earlier writes back, and every few requests races the three other clients of its group for one asset:
all four send a PUT or a merge PATCH with the same ``If-Match`` etag at once. Afterwards everything is read
back. Asserted: no 5xx (and no other unexpected answer), no lost write (every acknowledged record is stored
with its exact values and counted by the aggregates; every 200 update is in the asset's final state and its
etag counts them), exactly one winner and 412 for the others in every race, and four worker processes that
all served and none of which died. Requests per second and latency percentiles go to the terminal summary
and to ``record_property`` (JUnit).

PostgreSQL comes from ``MDSP_EMU_TEST_POSTGRES_URL`` (``eval "$(bash .ci/postgres start)"``): skipped
without it locally, failed without it in CI, by the rule of the project's conftest.
"""

from __future__ import annotations

import functools
import math
import os
import re
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import pytest
import requests

from conftest import backend_params, postgres_database
from emulator.testing import HAVE_PROC, ApiSession, ServerProcess, child_pids, fetch_token
from tests.support.paths import ASSETS, TIMESERIES
from tests.support.tenants import create_tenant, tenant_session
from tests.support.timeseries import make_pump, read_all

SECONDS = float(os.environ.get("MDSP_EMU_LOAD_SECONDS", "60"))
WORKERS = 4
CLIENTS = 16
GROUP = 4  # clients per time series asset, and per raced asset
RACE_EVERY = 6  # a client races on every 6th step
BASE = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday; client c's n-th record is at BASE + (16 n + c) s + random ms
UNCERTAIN, BAD = 0x40000000, 0x80000000
MERGE = "application/merge-patch+json"
POSTGRES = [p for p in backend_params() if p.id == "postgresql"]  # conftest's rule: skip locally, fail in CI


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


# ---- worker processes, from /proc (Linux) ----




def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


# ---- the load ----

class Load:
    """What the clients share: the server, the assets, the race barriers and what the races left."""

    def __init__(self, url: str, tenant: dict, ts_assets: list[str], race_assets: list[dict]):
        self.url = url
        self.tenant = tenant
        self.ts_assets = ts_assets
        self.race_assets = [a["assetId"] for a in race_assets]
        self.deadline = math.inf
        self.lock = threading.Lock()
        # per race group: the round, the etag its racers send, the winners so far and the state they made
        self.current: list[tuple[int, int | None]] = [(0, None)] * len(race_assets)
        self.wins = [0] * len(race_assets)
        self.expected = [{k: a[k] for k in ("name", "externalId", "description")} for a in race_assets]
        self.initial_etags = [a["etag"] for a in race_assets]
        self.calls: list[tuple[str, int | None, float]] = []  # the barrier actions' GETs
        self.failures: list[str] = []
        client = tenant["clients"][0]
        self.action_sessions = [ApiSession(url, fetch_token(url, client["clientId"], client["clientSecret"]))
                                for _ in race_assets]
        self.barriers = [threading.Barrier(GROUP, action=functools.partial(self.next_round, g), timeout=60)
                         for g in range(len(race_assets))]

    def next_round(self, group: int) -> None:
        """Runs once per round, when the group's four racers have all arrived: reads the etag they will send."""
        round_no = self.current[group][0] + 1
        self.current[group] = (round_no, None)
        path = f"{ASSETS}/{self.race_assets[group]}"
        start = time.perf_counter()
        try:
            resp = self.action_sessions[group].get(path)
        except requests.RequestException as exc:
            self.calls.append(("asset-get", None, time.perf_counter() - start))
            self.failures.append(f"GET {path}: no answer: {exc!r}")
            return
        self.calls.append(("asset-get", resp.status_code, time.perf_counter() - start))
        if resp.status_code != 200:
            self.failures.append(f"GET {path} -> {resp.status_code} {resp.text[:300]}")
            return
        body = resp.json()
        want = self.initial_etags[group] + self.wins[group]
        if body["etag"] != want or resp.headers.get("ETag") != f'"{want}"':
            self.failures.append(f"GET {path} after {self.wins[group]} winning updates: etag {body['etag']} "
                                 f"(header {resp.headers.get('ETag')}), expected {want}")
        seen = {k: body.get(k) for k in self.expected[group]}
        if seen != self.expected[group]:
            self.failures.append(f"GET {path} round {round_no}: {seen}, expected the last winner's "
                                 f"{self.expected[group]}")
        self.current[group] = (round_no, body["etag"])


class Client(threading.Thread):
    def __init__(self, index: int, load: Load):
        super().__init__(name=f"load-client-{index}", daemon=True)
        self.index = index
        self.load = load
        self.ts_asset = load.ts_assets[index % GROUP]
        self.race_group = index // GROUP
        self.racing = True
        self.rng = Random(index)
        self.n = 0
        client = load.tenant["clients"][0]
        self.session = ApiSession(load.url, fetch_token(load.url, client["clientId"], client["clientSecret"]))
        self.calls: list[tuple[str, int | None, float]] = []  # (operation, status or None, seconds)
        self.failures: list[str] = []
        self.batches: list[list[dict]] = []  # acknowledged writes
        self.unacknowledged: list[dict] = []
        self.races: list[dict] = []
        self.crash: str | None = None

    def run(self) -> None:
        try:
            step = 0
            while time.monotonic() < self.load.deadline:
                step += 1
                if self.racing and step % RACE_EVERY == 0:
                    self.race()
                elif self.batches and self.rng.random() < 0.35:
                    self.read_back(self.rng.choice(self.batches))
                else:
                    self.write()
        except BaseException:
            self.crash = traceback.format_exc()
        finally:
            self.load.barriers[self.race_group].abort()  # the others of the group stop racing, not waiting
            self.session.close()

    def call(self, op: str, method: str, path: str, **kwargs) -> requests.Response | None:
        start = time.perf_counter()
        try:
            resp = self.session.request(method, path, **kwargs)
        except requests.RequestException as exc:
            self.calls.append((op, None, time.perf_counter() - start))
            self.failures.append(f"{method} {path}: no answer: {exc!r}")
            return None
        self.calls.append((op, resp.status_code, time.perf_counter() - start))
        return resp

    def unexpected(self, resp: requests.Response, what: str) -> None:
        self.failures.append(f"{resp.request.method} {resp.request.path_url} ({what}) -> {resp.status_code} "
                             f"{resp.text[:300]}")

    def record(self) -> dict:
        rng, n = self.rng, self.n
        self.n += 1
        t = BASE + timedelta(seconds=n * CLIENTS + self.index, milliseconds=rng.randrange(1000))
        rec = {"_time": stamp(t), "count": n, "total": self.index * 10**12 + n,
               "temperature": round(rng.uniform(-40, 120), 3), "running": rng.random() < 0.5,
               "status": f"c{self.index}n{n % 1000}"}
        if rng.random() < 0.3:
            rec["temperature_qc"] = rng.choice([0, UNCERTAIN, BAD])
        if rng.random() < 0.1:
            del rec["temperature"]  # a partial record
            rec.pop("temperature_qc", None)
        if rng.random() < 0.1:
            rec["log"] = "".join(rng.choice("abc xyz") for _ in range(rng.randrange(1, 1000)))
        if rng.random() < 0.1:
            rec["serviced"] = "2024-12-01T08:30:00Z"
        return rec

    def write(self) -> None:
        records = [self.record() for _ in range(self.rng.randint(1, 20))]
        resp = self.call("ts-write", "PUT", f"{TIMESERIES}/{self.ts_asset}/Sensors", json=records)
        if resp is not None and resp.status_code == 204:
            self.batches.append(records)
            return
        self.unacknowledged.extend(records)
        if resp is not None:
            self.unexpected(resp, f"{len(records)} records from {records[0]['_time']}")

    def read_back(self, batch: list[dict]) -> None:
        after = stamp(parse(batch[0]["_time"]) - timedelta(milliseconds=1))
        resp = self.call("ts-read", "GET", f"{TIMESERIES}/{self.ts_asset}/Sensors",
                         params={"from": after, "to": batch[-1]["_time"]})
        if resp is None:
            return
        if resp.status_code != 200:
            self.unexpected(resp, "reading back an acknowledged write")
            return
        stored = {r["_time"]: r for r in resp.json()}
        for rec in batch:
            if stored.get(rec["_time"]) != rec:
                self.failures.append(f"read back {self.ts_asset} at {rec['_time']}: {stored.get(rec['_time'])}, "
                                     f"acknowledged {rec}")

    def race(self) -> None:
        group = self.race_group
        try:
            self.load.barriers[group].wait()
        except threading.BrokenBarrierError:
            self.racing = False  # a client of the group has finished (or the barrier timed out)
            return
        round_no, etag = self.load.current[group]
        if etag is None:  # the round's GET failed (recorded)
            return
        asset = self.load.race_assets[group]
        marker = f"c{self.index}r{round_no}"
        if_match = f'"{etag}"' if self.rng.random() < 0.5 else str(etag)  # both forms are accepted
        if (round_no + self.index) % 2:
            kind, body = "PUT", {"name": f"N {marker}", "externalId": f"E-{marker}", "description": f"put {marker}",
                                 "location": None, "variables": [], "aspects": []}
            resp = self.call("asset-put", "PUT", f"{ASSETS}/{asset}", json=body, headers={"If-Match": if_match})
        else:
            kind, body = "PATCH", {"description": f"patch {marker}"}
            resp = self.call("asset-patch", "PATCH", f"{ASSETS}/{asset}", json=body,
                             headers={"If-Match": if_match, "Content-Type": MERGE})
        status = None if resp is None else resp.status_code
        self.races.append({"group": group, "round": round_no, "etag": etag, "kind": kind, "status": status})
        if status == 200:
            got = resp.json()
            if got["etag"] != etag + 1 or resp.headers.get("ETag") != f'"{etag + 1}"':
                self.failures.append(f"{kind} {asset} If-Match {etag} -> 200 with etag {got['etag']} "
                                     f"(header {resp.headers.get('ETag')})")
            with self.load.lock:
                self.load.wins[group] += 1
                self.load.expected[group].update({k: v for k, v in body.items() if k in self.load.expected[group]})
            if {k: got.get(k) for k in body if k in self.load.expected[group]} != {
                    k: v for k, v in body.items() if k in self.load.expected[group]}:
                self.failures.append(f"{kind} {asset} -> 200 answered {got}, sent {body}")
        elif status != 412 and resp is not None:
            self.unexpected(resp, f"race round {round_no}, If-Match {if_match}")


# ---- setup and checks ----

def set_up(url: str) -> tuple[dict, list[str], list[dict]]:
    """A tenant, its time series assets (type Pump, dynamic aspect Sensors) and the assets to race for."""
    with ApiSession(url) as admin:
        tenant = create_tenant(admin, "load" + uuid.uuid4().hex[:8])
    with tenant_session(url, tenant) as api:
        ts_assets = [make_pump(api, tenant)]  # also makes the aspect types and the asset type
        for i in range(1, CLIENTS // GROUP):
            resp = api.post(ASSETS, json={"name": f"P{i}", "typeId": f"{tenant['name']}.Pump",
                                          "parentId": tenant["rootAssetId"]})
            assert resp.status_code == 201, resp.text
            ts_assets.append(resp.json()["assetId"])
        race_assets = []
        for g in range(CLIENTS // GROUP):
            resp = api.post(ASSETS, json={"name": f"R{g}", "typeId": "core.basicasset",
                                          "parentId": tenant["rootAssetId"], "description": "initial"})
            assert resp.status_code == 201, resp.text
            race_assets.append(resp.json())
    return tenant, ts_assets, race_assets


def read_stored(api: ApiSession, asset: str) -> dict[str, dict]:
    """Every record this test can have written (its times lie within 60 days of ``BASE``)."""
    return read_all(api, asset, stamp(BASE - timedelta(days=1)), stamp(BASE + timedelta(days=60)))


def rollup_totals(api: ApiSession, asset: str, last: datetime) -> tuple[int, int]:
    """countgood and sum of the INT variable ``count`` over all the asset's days, from the aggregates."""
    start = datetime(2025, 1, 5, 23, tzinfo=UTC)  # midnight of 6 January in Europe/Berlin, the tenant's zone
    days = (last - start).days + 1
    resp = api.get("/api/iottsaggregates/v4/aggregates", params={
        "assetId": asset, "aspectName": "Sensors", "from": stamp(start), "to": stamp(start + timedelta(days=days)),
        "intervalUnit": "day", "intervalValue": 1, "select": "count"})
    assert resp.status_code == 200, resp.text
    aggregates = resp.json()["aggregates"]
    return sum(a["count"]["countgood"] for a in aggregates), sum(a["count"]["sum"] for a in aggregates)


def group_failures(failures: list[str]) -> list[tuple[str, tuple[int, str]]]:
    """Failures of the same kind (ids, times and counts aside) as one line: kind -> (how many, an example)."""
    kinds: dict[str, tuple[int, str]] = {}
    for failure in failures:
        kind = re.sub(r"[0-9a-f]{32}", "{id}", failure)
        kind = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "{time}", kind)
        kind = re.sub(r"\b\d+\b", "N", kind)[:200]
        count, example = kinds.get(kind, (0, failure))
        kinds[kind] = (count + 1, example)
    return sorted(kinds.items(), key=lambda item: -item[1][0])


class LoadSummary:
    """Puts the figures into pytest's terminal summary (shown without ``-s``, so they are in CI's log)."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "multi-worker load test")
        for line in self.lines:
            terminalreporter.write_line(line)


@pytest.fixture
def fresh_postgres():
    with postgres_database() as url:
        yield url


@pytest.mark.parametrize("backend", POSTGRES)
def test_four_workers_under_load(backend, fresh_postgres, request, record_property):
    with ServerProcess("--workers", str(WORKERS), "--port", "0", "--database-url", fresh_postgres,
                       "--no-pump") as srv:
        workers = child_pids(srv.proc.pid)
        settle = time.monotonic() + 15  # gunicorn forks its workers one by one, a random 0-100 ms apart
        while HAVE_PROC and len(workers) < WORKERS and time.monotonic() < settle:
            time.sleep(0.1)
            workers = child_pids(srv.proc.pid)
        assert len(workers) == WORKERS or not HAVE_PROC, (
            f"gunicorn master {srv.proc.pid} has children {workers}\n{srv.output}")
        tenant, ts_assets, race_assets = set_up(srv.url)
        load = Load(srv.url, tenant, ts_assets, race_assets)
        clients = [Client(i, load) for i in range(CLIENTS)]
        cpu_before = {pid: cpu_seconds(pid) for pid in workers}
        client_cpu = time.process_time()

        started = time.monotonic()
        load.deadline = started + SECONDS
        for c in clients:
            c.start()
        for c in clients:
            c.join(timeout=SECONDS + 120)
        elapsed = time.monotonic() - started
        assert not [c.name for c in clients if c.is_alive()], "clients still running"
        for session in load.action_sessions:
            session.close()

        cpu_used = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in workers}
        client_cpu = time.process_time() - client_cpu
        workers_after = child_pids(srv.proc.pid)

        # ---- the figures ----
        calls = [call for c in clients for call in c.calls] + load.calls
        latencies = sorted(seconds for _op, _status, seconds in calls)
        by_op: dict[str, list[float]] = defaultdict(list)
        for op, _status, seconds in calls:
            by_op[op].append(seconds)
        statuses = Counter(status for _op, status, _seconds in calls)
        races = [r for c in clients for r in c.races]
        records = [rec for c in clients for batch in c.batches for rec in batch]
        rps, p50, p99 = len(calls) / elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        lines = [
            f"{WORKERS} gunicorn workers (pids {workers}) on PostgreSQL, {CLIENTS} client threads, {elapsed:.1f} s",
            f"{len(calls)} requests, {rps:.0f} requests/s; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms; statuses {dict(sorted(statuses.items(), key=str))}",
            *(f"  {op:<11} {len(v):>6} requests, p50 {percentile(sorted(v), 50) * 1000:6.1f} ms, "
              f"p99 {percentile(sorted(v), 99) * 1000:6.1f} ms" for op, v in sorted(by_op.items())),
            f"{len(records)} records in {sum(len(c.batches) for c in clients)} acknowledged writes; "
            f"{len({(r['group'], r['round']) for r in races})} ETag races: "
            f"{sum(r['status'] == 200 for r in races)} won (200), {sum(r['status'] == 412 for r in races)} lost (412)",
            "CPU seconds during the load: workers " + ", ".join(f"{pid}: {s:.1f}" for pid, s in cpu_used.items())
            + f"; the clients {client_cpu:.1f}; {os.cpu_count()} CPUs",
        ]
        print("\n" + "\n".join(lines))
        if not request.config.pluginmanager.has_plugin("mdsp-load-summary"):
            request.config.pluginmanager.register(LoadSummary(lines), "mdsp-load-summary")
        for name, value in [("requests_per_second", round(rps, 1)), ("latency_p50_ms", round(p50, 1)),
                            ("latency_p99_ms", round(p99, 1)), ("requests", len(calls)), ("records", len(records)),
                            ("etag_races", len({(r["group"], r["round"]) for r in races}))]:
            record_property(name, value)

        # ---- what happened during the load (every problem is collected, then all are reported at once) ----
        crashes = [c.crash for c in clients if c.crash]
        assert not crashes, crashes[0]
        problems = []
        server_errors = sum(n for s, n in statuses.items() if s is not None and s >= 500)
        if server_errors:
            problems.append(f"{server_errors} answers were 5xx")
        for kind, (count, example) in group_failures(load.failures + [f for c in clients for f in c.failures]):
            problems.append(f"{count} x {kind}\n    e.g. {example}")
        if workers_after != workers:
            problems.append(f"workers changed under load: {workers} -> {workers_after}")
        if cpu_used and not all(s > max(cpu_used.values()) / 10 for s in cpu_used.values()):
            problems.append(f"not every worker served: CPU seconds {cpu_used}")

        # races: one winner per (asset, etag), the others 412
        if len({(r["group"], r["round"]) for r in races}) < 4 * math.floor(SECONDS / 10):
            problems.append(f"too few races: {len(races)} race requests")
        outcomes: dict[tuple[int, int], list] = defaultdict(list)
        for r in races:
            outcomes[(r["group"], r["etag"])].append(r["status"])
        for (group, etag), got in outcomes.items():
            if sorted(got, key=str) != [200] + [412] * (GROUP - 1):
                problems.append(f"asset {load.race_assets[group]} raced with If-Match {etag}: answers {got}")

        # afterwards: every acknowledged update and write is there, exactly
        client = tenant["clients"][0]
        with ApiSession(srv.url, fetch_token(srv.url, client["clientId"], client["clientSecret"])) as api:
            for g, asset in enumerate(load.race_assets):
                resp = api.get(f"{ASSETS}/{asset}")
                assert resp.status_code == 200, resp.text
                body = resp.json()
                wins = sum(r["status"] == 200 for r in races if r["group"] == g)
                if not body["etag"] == load.initial_etags[g] + wins == int(resp.headers["ETag"].strip('"')):
                    problems.append(f"asset {asset} ends with etag {body['etag']} (header {resp.headers['ETag']}) "
                                    f"after {wins} successful updates from etag {load.initial_etags[g]}")
                if {k: body[k] for k in load.expected[g]} != load.expected[g]:
                    problems.append(f"asset {asset} ends as {body}, not as the last acknowledged update "
                                    f"{load.expected[g]}")

            for a, asset in enumerate(ts_assets):
                group = [c for c in clients if c.index % GROUP == a]
                expected = {rec["_time"]: rec for c in group for batch in c.batches for rec in batch}
                maybe = {rec["_time"] for c in group for rec in c.unacknowledged}
                stored = read_stored(api, asset)
                lost = sorted(set(expected) - set(stored))
                if lost:
                    problems.append(f"{len(lost)} acknowledged records of {asset} are missing, first {lost[:5]}")
                changed = [t for t in expected if t in stored and stored[t] != expected[t]]
                if changed:
                    problems.append(f"{len(changed)} records of {asset} differ from what was acknowledged, first "
                                    f"at {changed[0]}: stored {stored[changed[0]]}, sent {expected[changed[0]]}")
                extra = sorted(set(stored) - set(expected) - maybe)
                if extra:
                    problems.append(f"{asset} holds {len(extra)} records nobody wrote, first {extra[:5]}")
                if stored:  # the rollups behind the aggregates agree with the raw records
                    want = (len(stored), sum(r["count"] for r in stored.values()))
                    got = rollup_totals(api, asset, max(parse(t) for t in stored))
                    if got != want:
                        problems.append(f"aggregates of {asset} count {got[0]} records summing to {got[1]}; "
                                        f"the raw records are {want[0]} summing to {want[1]}")

        assert not problems, "\n".join(problems) + (
            "\nserver log (tail):\n" + srv.output[-4000:] if server_errors else "")
