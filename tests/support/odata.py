"""Set-up shared by the Data Hub tests: a small plant made over HTTP as a client would, and a
published contract over it.

Types: ``Site``; ``CNGTurbine`` with dynamic aspect ``Power`` (type ``PowerConsumption``: ``current``
with quality codes, ``voltage``, ``mode``) and static ``Plate``; ``LPGTurbine`` derived from it. Assets:
a site under the root, two CNG turbines and one LPG turbine under the site. Data: one record a
minute for two hours from ``START`` for each turbine.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from emulator.testing import ApiSession
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, CONTRACTS, ODATA, TIMESERIES
from tests.support.tenants import temporary_tenant, tenant_session

START = datetime(2024, 3, 1, tzinfo=UTC)
MINUTES = 120
SERVICE = f"{ODATA}/plant"  # the OData service of publish_contract's contract (its default name)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def stamp(dt: datetime) -> str:
    """Data Hub's form: UTC, no zone."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def make_plant(api, tenant) -> dict:
    t = tenant["name"]
    put = [
        (f"{ASPECT_TYPES}/{t}.PowerConsumption", {"name": "PowerConsumption", "category": "dynamic", "variables": [
            {"name": "current", "dataType": "DOUBLE", "unit": "A", "qualityCode": True},
            {"name": "voltage", "dataType": "INT", "unit": "V"},
            {"name": "mode", "dataType": "STRING", "length": 16}]}),
        (f"{ASPECT_TYPES}/{t}.Plate", {"name": "Plate", "category": "static", "variables": [
            {"name": "serial", "dataType": "STRING", "length": 32}]}),
        (f"{ASSET_TYPES}/{t}.Site", {"name": "Site", "parentTypeId": "core.basicsite"}),
        (f"{ASSET_TYPES}/{t}.CNGTurbine", {"name": "CNGTurbine", "parentTypeId": "core.basicasset",
                                           "variables": [{"name": "rating", "dataType": "DOUBLE"}],
                                           "aspects": [{"name": "Power", "aspectTypeId": f"{t}.PowerConsumption"},
                                                       {"name": "Plate", "aspectTypeId": f"{t}.Plate"}]}),
        (f"{ASSET_TYPES}/{t}.LPGTurbine", {"name": "LPGTurbine", "parentTypeId": f"{t}.CNGTurbine"}),
    ]
    for url, body in put:
        resp = api.put(url, json=body)
        assert resp.status_code == 201, resp.text

    def asset(name, type_name, parent, **extra):
        resp = api.post(ASSETS, json={"name": name, "typeId": f"{t}.{type_name}", "parentId": parent, **extra})
        assert resp.status_code == 201, resp.text
        return resp.json()["assetId"]

    site = asset("Plant North", "Site", tenant["rootAssetId"])
    cng1 = asset("Turbine A", "CNGTurbine", site, variables=[{"name": "rating", "value": 5.5}],
                 aspects=[{"name": "Plate", "variables": [{"name": "serial", "value": "SN-1"}]}])
    cng2 = asset("Turbine B", "CNGTurbine", site)
    lpg = asset("Turbine C", "LPGTurbine", site)
    for n, asset_id in enumerate((cng1, cng2, lpg)):
        records = [{"_time": iso(START + timedelta(minutes=m + 1)), "current": float(n * 100 + m),
                    "current_qc": 0, "voltage": 230 + n, "mode": "run"} for m in range(MINUTES)]
        resp = api.put(f"{TIMESERIES}/{asset_id}/Power", json=records)
        assert resp.status_code == 204, resp.text
    return {"site": site, "cng1": cng1, "cng2": cng2, "lpg": lpg}


def publish_contract(api, tenant, name="plant", types=("Site", "CNGTurbine", "LPGTurbine"), **extra) -> dict:
    t = tenant["name"]
    body = {"name": name, "version": "1.0.0", "assetTypeIds": [f"{t}.{x}" for x in types],
            "publisherEmail": "maker@example.com", **extra}
    resp = api.post(CONTRACTS, json=body)
    assert resp.status_code == 201, resp.text
    resp = api.post(f"{CONTRACTS}/{name}/publish")
    assert resp.status_code == 200, resp.text
    return resp.json()


def make_twins(api, tenant, names: tuple[str, ...], quality_code: bool = False) -> list[str]:
    """Assets of type ``Twin`` (under the root), each with two dynamic aspects of one aspect type ``Meter``
    (``current``, DOUBLE): ``Alpha`` and ``Power``, so that a set of one aspect can be seen to leave out the
    other's records. Returns their ids."""
    t = tenant["name"]
    assert api.put(f"{ASPECT_TYPES}/{t}.Meter", json={"name": "Meter", "category": "dynamic", "variables": [
        {"name": "current", "dataType": "DOUBLE", "qualityCode": quality_code}]}).status_code == 201
    assert api.put(f"{ASSET_TYPES}/{t}.Twin", json={"name": "Twin", "parentTypeId": "core.basicasset", "aspects": [
        {"name": "Alpha", "aspectTypeId": f"{t}.Meter"}, {"name": "Power", "aspectTypeId": f"{t}.Meter"}]}
    ).status_code == 201
    ids = []
    for name in names:
        created = api.post(ASSETS, json={"name": name, "typeId": f"{t}.Twin", "parentId": tenant["rootAssetId"]})
        assert created.status_code == 201, created.text
        ids.append(created.json()["assetId"])
    return ids


def shared_plant(server):
    """A module fixture's body: one tenant with the plant and its published contract, for read-only tests."""
    with (ApiSession(server.url) as admin, temporary_tenant(admin, prefix="o") as tenant,
          tenant_session(server.url, tenant) as api):
        ids = make_plant(api, tenant)
        publish_contract(api, tenant)
        yield {"api": api, "tenant": tenant, **ids}


def ok(resp) -> dict:
    """The JSON of a 200 answer of the OData service (which names its protocol version)."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["OData-Version"] == "4.0"
    return resp.json()


def refused(resp, status: int, *words: str) -> str:
    """The message of an OData error answer of ``status``, which must hold each of ``words``."""
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == str(status) and error["message"]
    for word in words:
        assert word in error["message"], error["message"]
    return error["message"]


def raw_get(plant, target: bytes, headers: dict | None = None) -> tuple[int, dict, dict]:
    """A GET of ``target`` (path and query) sent as these bytes, with only the token (and ``headers``): requests
    would re-encode a % as %25 and send an Accept of its own. (status, headers, JSON body)."""
    url = urlsplit(plant["api"].base_url)
    head = {"Authorization": plant["api"].headers["Authorization"], "Host": f"{url.hostname}:{url.port}",
            "Connection": "close", **(headers or {})}
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\n"
                     + b"".join(f"{k}: {v}\r\n".encode() for k, v in head.items()) + b"\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head_text, _, body = reply.partition(b"\r\n\r\n")
    status_line, *lines = head_text.decode("latin-1").split("\r\n")
    answer = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    if answer.get("transfer-encoding") == "chunked":
        body = _dechunked(body)
    return int(status_line.split()[1]), answer, json.loads(body)


def _dechunked(body: bytes) -> bytes:
    out = b""
    while True:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            return out
        out, body = out + rest[:n], rest[n + 2:]
