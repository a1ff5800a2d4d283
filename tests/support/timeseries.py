"""Set-up shared by the time series and aggregates tests: an asset with a dynamic aspect of every
data type, made over HTTP as a client would."""

from __future__ import annotations

from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, TIMESERIES

VARIABLES = [
    {"name": "temperature", "dataType": "DOUBLE", "unit": "C", "qualityCode": True},
    {"name": "count", "dataType": "INT"},
    {"name": "total", "dataType": "LONG"},
    {"name": "running", "dataType": "BOOLEAN"},
    {"name": "status", "dataType": "STRING", "length": 10},
    {"name": "log", "dataType": "BIG_STRING", "length": 1000},
    {"name": "serviced", "dataType": "TIMESTAMP"},
]


def make_pump(api, tenant) -> str:
    """An asset of type Pump with dynamic aspect ``Sensors`` (every data type) and static ``Plate``."""
    return make_asset(api, tenant, "Pump", {"Sensors": ("dynamic", VARIABLES),
                                            "Plate": ("static", [{"name": "serial", "dataType": "STRING"}])})


def make_asset(api, tenant, type_name: str, aspects: dict[str, tuple[str, list[dict]]]) -> str:
    """An asset of a new type ``type_name`` whose aspects (name -> (category, variables)) are of new aspect types
    of the same names; its id."""
    t = tenant["name"]
    for name, (category, variables) in aspects.items():
        assert api.put(f"{ASPECT_TYPES}/{t}.{name}", json={
            "name": name, "category": category, "variables": variables}).status_code == 201
    assert api.put(f"{ASSET_TYPES}/{t}.{type_name}", json={
        "name": type_name, "parentTypeId": "core.basicasset",
        "aspects": [{"name": name, "aspectTypeId": f"{t}.{name}"} for name in aspects]}).status_code == 201
    resp = api.post(ASSETS, json={"name": "P", "typeId": f"{t}.{type_name}", "parentId": tenant["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def read_all(api, asset: str, after: str, upto: str, aspect: str = "Sensors") -> dict[str, dict]:
    """Every record of the asset's aspect in ``(after, upto]``, by ``_time``, page by page along the Link
    headers (each record on one page only)."""
    stored: dict[str, dict] = {}
    resp = api.get(f"{TIMESERIES}/{asset}/{aspect}", params={"from": after, "to": upto, "limit": 2000})
    while True:
        assert resp.status_code == 200, resp.text
        for rec in resp.json():
            assert rec["_time"] not in stored, f"{rec['_time']} on two pages"
            stored[rec["_time"]] = rec
        if "next" not in resp.links:
            return stored
        resp = api.get(resp.links["next"]["url"])
