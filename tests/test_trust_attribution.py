"""Things that silently did nothing, and secrets that were kept ([trust] items 9, 11-14). Each test failed on the
emulator before its fix."""

from __future__ import annotations

import os
import stat
import threading
import time
import uuid
from datetime import timedelta

import requests

from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, ServerProcess, fetch_token
from emulator.times import iso
from tests.support.odata import SERVICE, START, make_plant, ok, publish_contract, refused, stamp
from tests.support.paths import AGGREGATES_V4, ASSETS, ROOT, TIMESERIES, TOKEN
from tests.support.tenants import create_tenant, temporary_tenant, tenant_session


def test_a_token_fault_of_a_tenant_fires_and_its_token_calls_are_journaled_and_counted(server, admin, tenant):
    """Item 11: token requests had no tenant, so a tenant's fault rule with api=token never fired, the journal
    recorded them with tenant null and per-tenant rate limits did not count them."""
    client = tenant["clients"][0]
    rule = admin.post("/_emulator/faults", json={"match": {"tenant": tenant["name"], "api": "token"},
                                                 "effect": {"status": 503}, "times": 1})
    assert rule.status_code == 201, rule.text
    failed = requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                           auth=(client["clientId"], client["clientSecret"]), timeout=30)
    assert failed.status_code == 503
    fetch_token(server.url, client["clientId"], client["clientSecret"])  # the rule fired once: this one works
    entries = admin.get("/_emulator/journal", params={"tenant": tenant["name"], "path": TOKEN}).json()
    assert [e["status"] for e in entries["entries"]][-2:] == [503, 200]
    quota = admin.put("/_emulator/ratelimits", json={"tenant": tenant["name"], "api": "token", "requests": 1,
                                                     "perSeconds": 3600})
    assert quota.status_code == 200, quota.text
    try:
        answers = [requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                                 auth=(client["clientId"], client["clientSecret"]), timeout=30).status_code
                   for _ in range(3)]
        assert answers.count(429) >= 2, answers
    finally:
        admin.delete("/_emulator/ratelimits", params={"tenant": tenant["name"]})


def test_an_expired_tokens_401_is_journaled_as_its_tenants(server, admin, tenant):
    """Item 11: ``journal(status=401)`` stayed empty after a token expired: the 401 had no tenant."""
    client = tenant["clients"][0]
    token = fetch_token(server.url, client["clientId"], client["clientSecret"])
    assert admin.post("/_emulator/clock/advance", json={"seconds": 2 * 3600}).status_code == 200
    try:
        with ApiSession(server.url, token) as api:
            assert api.get(ROOT).status_code == 401
    finally:
        admin.put("/_emulator/clock", json={"mode": "real"})
    entries = admin.get("/_emulator/journal", params={"tenant": tenant["name"], "status": 401}).json()["entries"]
    assert [e["path"] for e in entries] == [ROOT]


def test_the_journal_path_filter_applies_before_the_limit(server, admin, api, tenant):
    """Item 12: ``?path=...&limit=3`` cut to the newest 3 entries first and filtered after: ``[]`` while 6
    entries matched."""
    for _ in range(6):
        assert api.get(AGGREGATES_V4, params={"assetId": tenant["rootAssetId"], "aspectName": "none"}).status_code
    for _ in range(5):
        assert api.get(ROOT).status_code == 200
    found = admin.get("/_emulator/journal", params={"tenant": tenant["name"], "path": "/api/iottsaggregates/*",
                                                    "limit": 3}).json()["entries"]
    assert [e["path"] for e in found] == [AGGREGATES_V4] * 3


def test_every_scope_is_listed_once(server, admin, tenant):
    """Item 13: every token and tenant listed mdsp.core.am.r/w/d twice (Data Hub contracts share them)."""
    client = tenant["clients"][0]
    body = requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                         auth=(client["clientId"], client["clientSecret"]), timeout=30).json()
    scopes = body["scope"].split(" ")
    assert len(scopes) == len(set(scopes)) and "mdsp.core.am.r" in scopes
    assert len(client["scopes"]) == len(set(client["scopes"]))


