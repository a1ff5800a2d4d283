"""Property test through HTTP: every value the Data Hub service serves fits what its ``$metadata`` declares.

Hypothesis draws an asset model (a dynamic aspect type, a static one and asset-type variables of every data
type, with lengths, quality codes and long names), assets with values at the limits of what Asset Management
takes (names, descriptions, external ids, static values of every type in the forms it accepts, TIMESTAMP with
and without zones), and time series records likewise. Each example is a fresh tenant with a published
contract; then every entity set (assets, time series, aggregates) is read whole and each value of each entity
is checked against its property's declaration: the Edm type (String, Int32, Int64, Double, Boolean),
``MaxLength`` (characters) and ``Nullable``. A Mendix app maps attributes from these declarations (an Int32 to
an Integer, a String of MaxLength 23 to a String of 23), so a value that does not fit fails there.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from emulator.testing import ApiSession
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, TIMESERIES
from tests.support.tenants import temporary_tenant, tenant_session

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
INT32, INT64 = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)
DATA_TYPES = ("BOOLEAN", "INT", "LONG", "DOUBLE", "STRING", "TIMESTAMP", "BIG_STRING")
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

name_chars = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
tail_chars = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def identifier(max_size: int):
    return st.builds(lambda head, tail: head + tail, name_chars, st.text(tail_chars, max_size=max_size - 1))


text = st.text(st.characters(blacklist_categories=("Cs", "Cc")))

moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(8998, 12, 30),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                  timezone(timedelta(hours=-8))]))


@st.composite
def time_text(draw, static: bool):
    """A TIMESTAMP value in a form the API takes: zoned (time series and Asset Management) or, for a static
    value, also without a zone or as a date."""
    moment = draw(moments)
    forms = [moment.isoformat(timespec="milliseconds"), moment.isoformat(timespec="seconds"),
             moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
             moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")]
    if static:
        forms += [moment.replace(tzinfo=None).isoformat(timespec="seconds"), moment.date().isoformat()]
    return draw(st.sampled_from(forms))


@st.composite
def variables(draw, category: str):
    """Variable definitions of one aspect type (or an asset type: category ``asset``)."""
    types = DATA_TYPES if category == "dynamic" else DATA_TYPES[:-1]
    names = draw(st.lists(identifier(64), min_size=1, max_size=5, unique_by=str.lower))
    out = []
    for name in names:
        if name.lower() in ("id", "assetid", "timestamp", "name", "time", "_time"):
            name = "v" + name
        var = {"name": name, "dataType": draw(st.sampled_from(types))}
        if var["dataType"] in ("STRING", "BIG_STRING"):
            cap = 255 if var["dataType"] == "STRING" else 100_000
            var["length"] = draw(st.one_of(st.just(cap), st.integers(1, cap)))
        if category == "dynamic":
            var["qualityCode"] = draw(st.booleans())
        out.append(var)
    return out


def value_of(draw, var: dict, static: bool):
    data_type = var["dataType"]
    if data_type == "INT":
        return draw(st.one_of(st.sampled_from(INT32), st.integers(*INT32)))
    if data_type == "LONG":
        return draw(st.one_of(st.sampled_from(INT64), st.integers(*INT64)))
    if data_type == "DOUBLE":
        return draw(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                              st.sampled_from([0.0, -1e308, 1e308, 5e-324])))
    if data_type == "BOOLEAN":
        return draw(st.booleans())
    if data_type == "TIMESTAMP":
        return draw(time_text(static))
    length = min(var["length"], 300)  # long enough to pass short lengths, short enough to stay fast
    return draw(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=length),
                          st.just("x" * var["length"])))


@st.composite
def worlds(draw):
    dynamic, static, own = draw(variables("dynamic")), draw(variables("static")), draw(variables("asset"))
    type_name = draw(st.one_of(identifier(114), st.just("T" * 114)))  # the id, tenant (13) "." name, is <= 128
    assets = []
    for _ in range(draw(st.integers(1, 3))):
        assets.append({
            "name": draw(st.one_of(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                                           max_size=128), st.just("N" * 128))),
            "description": draw(st.one_of(st.none(), st.just("d" * 2048), text)),
            "externalId": draw(st.one_of(st.none(), st.just("e" * 255), identifier(255))),
            "variables": [{"name": v["name"], "value": value_of(draw, v, True)} for v in own],
            "statics": [{"name": v["name"], "value": value_of(draw, v, True)} for v in static],
            "records": [{var["name"]: value_of(draw, var, False) for var in dynamic
                         if draw(st.booleans())} for _ in range(draw(st.integers(1, 3)))],
        })
    return {"dynamic": dynamic, "static": static, "own": own, "type": type_name, "assets": assets}


def _created(resp):
    assert resp.status_code in (200, 201, 204), resp.text
    return resp.json() if resp.status_code != 204 else None


def build(api, tenant, world) -> None:
    t = tenant["name"]
    _created(api.put(f"{ASPECT_TYPES}/{t}.Dyn", json={"name": "Dyn", "category": "dynamic",
                                                      "variables": world["dynamic"]}))
    _created(api.put(f"{ASPECT_TYPES}/{t}.Stat", json={"name": "Stat", "category": "static",
                                                       "variables": world["static"]}))
    type_id = f"{t}.{world['type']}"
    _created(api.put(f"{ASSET_TYPES}/{type_id}", json={
        "name": world["type"], "parentTypeId": "core.basicasset", "variables": world["own"],
        "aspects": [{"name": "Dyn", "aspectTypeId": f"{t}.Dyn"}, {"name": "Stat", "aspectTypeId": f"{t}.Stat"}]}))
    start = datetime(2024, 3, 1, tzinfo=UTC)
    for asset in world["assets"]:
        body = {"name": asset["name"], "typeId": type_id, "parentId": tenant["rootAssetId"],
                "variables": asset["variables"],
                "aspects": [{"name": "Stat", "variables": asset["statics"]}]}
        for key in ("description", "externalId"):
            if asset[key] is not None:
                body[key] = asset[key]
        asset_id = _created(api.post(ASSETS, json=body))["assetId"]
        records = [{"_time": (start + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"), **record,
                    **{f"{k}_qc": 2**32 - 1 for k in record
                       if next(v for v in world["dynamic"] if v["name"] == k).get("qualityCode")}}
                   for i, record in enumerate(asset["records"])]
        _created(api.put(f"{TIMESERIES}/{asset_id}/Dyn", json=records))
    _created(api.post("/_emulator/contracts", json={"name": "values", "assetTypeIds": [type_id],
                                                    "publisherEmail": "maker@example.com"}))
    _created(api.post("/_emulator/contracts/values/publish"))


def declarations(api) -> dict[str, dict[str, ET.Element]]:
    root = ET.fromstring(api.get("/odata/values/$metadata").content)
    return {e.get("Name"): {p.get("Name"): p for p in e.findall(f"{EDM}Property")} for e in root.iter(
        f"{EDM}EntityType")}


def fits(value, prop: ET.Element) -> str | None:
    """Why ``value`` does not fit the declared property, or None."""
    if value is None:
        return "null in a property that is not nullable" if prop.get("Nullable") == "false" else None
    kind = prop.get("Type")
    if kind == "Edm.String":
        if not isinstance(value, str):
            return f"{value!r} is no string"
        if prop.get("MaxLength") and len(value) > int(prop.get("MaxLength")):
            return f"{value[:40]!r}... has {len(value)} characters, MaxLength is {prop.get('MaxLength')}"
    elif kind in ("Edm.Int32", "Edm.Int64"):
        low, high = INT32 if kind == "Edm.Int32" else INT64
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"{value!r} is no {kind}"
    elif kind == "Edm.Double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{value!r} is no number"
    elif kind == "Edm.Boolean":
        if not isinstance(value, bool):
            return f"{value!r} is no boolean"
    else:
        return f"unexpected type {kind}"
    return None


def read_all(api, name: str) -> list[dict]:
    params = {}
    if name.startswith("AGGR_"):
        params["$filter"] = ("intervalUnit eq 'minutes' and intervalValue eq 2 and timestamp gt '2024-03-01T00:00:00' "
                             "and timestamp le '2024-03-01T00:10:00'")
    resp = api.get(f"/odata/values/{name}", params=params)
    assert resp.status_code == 200, (name, resp.text)
    body = resp.json()
    assert "@odata.nextLink" not in body
    return body["value"]


@pytest.fixture(scope="module")
def admin(server):
    with ApiSession(server.url) as session:
        yield session


@SETTINGS
@given(world=worlds())
def test_every_served_value_fits_its_declared_type(server, admin, world):
    with temporary_tenant(admin, prefix="v") as tenant, tenant_session(server.url, tenant) as api:
        build(api, tenant, world)
        declared = declarations(api)
        assert len(declared) == 3  # the asset set, its time series and its aggregates
        for set_name, props in declared.items():
            rows = read_all(api, set_name)
            if not set_name.startswith("AGGR_"):
                assert rows, set_name
            for row in rows:
                assert set(row) == set(props), (set_name, set(row) ^ set(props))
                for prop_name, value in row.items():
                    why = fits(value, props[prop_name])
                    assert why is None, f"{set_name}.{prop_name}: {why}"


def test_a_static_timestamp_is_served_in_the_declared_form(api, tenant):
    """The case of the issue: a static TIMESTAMP, MaxLength 23, was served as ``2026-12-05T23:54:47.443Z``."""
    t = tenant["name"]
    _created(api.put(f"{ASSET_TYPES}/{t}.Clocked", json={
        "name": "Clocked", "parentTypeId": "core.basicasset",
        "variables": [{"name": "installed", "dataType": "TIMESTAMP"}, {"name": "checked", "dataType": "TIMESTAMP"}]}))
    asset = _created(api.post(ASSETS, json={
        "name": "c", "typeId": f"{t}.Clocked", "parentId": tenant["rootAssetId"],
        "variables": [{"name": "installed", "value": "2026-12-05T23:54:47.443Z"},
                      {"name": "checked", "value": "2026-12-06T01:00:00+01:00"}]}))
    _created(api.post("/_emulator/contracts", json={"name": "values", "assetTypeIds": [f"{t}.Clocked"],
                                                    "publisherEmail": "maker@example.com"}))
    _created(api.post("/_emulator/contracts/values/publish"))
    assert declarations(api)["Clocked"]["installed"].get("MaxLength") == "23"
    row = api.get(f"/odata/values/Clocked('{asset['assetId']}')").json()
    assert (row["installed"], row["checked"]) == ("2026-12-05T23:54:47.443", "2026-12-06T00:00:00")


def test_a_static_timestamp_is_served_in_utc_whatever_the_hosts_time_zone(api, tenant, monkeypatch):
    """A zoned form only the standard library reads (a space for the ``T``) is served in UTC, not in the time zone
    of the machine the emulator runs on: a mutant that converted to the host's zone passed every test on machines
    that run in UTC (as CI's do)."""
    t = tenant["name"]
    _created(api.put(f"{ASSET_TYPES}/{t}.Spaced", json={
        "name": "Spaced", "parentTypeId": "core.basicasset", "variables": [{"name": "at", "dataType": "TIMESTAMP"}]}))
    asset = _created(api.post(ASSETS, json={"name": "s", "typeId": f"{t}.Spaced", "parentId": tenant["rootAssetId"],
                                            "variables": [{"name": "at", "value": "2024-05-01 12:00:00+02:00"}]}))
    _created(api.post("/_emulator/contracts", json={"name": "spaced", "assetTypeIds": [f"{t}.Spaced"],
                                                    "publisherEmail": "maker@example.com"}))
    _created(api.post("/_emulator/contracts/spaced/publish"))
    monkeypatch.setenv("TZ", "America/New_York")  # the in-thread server is this process: it runs there now
    time.tzset()
    try:
        row = api.get(f"/odata/spaced/Spaced('{asset['assetId']}')").json()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert row["at"] == "2024-05-01T10:00:00"


def test_a_timestamp_past_year_9999_or_before_year_1_in_utc_keeps_its_wall_clock(api, tenant):
    """A static TIMESTAMP near the ends of the years whose zone takes it past them in UTC is served as written,
    without its zone: 23 characters at most, as ``$metadata`` declares (MaxLength 23). Before the fix
    9999-12-31T23:30:00.500-01:00 was served 10000-01-01T00:30:00.500 (24 characters), and
    0001-01-01T00:30:00+01:00 as 0000-12-31T23:30:00, a year ISO-8601 leaves to agreement; a time within the
    years is still served in UTC."""
    t = tenant["name"]
    names = ("late", "early", "within")
    _created(api.put(f"{ASSET_TYPES}/{t}.Edged", json={
        "name": "Edged", "parentTypeId": "core.basicasset",
        "variables": [{"name": name, "dataType": "TIMESTAMP"} for name in names]}))
    values = ("9999-12-31T23:30:00.500-01:00", "0001-01-01T00:30:00+01:00", "9999-12-31T22:30:00-01:00")
    asset = _created(api.post(ASSETS, json={
        "name": "e", "typeId": f"{t}.Edged", "parentId": tenant["rootAssetId"],
        "variables": [{"name": name, "value": value} for name, value in zip(names, values, strict=True)]}))
    _created(api.post("/_emulator/contracts", json={"name": "edges", "assetTypeIds": [f"{t}.Edged"],
                                                    "publisherEmail": "maker@example.com"}))
    _created(api.post("/_emulator/contracts/edges/publish"))
    row = api.get(f"/odata/edges/Edged('{asset['assetId']}')").json()
    assert [row[name] for name in names] == ["9999-12-31T23:30:00.500", "0001-01-01T00:30:00", "9999-12-31T23:30:00"]
