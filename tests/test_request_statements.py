"""What a small read asks of the store, statement by statement ([performance]): served, each statement costs a
request a round of the interpreter's lock, so the everyday reads run as few as their answers need. The tenant's
model key (the version of its types, which keys the catalogue a worker keeps) comes with the request's first read
of the asset instead of a query of its own; and the key read so is the one the request's catalogue is built
under, so a type changed between two reads shows at once.

Served by the in-thread server over a SQLite file; the statements are the driver's own, traced on every connection
the store opens.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from emulator.runtime import KEY
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.paths import ASPECT_TYPES, ASSETS, TIMESERIES

MODEL_KEY_ALONE = "SELECT (SELECT instance"  # the model key's query of its own (emulator.store.scope)


@pytest.fixture
def traced(tmp_path):
    """(server, api session, the statements run since the list was last cleared)."""
    settings = Settings(data_dir=str(tmp_path), pump=False)
    with LiveServer(settings) as live:
        store = live.app.extensions[KEY].store
        statements: list[str] = []

        @event.listens_for(store.engine, "connect")
        def _trace(dbapi_conn, _record):
            dbapi_conn.set_trace_callback(statements.append)

        store.dispose()  # every connection from here on is a traced one
        with ApiSession(live.url, fetch_token(live.url, settings.client_id, settings.client_secret)) as api:
            yield live, api, statements, settings.tenant


def _reads(statements: list[str]) -> list[str]:
    """The queries (the journal's writer thread may add its INSERTs meanwhile)."""
    return [s for s in statements if s.startswith("SELECT")]


def _asset_with_sensors(api, tenant: str) -> str:
    variables = [{"name": "level", "dataType": "DOUBLE"}]
    assert api.put(f"{ASPECT_TYPES}/{tenant}.Tank", json={"name": "Tank", "category": "dynamic",
                                                            "variables": variables}).status_code == 201
    assert api.put(f"/api/assetmanagement/v3/assettypes/{tenant}.Tank", json={
        "name": "Tank", "parentTypeId": "core.basicasset",
        "aspects": [{"name": "Levels", "aspectTypeId": f"{tenant}.Tank"}]}).status_code == 201
    root = api.get(f"{ASSETS}/root").json()["assetId"]
    resp = api.post(ASSETS, json={"name": "T1", "typeId": f"{tenant}.Tank", "parentId": root})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def test_an_asset_read_brings_the_model_key_with_the_asset(traced):
    _live, api, statements, tenant = traced
    asset = _asset_with_sensors(api, tenant)
    for path, queries in ((f"{ASSETS}/root", 1), (f"{ASSETS}/{asset}", 2)):  # a child's parent: its hierarchyPath
        assert api.get(path).status_code == 200  # the worker's caches (tenant, control, catalogue) filled
        statements.clear()
        assert api.get(path).status_code == 200
        reads = _reads(statements)
        assert len(reads) == queries, reads
        assert "FROM assets" in reads[0] and "model_version" in reads[0], reads


def test_a_time_series_read_and_write_read_the_model_key_with_the_asset(traced):
    _live, api, statements, tenant = traced
    asset = _asset_with_sensors(api, tenant)
    series = f"{TIMESERIES}/{asset}/Levels"
    assert api.put(series, json=[{"_time": "2025-01-01T00:00:01.000Z", "level": 1.5}]).status_code == 204
    for method, kwargs in (("GET", {"params": {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}}),
                           ("PUT", {"json": [{"_time": "2025-01-01T00:00:02.000Z", "level": 2.5}]})):
        statements.clear()
        assert api.request(method, series, **kwargs).status_code in (200, 204)
        reads = _reads(statements)
        assert not [s for s in reads if s.startswith(MODEL_KEY_ALONE)], reads
        assert [s for s in reads if "FROM assets" in s and "model_version" in s], reads


def test_a_type_changed_between_two_reads_shows_in_the_second(traced):
    _live, api, _statements, tenant = traced
    asset = _asset_with_sensors(api, tenant)
    before = api.get(f"{ASSETS}/{asset}").json()
    assert "aspects" not in before or not before.get("aspects")
    current = api.get(f"{ASPECT_TYPES}/{tenant}.Tank")
    variables = [{"name": "level", "dataType": "DOUBLE"}, {"name": "volume", "dataType": "DOUBLE"}]
    assert api.put(f"{ASPECT_TYPES}/{tenant}.Tank", headers={"If-Match": current.headers["ETag"]},
                   json={"name": "Tank", "category": "dynamic", "variables": variables}).status_code == 200
    series = f"{TIMESERIES}/{asset}/Levels"
    resp = api.put(series, json=[{"_time": "2025-01-01T00:00:01.000Z", "level": 1.0, "volume": 2.0}])
    assert resp.status_code == 204, resp.text  # the new variable is known at once
    got = api.get(series, params={"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}).json()
    assert got == [{"_time": "2025-01-01T00:00:01.000Z", "level": 1.0, "volume": 2.0}]