def test_client_secrets_are_salted(server, admin):
    """Item 14: secrets were stored as unsalted SHA-256: two clients with one secret shared a hash."""
    name = "sa" + uuid.uuid4().hex[:10]
    with temporary_tenant(admin, name, clients=[{"clientId": f"{name}-a", "clientSecret": "same"},
                                                {"clientId": f"{name}-b", "clientSecret": "same"}]):
        rows = admin.get(f"/_emulator/snapshots/{name}").json()["tables"]["clients"]
        hashes = [row["secret_hash"] for row in rows]
        assert len(set(hashes)) == 2 and all(h.startswith("pbkdf2_sha256$1000$") for h in hashes)  # stretched
        assert fetch_token(server.url, f"{name}-a", "same")
        assert requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                             auth=(f"{name}-a", "other"), timeout=30).status_code == 401


def test_a_generated_secret_is_hashed_once_and_still_checked(server, admin):
    """A secret the emulator generates (192 random bits) cannot be guessed, so its hash is salted but not stretched
    (one PBKDF2 iteration, not 1000: a fifth of a millisecond per test's tenant). It must still be the only secret
    that gets a token."""
    name = "sg" + uuid.uuid4().hex[:10]
    with temporary_tenant(admin, name) as tenant:
        client = tenant["clients"][0]
        (row,) = admin.get(f"/_emulator/snapshots/{name}").json()["tables"]["clients"]
        assert row["secret_hash"].startswith("pbkdf2_sha256$1$") and client["clientSecret"] not in row["secret_hash"]
        assert fetch_token(server.url, client["clientId"], client["clientSecret"])
        wrong = (client["clientId"], client["clientSecret"] + "x")
        assert requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"}, auth=wrong,
                             timeout=30).status_code == 401


def test_journaled_bodies_hold_no_credentials(tmp_path):
    """Item 14: with --journal-bodies the journal kept live access tokens and the client secrets of form posts."""
    settings = Settings(database_url="sqlite://", journal_bodies=4000)
    with LiveServer(settings) as live, ApiSession(live.url) as admin:
        form = (f"grant_type=client_credentials&client_id={settings.client_id}"
                f"&client_secret={settings.client_secret}").encode()
        answer = requests.post(live.url + TOKEN, data=iter([form]), timeout=30,  # chunked: read whole
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        (entry,) = admin.get("/_emulator/journal", params={"path": TOKEN}).json()["entries"]
        assert settings.client_secret not in entry["requestBody"] and "client_secret=[redacted]" in entry["requestBody"]
        assert token not in entry["responseBody"] and '"access_token":"[redacted]"' in entry["responseBody"]


def test_the_store_is_private_to_its_owner(tmp_path):
    """Item 14: the SQLite file holds the RSA signing key and was world-readable (0644)."""
    data = tmp_path / "data"
    with ServerProcess("--port", "0", "--workers", "1", "--data-dir", str(data)):
        pass
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / "emulator.sqlite3").st_mode) == 0o600


def test_json_nested_too_deep_is_refused_and_nothing_breaks(server, admin, api):
    """Item 9: a fault rule whose body nested ~255 deep was saved, and from then on GET /_emulator/faults answered
    500 for everyone."""
    deep: object = "x"
    for _ in range(255):
        deep = [deep]
    refused = admin.post("/_emulator/faults", json={"match": {"api": "assets"}, "effect": {"status": 500,
                                                                                         "body": deep}})
    assert refused.status_code == 400 and "nested deeper" in refused.json()["errors"][0]["message"]
    assert admin.get("/_emulator/faults").status_code == 200
    deep_asset = api.post(ASSETS, json={"name": "a", "variables": [deep]})
    assert deep_asset.status_code == 400 and "nested deeper" in deep_asset.json()["errors"][0]["message"]


