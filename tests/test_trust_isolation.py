"""Isolation through the control plane ([trust] item 5): a snapshot import could plant time series and aggregates
on another tenant's asset (the record and rollup keys had no tenant, and reads did not filter by it), claim another
tenant's aspect type, replace another job's fresh tenant, or store a row the API would never write (a creation
time of 1e300 made the tenant list answer 500 for everyone). Each test failed before the fix."""

from __future__ import annotations

import copy
import uuid

import pytest

from emulator.testing import ApiSession, fetch_token
from tests.support.paths import ASPECT_TYPES, ROOT, TENANTS, TIMESERIES
from tests.support.tenants import temporary_tenant
from tests.support.timeseries import make_pump

RANGE = {"from": "2024-01-01T00:00:00Z", "to": "2024-01-02T00:00:00Z"}


@pytest.fixture
def attacker(admin):
    """A fresh tenant's snapshot: the document an attacker edits and imports under a new name."""
    name = "at" + uuid.uuid4().hex[:10]
    with temporary_tenant(admin, name):
        return admin.get(f"/_emulator/snapshots/{name}").json()


def _as(snapshot: dict, name: str) -> dict:
    """The snapshot renamed (its tenant, every row's tenant_id), with fresh client ids."""
    doc = copy.deepcopy(snapshot)
    doc["tenant"]["name"] = name
    for rows in doc["tables"].values():
        for row in rows:
            row["tenant_id"] = name
    for row in doc["tables"]["clients"]:
        row["client_id"] = f"{name}-{uuid.uuid4().hex[:6]}"
    return doc


def test_imported_records_cannot_land_on_another_tenants_asset(admin, api, tenant, attacker):
    victim = make_pump(api, tenant)
    assert api.put(f"{TIMESERIES}/{victim}/Sensors", json=[{"_time": "2024-01-01T10:00:00.000Z", "temperature": 20.0}]
                   ).status_code == 204
    name = "ev" + uuid.uuid4().hex[:10]
    doc = _as(attacker, name)
    doc["tables"]["ts_records"] = [{"tenant_id": name, "asset_id": victim, "aspect": "Sensors", "t": 1704103200000,
                                    "body": '{"_time":"2024-01-01T10:00:00.000Z","temperature":666.0}'},
                                   {"tenant_id": name, "asset_id": victim, "aspect": "Sensors", "t": 1704106800000,
                                    "body": '{"_time":"2024-01-01T11:00:00.000Z","temperature":666.0}'}]
    refused = admin.post("/_emulator/snapshots", json=doc)
    assert refused.status_code == 400 and "not one of its assets" in refused.json()["errors"][0]["message"]
    assert [t["name"] for t in admin.get(TENANTS).json()["tenants"] if t["name"] == name] == []
    records = api.get(f"{TIMESERIES}/{victim}/Sensors", params=RANGE).json()
    assert [r["temperature"] for r in records] == [20.0]


def test_an_import_cannot_claim_another_tenants_ids(admin, api, tenant, attacker):
    name = "ev" + uuid.uuid4().hex[:10]
    make_pump(api, tenant)
    doc = _as(attacker, name)
    victim_type = api.get(f"{ASPECT_TYPES}/{tenant['name']}.Sensors").json()
    doc["tables"]["aspect_types"] = [{"tenant_id": name, "id": victim_type["id"], "name": "Sensors",
                                      "category": "dynamic", "scope": "private", "description": None,
                                      "variables": [], "etag": 0, "created_at": 1.0}]
    refused = admin.post("/_emulator/snapshots", json=doc)
    assert refused.status_code == 400 and "aspect type" in refused.json()["errors"][0]["message"]
    doc = _as(attacker, name)
    doc["tables"]["clients"][0]["client_id"] = tenant["clients"][0]["clientId"]
    assert admin.post("/_emulator/snapshots", json=doc).status_code == 409
    assert api.get(f"{ASPECT_TYPES}/{tenant['name']}.Sensors").json() == victim_type


def test_an_import_does_not_replace_another_jobs_fresh_tenant(server, admin, tenant, attacker):
    doc = _as(attacker, tenant["name"])
    refused = admin.post("/_emulator/snapshots", json=doc)
    assert refused.status_code == 409
    client = tenant["clients"][0]
    with ApiSession(server.url, fetch_token(server.url, client["clientId"], client["clientSecret"])) as api:
        assert api.get(ROOT).json()["assetId"] == tenant["rootAssetId"]


@pytest.mark.parametrize("where, value", [("tenant", 1e300), ("assets", 1e300), ("assets", "yesterday"),
                                          ("asset_types", 10**20), ("asset_types", -1)])
def test_an_import_takes_only_rows_the_api_would_write(admin, attacker, where, value):
    name = "ev" + uuid.uuid4().hex[:10]
    doc = _as(attacker, name)
    row = doc["tenant"] if where == "tenant" else doc["tables"][where][0]
    row["created_at"] = value
    refused = admin.post("/_emulator/snapshots", json=doc)
    assert refused.status_code == 400, refused.text
    assert admin.get(TENANTS).status_code == 200
    assert name not in [t["name"] for t in admin.get(TENANTS).json()["tenants"]]


@pytest.mark.parametrize("bodies", [
    ['{"_time":"2024-01-01T10:00:00.000Z","temperature":1.0}',
     '{"_time":"2024-01-01T10:00:00.000Z","temperature":2.0}'],
    ['{"_time":"2024-01-01T10:00:00.000Z","temperature":'],
    ['[1, 2]'],
    ['{"temperature":1.0}'],
    ['{"temperature":1.0,"_time":"2024-01-01T10:00:00.000Z"}'],
    ['{"_time":"2024-01-01T10:00:00Z","temperature":1.0}'],
    ['{"_time":"2024-01-01T11:00:00.000Z","temperature":1.0}'],
], ids=["a-time-twice", "not-json", "not-an-object", "no-time", "time-not-first", "another-form", "another-time"])
def test_an_import_takes_only_records_the_api_would_write(admin, attacker, bodies):
    """Records travel one row each and are stored in time blocks on import: two records of one series at one time,
    or a body that is not a record, would make blocks no write could make (and reads that are not JSON)."""
    name = "ev" + uuid.uuid4().hex[:10]
    doc = _as(attacker, name)
    root = doc["tenant"]["root_asset_id"]
    doc["tables"]["ts_records"] = [{"tenant_id": name, "asset_id": root, "aspect": "Sensors", "t": 1704103200000,
                                    "body": body} for body in bodies]
    refused = admin.post("/_emulator/snapshots", json=doc)
    assert refused.status_code == 400 and "ts_records" in refused.json()["errors"][0]["message"], refused.text
    assert name not in [t["name"] for t in admin.get(TENANTS).json()["tenants"]]
