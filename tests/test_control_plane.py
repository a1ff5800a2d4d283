"""The control plane over HTTP: fault rules and their schedules, header faults, the virtual clock,
the journal, reset, and the same behaviour across several worker processes."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import requests

from emulator.settings import Settings
from emulator.testing import HAVE_PROC, ApiSession, LiveServer, ServerProcess, fetch_token
from tests.support.paths import ASSETS, ROOT, TIMESERIES, TOKEN
from tests.support.tenants import create_tenant, temporary_tenant, tenant_session
from tests.support.workers import exchange_on_new_connection, request_on_new_connection, workers_of


@pytest.fixture
def faults(admin):
    """Rules made by a test are removed after it."""
    made = []

    def create(body):
        resp = admin.post("/_emulator/faults", json=body)
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
        return resp.json()

    yield create
    for rule_id in made:
        admin.delete(f"/_emulator/faults/{rule_id}")


def tenant_rule(tenant, **extra):
    return {"match": {"tenant": tenant["name"], **extra.pop("match", {})}, **extra}


def test_times_two_fails_exactly_two_requests(api, tenant, faults):
    rule = faults(tenant_rule(tenant, match={"method": "GET", "path": "/api/assetmanagement/*", "api": "assets"},
                              effect={"status": 500}, times=2))
    assert rule["fired"] == 0 and rule["matched"] == 0
    statuses = [api.get(ROOT).status_code for _ in range(5)]
    assert statuses == [500, 500, 200, 200, 200]
    body = api.get(ROOT, headers={}).json()
    assert body["assetId"] == tenant["rootAssetId"]


def test_fault_answers_in_the_apis_own_envelope(api, tenant, faults, server):
    faults(tenant_rule(tenant, match={"api": "assets"}, effect={"status": 500}, times=1))
    core = api.get(ROOT)
    assert core.status_code == 500
    assert core.json()["errors"][0]["code"] == "mdsp.core.generic.internalServerError"
    faults(tenant_rule(tenant, match={"api": "timeseries"}, effect={"status": 503}, times=1))
    series = api.get(f"/api/iottimeseries/v3/timeseries/{'a' * 32}/S")
    assert series.status_code == 503 and set(series.json()) == {"id", "message"}


def test_429_carries_retry_after(api, tenant, faults):
    faults(tenant_rule(tenant, match={"api": "assets"}, effect={"status": 429}, times=1))
    resp = api.get(ROOT)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "1"
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.tooManyRequests"
    assert api.get(ROOT).status_code == 200  # the quota "refills": the rule is spent


def test_after_skips_the_first_requests(api, tenant, faults):
    faults(tenant_rule(tenant, match={"api": "assets"}, effect={"status": 500}, after=2, times=1))
    assert [api.get(ROOT).status_code for _ in range(4)] == [200, 200, 500, 200]


def test_probability_with_a_seed_fails_the_same_requests_every_run(api, admin, tenant, faults):
    def run():
        rule = faults(tenant_rule(tenant, match={"api": "assets"}, effect={"status": 500}, probability=0.5, seed=7))
        pattern = [api.get(ROOT).status_code for _ in range(16)]
        admin.delete(f"/_emulator/faults/{rule['id']}")
        return pattern

    first, second = run(), run()
    assert first == second
    assert 500 in first and 200 in first


def test_a_failed_write_wrote_nothing(api, tenant, faults):
    faults(tenant_rule(tenant, match={"method": "POST", "api": "assets"}, effect={"status": 500}, times=1))
    body = {"name": "x", "typeId": "core.basicasset", "parentId": tenant["rootAssetId"]}
    assert api.post(ASSETS, json=body).status_code == 500
    assert api.get(ASSETS).json()["page"]["totalElements"] == 1
    assert api.post(ASSETS, json=body).status_code == 201


def test_delay_and_custom_body(api, tenant, faults):
    faults(tenant_rule(tenant, match={"api": "assets"}, effect={"delayMs": 300}, times=1))
    started = time.perf_counter()
    assert api.get(ROOT).status_code == 200
    assert time.perf_counter() - started >= 0.3
    faults(tenant_rule(tenant, match={"api": "assets"}, effect={"status": 502, "body": {"oops": True}}, times=1))
    resp = api.get(ROOT)
    assert resp.status_code == 502 and resp.json() == {"oops": True}


def test_drop_connection(api, tenant, faults):
    faults(tenant_rule(tenant, match={"api": "assets"}, effect={"dropConnection": True}, times=1))
    with pytest.raises(requests.exceptions.RequestException):
        api.get(ROOT)
    assert api.get(ROOT).status_code == 200


def test_rules_of_one_tenant_leave_others_alone(server, admin, api, tenant, faults):
    faults(tenant_rule(tenant, match={"api": "assets"}, effect={"status": 500}))
    with temporary_tenant(admin, prefix="o") as other:
        with tenant_session(server.url, other) as b:
            assert b.get(ROOT).status_code == 200
        assert api.get(ROOT).status_code == 500


def test_token_endpoint_faults_answer_in_the_oauth_envelope(server, tenant, faults):
    client = tenant["clients"][0]
    faults({"match": {"api": "token", "path": TOKEN}, "effect": {"status": 503}, "times": 1})
    resp = requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                         auth=(client["clientId"], client["clientSecret"]), timeout=30)
    assert resp.status_code == 503 and set(resp.json()) == {"error", "error_description"}


def test_list_counts_and_delete(admin, api, tenant, faults):
    rule = faults(tenant_rule(tenant, match={"api": "assets"}, effect={"status": 500}, times=1))
    api.get(ROOT)
    api.get(ROOT)
    listed = admin.get("/_emulator/faults", params={"tenant": tenant["name"]}).json()["faults"]
    assert [(r["id"], r["matched"], r["fired"]) for r in listed] == [(rule["id"], 2, 1)]
    assert admin.delete(f"/_emulator/faults/{rule['id']}").status_code == 204
    assert admin.delete(f"/_emulator/faults/{rule['id']}").status_code == 404


@pytest.mark.parametrize("body", [
    {}, {"effect": {}}, {"effect": {"status": 200}}, {"effect": {"status": "500"}}, {"effect": {"delayMs": -1}},
    {"effect": {"delayMs": {"poisson": 3}}}, {"match": {"api": "files"}, "effect": {"status": 500}},
    {"match": {"method": "FETCH"}, "effect": {"status": 500}}, {"effect": {"status": 500}, "times": 0},
    {"effect": {"status": 500}, "probability": 1.5}, {"effect": {"status": 500}, "color": "red"},
    {"match": "everything", "effect": {"status": 500}}, {"effect": {"dropConnection": 0}},
])
def test_bad_rules_are_refused(admin, body):
    resp = admin.post("/_emulator/faults", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["errors"][0]["code"].startswith("mdsp.core.generic.")


def test_header_faults_need_the_setting(api):
    assert api.get(ROOT, headers={"X-Emulator-Fault": "500"}).status_code == 200  # off by default
    with LiveServer(Settings(database_url="sqlite://", allow_fault_header=True)) as srv, \
            ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as b:
        assert b.get(ROOT, headers={"X-Emulator-Fault": "500"}).status_code == 500
        assert b.get(ROOT, headers={"X-Emulator-Fault": "429"}).headers["Retry-After"] == "1"
        assert b.get(ROOT, headers={"X-Emulator-Fault": "teapot"}).status_code == 400
        with pytest.raises(requests.exceptions.RequestException):
            b.get(ROOT, headers={"X-Emulator-Fault": "drop"})
        assert b.get(ROOT).status_code == 200


def test_clock_freeze_advance_and_token_expiry():
    with LiveServer(Settings(database_url="sqlite://")) as srv, ApiSession(srv.url) as admin:
        frozen = admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2026-01-01T00:00:00Z"}).json()
        assert frozen == {"mode": "frozen", "time": "2026-01-01T00:00:00.000Z", "speed": 1.0}
        token = fetch_token(srv.url, "emutenant-client", "emulator-secret")
        with ApiSession(srv.url, token) as api:
            assert api.get(ROOT).status_code == 200
            time.sleep(0.2)
            assert admin.get("/_emulator/clock").json()["time"] == "2026-01-01T00:00:00.000Z"  # frozen
            advanced = admin.post("/_emulator/clock/advance", json={"seconds": 1799}).json()
            assert advanced["time"] == "2026-01-01T00:29:59.000Z"
            assert api.get(ROOT).status_code == 200
            admin.post("/_emulator/clock/advance", json={"seconds": 2})
            expired = api.get(ROOT)
            assert expired.status_code == 401 and "expired" in expired.text
        offset = admin.put("/_emulator/clock", json={"mode": "offset", "time": "2030-06-01T00:00:00Z",
                                                     "speed": 60}).json()
        assert offset["mode"] == "offset" and offset["speed"] == 60
        time.sleep(1.1)
        assert admin.get("/_emulator/clock").json()["time"] >= "2030-06-01T00:01:00"
        assert admin.put("/_emulator/clock", json={"mode": "real"}).json()["mode"] == "real"
        assert admin.put("/_emulator/clock", json={"mode": "slow"}).status_code == 400
        assert admin.post("/_emulator/clock/advance", json={"seconds": "soon"}).status_code == 400


def test_aggregate_defaults_follow_the_clock(server, api, tenant, admin):
    from tests.support.timeseries import make_pump

    asset = make_pump(api, tenant)
    api.put(f"{TIMESERIES}/{asset}/Sensors", json=[{"_time": f"2030-01-0{d}T12:00:00.000Z", "count": d}
                                                   for d in (1, 2, 9)])
    admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2030-01-05T00:00:00Z"})
    try:
        client = tenant["clients"][0]  # a token of the frozen time: the one of today has long expired there
        with ApiSession(server.url, fetch_token(server.url, client["clientId"], client["clientSecret"])) as later:
            body = later.get("/api/iottsaggregates/v4/aggregates", params={"assetId": asset,
                                                                         "aspectName": "Sensors"}).json()
        assert [a["count"]["sum"] for a in body["aggregates"]] == [1.0, 2.0]  # the last 7 days before "now"
    finally:
        admin.put("/_emulator/clock", json={"mode": "real"})


def test_journal_records_requests_and_faults(api, admin, tenant, faults):
    rule = faults(tenant_rule(tenant, match={"api": "assets", "method": "GET"}, effect={"status": 500}, times=1))
    api.get(ROOT)
    api.get(ROOT, params={"x": "1"})
    entries = admin.get("/_emulator/journal", params={"tenant": tenant["name"], "path": "/api/*"}).json()["entries"]
    assert [(e["method"], e["status"], e["fault"]) for e in entries][-2:] == [("GET", 500, rule["id"]),
                                                                             ("GET", 200, None)]
    assert entries[-1]["query"] == "x=1" and entries[-1]["durationMs"] >= 0
    failed = admin.get("/_emulator/journal", params={"tenant": tenant["name"], "status": 500}).json()["entries"]
    assert len(failed) == 1
    for limit in ("-1", "0", "many"):
        assert admin.get("/_emulator/journal", params={"limit": limit}).status_code == 400
    assert admin.delete("/_emulator/journal", params={"tenant": tenant["name"]}).status_code == 204
    assert admin.get("/_emulator/journal", params={"tenant": tenant["name"]}).json()["entries"] == []


def test_journal_stays_at_its_cap():
    with LiveServer(Settings(database_url="sqlite://", journal_size=5)) as srv, ApiSession(srv.url) as admin:
        with ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as api:
            for _ in range(30):
                api.get(ROOT)
        entries = admin.get("/_emulator/journal").json()["entries"]
        assert len(entries) == 5


def test_reset_one_tenant(api, admin, tenant):
    created = api.post(ASSETS, json={"name": "x", "typeId": "core.basicasset",
                                     "parentId": tenant["rootAssetId"]}).json()
    resp = admin.post("/_emulator/reset", json={"tenant": tenant["name"]})
    assert resp.status_code == 200 and resp.json()["durationMs"] >= 0
    assert api.get(f"{ASSETS}/{created['assetId']}").status_code == 404
    assert api.get(ROOT).json()["assetId"] == tenant["rootAssetId"]  # credentials and root survive
    assert api.get("/api/assetmanagement/v3/assettypes/core.basicsite").status_code == 200
    assert admin.post("/_emulator/reset", json={"tenant": "nosuchtenant"}).status_code == 404
    for bad in ("", [], {}, 5):  # never "everything" by accident
        assert admin.post("/_emulator/reset", json={"tenant": bad}).status_code == 400
    assert api.get(ROOT).status_code == 200


def test_reset_everything():
    with LiveServer(Settings(database_url="sqlite://")) as srv, ApiSession(srv.url) as admin:
        create_tenant(admin, "extra")
        admin.post("/_emulator/faults", json={"effect": {"status": 500}})
        admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2030-01-01T00:00:00Z"})
        assert admin.post("/_emulator/reset").status_code == 200
        assert [t["name"] for t in admin.get("/_emulator/tenants").json()["tenants"]] == ["emutenant"]
        assert admin.get("/_emulator/faults").json()["faults"] == []
        assert admin.get("/_emulator/clock").json()["mode"] == "real"
        with ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as api:
            assert api.get(ROOT).status_code == 200


@pytest.mark.skipif(not HAVE_PROC, reason="tells the workers apart through /proc")
def test_several_workers_share_rules_clock_and_counters(tmp_path):
    """Two gunicorn workers over one SQLite file: a rule made through one is obeyed by both, exactly.

    Each request goes on a connection of its own, and /proc tells which worker holds it (tests/support/
    workers.py): requests go on until both workers have served after the rule's three fires, so a worker with a
    count of its own would answer a fourth 500. Before, nothing checked that the second worker ever served
    (new connections go to whichever worker accepts first; one worker often takes most of them)."""
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path), "--workers", "2") as srv, \
            ApiSession(srv.url) as admin:
        workers = workers_of(srv.proc.pid, 2)
        admin.post("/_emulator/faults", json={"match": {"api": "assets"}, "effect": {"status": 500}, "times": 3})
        token = fetch_token(srv.url, "emutenant-client", "emulator-secret")
        headers = {"Authorization": "Bearer " + token}
        served = []  # (worker, status)
        while len(served) < 8 or {pid for pid, _ in served[3:]} != set(workers):
            assert len(served) < 200, f"one worker took every connection: {served}"
            served.append(request_on_new_connection(srv.port, ROOT, headers, workers))
        statuses = [status for _, status in served]
        assert statuses.count(500) == 3 and statuses[:3] == [500, 500, 500], served
        admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2031-01-01T00:00:00Z"})
        expired = []
        while len(expired) < 4 or {pid for pid, _ in expired} != set(workers):
            assert len(expired) < 200, f"one worker took every connection: {expired}"
            expired.append(request_on_new_connection(srv.port, ROOT, headers, workers))
        assert {status for _, status in expired} == {401}, expired  # every worker sees the frozen clock


@pytest.mark.skipif(not HAVE_PROC, reason="tells the workers apart through /proc")
def test_every_worker_signs_with_the_rotated_key(tmp_path):
    """A rotation through one worker reaches the other's next token: keys are read again when the control plane's
    version moves, not before every signature (a read per token cost more than the signature)."""
    basic = "Basic " + base64.b64encode(b"emutenant-client:emulator-secret").decode()
    form = {"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"}
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path), "--workers", "2") as srv, \
            ApiSession(srv.url) as admin:
        workers = workers_of(srv.proc.pid, 2)

        def tokens_of_both() -> list[tuple[int, str]]:
            out = []  # (worker, kid of the token it signed)
            while len(out) < 4 or {pid for pid, _ in out} != set(workers):
                assert len(out) < 200, f"one worker took every connection: {out}"
                pid, status, body = exchange_on_new_connection(srv.port, "POST", TOKEN, form, workers,
                                                               b"grant_type=client_credentials")
                assert status == 200, body
                out.append((pid, jwt.get_unverified_header(json.loads(body)["access_token"])["kid"]))
            return out

        assert {kid for _, kid in tokens_of_both()} == {"key-id-1"}  # both workers have read the first key
        assert admin.post("/_emulator/keys/rotate").json()["kid"] == "key-id-2"
        assert {kid for _, kid in tokens_of_both()} == {"key-id-2"}


def test_rate_limit_answers_429_and_refills(api, admin, tenant):
    quota = {"tenant": tenant["name"], "requests": 3, "perSeconds": 60}
    client = tenant["clients"][0]
    token = fetch_token(api.base_url, client["clientId"], client["clientSecret"])  # before the quota: it counts
    assert admin.put("/_emulator/ratelimits", json=quota).status_code == 200
    admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2026-06-01T00:00:10Z"})
    try:
        with ApiSession(api.base_url, token) as b:
            statuses = [b.get(ROOT).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            limited = b.get(ROOT)
            assert limited.headers["Retry-After"] == "50"  # the window of the virtual clock ends at 00:01:00
            assert limited.json()["errors"][0]["code"] == "mdsp.core.generic.tooManyRequests"
            series = b.get(f"/api/iottimeseries/v3/timeseries/{'a' * 32}/S")
            assert series.status_code == 429 and set(series.json()) == {"id", "message"}
            admin.post("/_emulator/clock/advance", json={"seconds": 60})
            assert b.get(ROOT).status_code == 200  # a new window
        listed = admin.get("/_emulator/ratelimits").json()["ratelimits"]
        assert {**quota, "api": None} in listed
    finally:
        admin.put("/_emulator/clock", json={"mode": "real"})
        admin.delete("/_emulator/ratelimits", params={"tenant": tenant["name"]})


def test_rate_limit_per_api_and_from_the_settings():
    with LiveServer(Settings(database_url="sqlite://", rate_limit="2/3600")) as srv, ApiSession(srv.url) as admin:
        with ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as api:
            # the token request was the tenant's first of two ([trust] item 11: token calls count)
            assert [api.get(ROOT).status_code for _ in range(3)] == [200, 429, 429]
            admin.put("/_emulator/ratelimits", json={"tenant": "emutenant", "api": "timeseries", "requests": 1,
                                                     "perSeconds": 60})
            assert api.get(ROOT).status_code == 429  # assets still under the setting's quota
            assert [api.get(f"/api/iottimeseries/v3/timeseries/{'a' * 32}/S").status_code for _ in range(2)] == \
                [404, 429]
        assert admin.put("/_emulator/ratelimits", json={"tenant": "emutenant", "requests": 0,
                                                        "perSeconds": 60}).status_code == 400


def _reads(url: str, token: str, asset: str) -> list[bytes]:
    """What a client reads of a tenant, with this server's own address taken out."""

    paths = ["/api/assetmanagement/v3/assets?size=200", f"/api/assetmanagement/v3/assets/{asset}",
             "/api/assetmanagement/v3/assettypes?size=200&exploded=true", "/api/assetmanagement/v3/aspecttypes",
             f"{TIMESERIES}/{asset}/Sensors?from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z",
             f"/api/iottsaggregates/v4/aggregates?assetId={asset}&aspectName=Sensors&from=2026-02-01T00:00:00Z"
             "&to=2026-02-01T02:00:00Z&intervalUnit=minute&intervalValue=10",
             # hours of hourly rollups: each interval is one rollup, read by its packed values (made again on import)
             f"/api/iottsaggregates/v4/aggregates?assetId={asset}&aspectName=Sensors&from=2026-02-01T00:00:00Z"
             "&to=2026-02-01T02:00:00Z&intervalUnit=hour&intervalValue=1"]
    out = []
    for path in paths:
        resp = requests.get(url + path, headers={"Authorization": "Bearer " + token}, timeout=30)
        assert resp.status_code == 200, (path, resp.text)
        out.append(resp.content.replace(url.encode(), b"<base>"))
    return out