def test_rules_of_every_tenant_and_of_one_fire_in_creation_order_among_many_of_others(admin, api, tenant):
    """Item 10: a request reads only its tenant's rules and every tenant's (not the others', which made every
    request's cost grow with them); which rule fires first still follows creation order across both."""
    others = [admin.post("/_emulator/faults", json={"match": {"tenant": f"other{i}"}, "effect": {"status": 500}})
              for i in range(200)]
    assert {r.status_code for r in others} == {201}
    try:
        everyone = admin.post("/_emulator/faults", json={"match": {"path": ROOT}, "effect": {"status": 502},
                                                         "times": 1})
        mine = admin.post("/_emulator/faults", json={"match": {"tenant": tenant["name"], "path": ROOT},
                                                     "effect": {"status": 503}, "times": 1})
        assert everyone.status_code == mine.status_code == 201
        assert [api.get(ROOT).status_code for _ in range(3)] == [502, 503, 200]
    finally:
        for i in range(200):
            admin.delete("/_emulator/faults", params={"tenant": f"other{i}"})
        admin.delete("/_emulator/faults", params={"tenant": tenant["name"]})
        admin.delete(f"/_emulator/faults/{everyone.json()['id']}")


def test_one_tenants_injected_delays_leave_the_server_to_the_others():
    """Item 10: with --allow-fault-header, eight ``delay=`` requests held the server's eight threads, and every
    other tenant waited. A tenant's delays now take at most four threads of a worker; past them its delayed
    requests answer 503 at once, and another tenant is served meanwhile."""
    settings = Settings(database_url="sqlite://", allow_fault_header=True)
    with LiveServer(settings) as live, ApiSession(live.url) as admin:
        slow = tenant_session(live.url, create_tenant(admin, prefix="slow"))
        other = tenant_session(live.url, create_tenant(admin, prefix="other"))
        answers: list[int] = []

        def delayed():
            with ApiSession(live.url, slow.headers["Authorization"][7:]) as mine:
                answers.append(mine.get(ROOT, headers={"X-Emulator-Fault": "delay=3000"}).status_code)

        threads = [threading.Thread(target=delayed) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        assert other.get(ROOT).status_code == 200
        waited = time.monotonic() - started
        for thread in threads:
            thread.join(30)
        assert sorted(answers) == [200] * 4 + [503] * 4, answers
        assert waited < 2.0, f"the other tenant waited {waited:.1f} s for a thread"
        slow.close()
        other.close()


def test_odata_filters_and_seconds_aggregates_are_bounded(server):
    """Items 9 and 10 on the Data Hub service: a $filter nested ~1000 deep answered 500 (the parser recursed);
    seconds aggregates over a day of a tenant's records took a worker for seconds (another tenant's request waited
    10.9 s). Deep filters answer 400, and a seconds query computes from at most 100,000 raw records."""
    with ApiSession(server.url) as admin, temporary_tenant(admin, prefix="od") as created, \
            tenant_session(server.url, created) as api:
        plant = make_plant(api, created)
        publish_contract(api, created)
        deep = "(" * 1000 + "name eq 'x'" + ")" * 1000
        refused(api.get(f"{SERVICE}/CNGTurbine", params={"$filter": deep}), 400, "nests more than")
        assert ok(api.get(f"{SERVICE}/CNGTurbine", params={"$filter": "((((name eq 'x'))))"}))["value"] == []
        base = START + timedelta(hours=3)  # after the plant's own records
        for batch in range(101):  # 101,000 records, two a second
            start = int(base.timestamp() * 1000) + 500 * batch * 1000
            records = [{"_time": iso(start + 500 * i), "current": 1.0} for i in range(1000)]
            assert api.put(f"{TIMESERIES}/{plant['cng1']}/Power", json=records).status_code == 204
        aggregates = f"{SERVICE}/AGGR_PowerConsumption_Power_CNGTurbine"
        seconds = f"assetId eq '{plant['cng1']}' and intervalUnit eq 'seconds' and intervalValue eq 60 and "
        whole = f"timestamp gt '{stamp(base)}' and timestamp le '{stamp(base + timedelta(hours=23))}'"
        refused(api.get(aggregates, params={"$filter": seconds + whole}), 400, "at most 100000 records")
        hour = f"timestamp gt '{stamp(base)}' and timestamp le '{stamp(base + timedelta(hours=1))}'"
        assert ok(api.get(aggregates, params={"$filter": seconds + hour + " and aggregationType eq 'countgood' and "
                                              "variableName eq 'current'"}))["value"][0]["value"] == 120