def test_snapshot_round_trip_reads_byte_for_byte():
    from tests.support.timeseries import make_pump

    with LiveServer(Settings(database_url="sqlite://", seed=5)) as first, ApiSession(first.url) as admin:
        token = fetch_token(first.url, "emutenant-client", "emulator-secret")
        with ApiSession(first.url, token) as api:
            tenant = {"name": "emutenant", "rootAssetId": api.get(ROOT).json()["assetId"]}
            asset = make_pump(api, tenant)
            api.put(f"{TIMESERIES}/{asset}/Sensors", json=[
                {"_time": f"2026-02-01T00:{m:02d}:00.000Z", "temperature": m * 1.5, "temperature_qc": 0, "count": m}
                for m in range(60)])
        admin.post("/_emulator/faults", json={"match": {"tenant": "emutenant", "path": "/nothing"},
                                              "effect": {"status": 500}})
        before = _reads(first.url, token, asset)
        snapshot = admin.get("/_emulator/snapshots/emutenant")
        assert snapshot.status_code == 200 and snapshot.json()["format"] == "mindsphere-emulator-snapshot"
    with LiveServer(Settings(database_url="sqlite://", seed=5)) as second, ApiSession(second.url) as admin:
        assert admin.post("/_emulator/snapshots", data=snapshot.content,
                          headers={"Content-Type": "application/json"}).status_code == 201
        after = _reads(second.url, fetch_token(second.url, "emutenant-client", "emulator-secret"), asset)
        assert after == before
        assert len(admin.get("/_emulator/faults").json()["faults"]) == 1
        again = admin.post("/_emulator/snapshots", data=snapshot.content, headers={"Content-Type": "application/json"})
        assert again.status_code == 409  # the tenant has data now
        assert admin.post("/_emulator/snapshots", json={"format": "zip"}).status_code == 400
        assert admin.get("/_emulator/snapshots/nosuchtenant").status_code == 404


def test_snapshot_cli_round_trip(tmp_path):
    import subprocess
    import sys

    from tests.support.timeseries import make_pump

    with ServerProcess("--port", "0", "--data-dir", str(tmp_path / "a")) as srv:
        token = fetch_token(srv.url, "emutenant-client", "emulator-secret")
        with ApiSession(srv.url, token) as api:
            tenant = {"name": "emutenant", "rootAssetId": api.get(ROOT).json()["assetId"]}
            asset = make_pump(api, tenant)
            api.put(f"{TIMESERIES}/{asset}/Sensors", json=[{"_time": "2026-02-01T00:01:00.000Z", "count": 1}])
        before = _reads(srv.url, token, asset)
    run = [sys.executable, "-m", "emulator.cli", "snapshot"]
    done = subprocess.run([*run, "export", "--file", str(tmp_path / "s.json"), "--data-dir", str(tmp_path / "a")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*run, "import", "--file", str(tmp_path / "s.json"), "--data-dir", str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "imported tenant emutenant" in done.stdout, done.stderr
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path / "b")) as srv:
        assert _reads(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret"), asset) == before


def test_journal_keeps_capped_bodies_when_asked():
    with LiveServer(Settings(database_url="sqlite://", journal_bodies=20)) as srv, ApiSession(srv.url) as admin:
        with ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as api:
            root = api.get(ROOT).json()["assetId"]
            api.post(ASSETS, json={"name": "N" * 50, "typeId": "core.basicasset", "parentId": root})
        entries = admin.get("/_emulator/journal", params={"method": "POST"}).json()["entries"]
        assert entries[-1]["requestBody"] == '{"name": "NNNNNNNNNN'  # the first 20 characters
        assert entries[-1]["responseBody"].startswith('{"assetId":')
        assert len(entries[-1]["responseBody"]) == 20
    with LiveServer(Settings(database_url="sqlite://")) as srv, ApiSession(srv.url) as admin:
        requests.get(srv.url + ROOT, timeout=30)
        assert "requestBody" not in admin.get("/_emulator/journal").json()["entries"][-1]  # off by default


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/_emulator/tenants", '{"name": "nocontenttype"}'),
    ("POST", "/_emulator/faults", '{"match": {}, "effect": {"status": 500}}'),
    ("PUT", "/_emulator/clock", '{"mode": "frozen", "time": "2030-01-01T00:00:00Z"}'),
    ("POST", "/_emulator/clock/advance", '{"seconds": 3600}'),
    ("PUT", "/_emulator/ratelimits", '{"requests": 1, "perSeconds": 60}'),
    ("POST", "/_emulator/reset", "{}"),
    ("POST", "/_emulator/snapshots", '{"format": "mindsphere-emulator-snapshot"}'),
    ("POST", "/_emulator/tenants/{tenant}/pumps", '{"historyHours": 0}'),
    ("POST", "/_emulator/tenants/{tenant}/fleet", '{"pumps": 1}'),
])
def test_a_json_body_without_content_type_answers_415_and_changes_nothing(admin, api, tenant, method, path, body):
    """curl -d '{...}' sends no JSON media type: the control plane refuses it (415) rather than guess, and acts on
    nothing (a reset without Content-Type resets nothing)."""
    before = (admin.get("/_emulator/tenants").json(), admin.get("/_emulator/faults").json(),
              admin.get("/_emulator/clock").json()["mode"], admin.get("/_emulator/ratelimits").json())
    resp = admin.request(method, path.format(tenant=tenant["name"]), data=body.encode())
    assert "Content-Type" not in resp.request.headers
    assert resp.status_code == 415, resp.text
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.unsupportedMediaType"
    after = (admin.get("/_emulator/tenants").json(), admin.get("/_emulator/faults").json(),
             admin.get("/_emulator/clock").json()["mode"], admin.get("/_emulator/ratelimits").json())
    assert after == before
    assert api.get(f"{ASSETS}").json()["page"]["totalElements"] == 1  # no pump, no fleet: the root alone


def test_stopping_the_in_thread_server_stores_the_journal_and_ends_its_flush(tmp_path):
    """The in-thread server (the pytest plugin's) ends its journal's background flush, after a last one, before it
    closes the store: a flush that ran on an in-memory store's connection as it was closed crashed a CI run (a
    segmentation fault), and the entries of the last quarter second before a stop were lost."""
    import sqlite3

    database = tmp_path / "emulator.sqlite3"
    server = LiveServer(Settings(database_url=f"sqlite:///{database}"))
    server.start()
    token = fetch_token(server.url, "emutenant-client", "emulator-secret")
    with ApiSession(server.url, token) as api:
        for _ in range(20):
            assert api.get(ROOT).status_code == 200
    server.stop()
    flush = server.app.extensions["mdsp"].journal._thread
    assert flush is not None and not flush.is_alive()
    with sqlite3.connect(database) as db:
        (stored,) = db.execute("SELECT count(*) FROM journal WHERE path = ?", (ROOT,)).fetchone()
    assert stored == 20
