"""Contract administration (Asset Manager's wizard) over HTTP and the CLI, the Data Hub catalogue, and
the 2000-object window with its counts."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from emulator.cli import main as cli
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.odata import START, iso, make_plant, publish_contract
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, CONTRACTS, TIMESERIES
from tests.support.tenants import create_tenant, temporary_tenant, tenant_session


def _error(resp, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    message = resp.json()["errors"][0]["message"]
    for word in words:
        assert word in message, message


def test_save_list_get_delete(api, tenant):
    make_plant(api, tenant)
    t = tenant["name"]
    resp = api.post(CONTRACTS, json={"name": "plant", "assetTypeIds": [f"{t}.Site", f"{t}.CNGTurbine"]})
    assert resp.status_code == 201, resp.text
    assert resp.headers["Location"] == f"{CONTRACTS}/plant"
    body = resp.json()
    assert body["version"] == "1.0.0" and body["environment"] == "Sandbox"
    assert body["applicationName"] == f"mdsp_{t}"  # the wizard's prefill
    assert body["published"] is False and body["serviceUrl"] is None
    assert body["entitySets"] == ["Site", "CNGTurbine", "TS_PowerConsumption_Power_CNGTurbine",
                                  "AGGR_PowerConsumption_Power_CNGTurbine"]
    assert [c["name"] for c in api.get(CONTRACTS).json()["contracts"]] == ["plant"]
    assert api.get(f"{CONTRACTS}/plant").json() == body
    assert api.delete(f"{CONTRACTS}/plant").status_code == 204
    assert api.get(CONTRACTS).json()["contracts"] == []
    _error(api.get(f"{CONTRACTS}/plant"), 404, "plant")


@pytest.mark.parametrize("body, named", [
    ({}, "name"),
    ({"name": "", "assetTypeIds": ["x"]}, "name"),
    ({"name": "has space", "assetTypeIds": ["x"]}, "name"),
    ({"name": "c", "assetTypeIds": []}, "assetTypeIds"),
    ({"name": "c", "assetTypeIds": "T.Site"}, "assetTypeIds"),
    ({"name": "c", "assetTypeIds": ["{t}.Nope"]}, "Nope"),
    ({"name": "c", "assetTypeIds": ["{t}.Site", "{t}.Site"]}, "twice"),
    ({"name": "c", "assetTypeIds": ["{t}.Site"], "environment": "staging"}, "environment"),
    ({"name": "c", "assetTypeIds": ["{t}.Site"], "publisherEmail": "nobody"}, "publisherEmail"),
    ({"name": "c", "assetTypeIds": ["{t}.Site"], "version": 2}, "version"),
    ({"name": "c", "assetTypeIds": ["{t}.Site"], "colour": "red"}, "colour"),
    ({"name": "x" * 129, "assetTypeIds": ["{t}.Site"]}, "name"),
])
def test_bad_contracts_are_refused_and_nothing_is_saved(api, tenant, body, named):
    make_plant(api, tenant)
    if isinstance(body.get("assetTypeIds"), list):
        body = {**body, "assetTypeIds": [x.replace("{t}", tenant["name"]) for x in body["assetTypeIds"]]}
    _error(api.post(CONTRACTS, json=body), 400, named)
    assert api.get(CONTRACTS).json()["contracts"] == []


def test_malformed_requests(api, tenant):
    _error(api.post(CONTRACTS, data=b'{"name": ', headers={"Content-Type": "application/json"}), 400, "JSON")
    _error(api.post(CONTRACTS, data=b"name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    _error(api.post(CONTRACTS, json=["not", "an", "object"]), 400, "object")
    make_plant(api, tenant)
    body = {"name": "c", "assetTypeIds": [f"{tenant['name']}.Site"]}
    assert api.post(CONTRACTS, json=body).status_code == 201
    _error(api.post(CONTRACTS, json=body), 409, "already exists")
    assert len(api.get(CONTRACTS).json()["contracts"]) == 1


def test_contracts_take_the_tenants_token(server, api, tenant):
    with ApiSession(server.url) as anonymous:
        assert anonymous.get(CONTRACTS).status_code == 401
    client = {"clientId": f"{tenant['name']}-reader", "clientSecret": "s3cret-reader", "scopes": ["mdsp.core.am.r"]}
    with ApiSession(server.url) as admin:
        name = "r" + uuid.uuid4().hex[:12]
        with temporary_tenant(admin, name, clients=[{**client, "clientId": f"{name}-reader"}]):
            token = fetch_token(server.url, f"{name}-reader", client["clientSecret"])
            with ApiSession(server.url, token) as reader:
                assert reader.get(CONTRACTS).status_code == 200
                _error(reader.post(CONTRACTS, json={"name": "x", "assetTypeIds": ["y"]}), 403)


def test_publish_needs_an_email_and_opens_the_service(api, tenant):
    make_plant(api, tenant)
    assert api.post(CONTRACTS, json={"name": "plant", "assetTypeIds": [f"{tenant['name']}.Site"]}).status_code == 201
    _error(api.post(f"{CONTRACTS}/plant/publish"), 400, "publisherEmail")
    assert api.get("/odata/plant/").status_code == 404
    resp = api.post(f"{CONTRACTS}/plant/publish", json={"publisherEmail": "maker@example.com"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["published"] and body["serviceUrl"] == f"{api.base_url}/odata/plant/"
    assert api.get(body["serviceUrl"]).json()["value"][0]["name"] == "Site"
    _error(api.post(f"{CONTRACTS}/nope/publish", json={"publisherEmail": "maker@example.com"}), 404)


def _long_names(api, tenant, type_length: int) -> str:
    """An asset type whose aggregate entity name is 7 + 100 + 20 + type_length characters."""
    t = tenant["name"]
    aspect_type, aspect, asset_type = "A" * 100, "B" * 20, "T" * type_length
    assert api.put(f"{ASPECT_TYPES}/{t}.{aspect_type}", json={
        "name": aspect_type, "category": "dynamic",
        "variables": [{"name": "v", "dataType": "DOUBLE"}]}).status_code in (200, 201)
    assert api.put(f"{ASSET_TYPES}/{t}.{asset_type}", json={
        "name": asset_type, "parentTypeId": "core.basicasset",
        "aspects": [{"name": aspect, "aspectTypeId": f"{t}.{aspect_type}"}]}).status_code == 201
    return f"{t}.{asset_type}"


@pytest.mark.parametrize("type_length, published", [(73, True), (74, False)])
def test_publishing_fails_with_500_past_200_characters(api, tenant, type_length, published):
    type_id = _long_names(api, tenant, type_length)
    resp = api.post(CONTRACTS, json={"name": "long", "assetTypeIds": [type_id], "publisherEmail": "maker@example.com"})
    assert resp.status_code == 201, resp.text  # saving always works
    aggregate = next(n for n in resp.json()["entitySets"] if n.startswith("AGGR_"))
    assert len(aggregate) == 7 + 100 + 20 + type_length
    resp = api.post(f"{CONTRACTS}/long/publish")
    if published:
        assert resp.status_code == 200 and resp.json()["published"]
    else:
        _error(resp, 500, "201 characters", "200")
        assert api.get(f"{CONTRACTS}/long").json()["published"] is False
        assert api.get("/odata/long/").status_code == 404


def test_download_is_the_served_metadata(api, tenant):
    make_plant(api, tenant)
    publish_contract(api, tenant)
    download = api.get(f"{CONTRACTS}/plant/download")
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("application/xml")
    assert download.headers["Content-Disposition"] == 'attachment; filename="plant-1.0.0.xml"'
    assert download.content == api.get("/odata/plant/$metadata").content


def test_no_associations_across_contracts(api, tenant):
    make_plant(api, tenant)
    publish_contract(api, tenant, name="base", types=("CNGTurbine",))
    publish_contract(api, tenant, name="derived", types=("LPGTurbine",))
    for name in ("base", "derived"):
        document = api.get(f"/odata/{name}/$metadata").text
        assert re.findall(r'NavigationProperty Name="(\w+)"', document) == []  # no association of a type with itself
    publish_contract(api, tenant, name="both", types=("CNGTurbine", "LPGTurbine"))
    assert b'Name="Base_CNGTurbine"' in api.get("/odata/both/$metadata").content


def test_datahub_catalogue_follows_the_first_publishers_domain(server, admin, api, tenant):
    make_plant(api, tenant)
    publish_contract(api, tenant, name="first", types=("Site",))
    publish_contract(api, tenant, name="second", types=("Site",), publisherEmail="guest@partner.org")
    assert api.post(CONTRACTS, json={"name": "draft", "assetTypeIds": [f"{tenant['name']}.Site"]}).status_code == 201

    def seen(user):
        resp = admin.get("/_emulator/datahub/catalog", params={"user": user})
        assert resp.status_code == 200, resp.text
        return sorted(c["name"] for c in resp.json()["contracts"] if c["tenant"] == tenant["name"])

    assert seen("colleague@Example.com") == ["first", "second"]  # the company of the first publisher
    assert seen("guest@partner.org") == []  # published the second, but is not of that company
    assert admin.get("/_emulator/datahub/catalog").status_code == 400
    assert admin.get("/_emulator/datahub/catalog", params={"user": "nobody"}).status_code == 400


def test_tenant_reset_removes_contracts(admin, api, tenant):
    make_plant(api, tenant)
    publish_contract(api, tenant)
    assert admin.post("/_emulator/reset", json={"tenants": [tenant["name"]]}).status_code == 400  # misspelt
    assert api.get(CONTRACTS).json()["contracts"]
    assert admin.post("/_emulator/reset", json={"tenant": tenant["name"]}).status_code in (200, 204)
    assert api.get(CONTRACTS).json()["contracts"] == []


# --- the 2000-object window and its counts ----------------------------------------------------------

def _many_records(api, asset_id: str, n: int) -> None:
    records = [{"_time": iso(START + timedelta(seconds=s + 1)), "current": float(s), "voltage": 1, "mode": "x"}
               for s in range(n)]
    for i in range(0, n, 1000):
        assert api.put(f"{TIMESERIES}/{asset_id}/Power", json=records[i:i + 1000]).status_code == 204


def _window_answers(api, tenant) -> dict:
    ids = make_plant(api, tenant)
    publish_contract(api, tenant, types=("LPGTurbine",))
    _many_records(api, ids["lpg"], 2500)
    series = "/odata/plant/TS_PowerConsumption_Power_LPGTurbine"
    whole = api.get(series, params={"$count": "true"}).json()
    return {
        "whole": whole,
        "tail": api.get(series, params={"$skip": "1900", "$top": "500"}).json()["value"],
        "past": api.get(series, params={"$skip": "2000"}).json()["value"],
        "count": api.get(f"{series}/$count").text,
        "aggregates": api.get("/odata/plant/AGGR_PowerConsumption_Power_LPGTurbine", params={
            "$filter": "intervalUnit eq 'seconds' and intervalValue eq 1 and timestamp gt '2024-03-01T00:00:00' "
                       "and timestamp le '2024-03-01T01:00:00'", "$count": "true", "$top": "5"}).json(),
    }


def test_at_most_2000_objects_and_a_capped_count(api, tenant):
    answers = _window_answers(api, tenant)
    assert len(answers["whole"]["value"]) == 2000 and "@odata.nextLink" not in answers["whole"]
    assert answers["whole"]["@odata.count"] == 2000  # the seed's "not correctly calculated" total
    assert len(answers["tail"]) == 100 and answers["past"] == []
    assert answers["count"] == "2000"
    assert answers["aggregates"]["@odata.count"] == 2000 and len(answers["aggregates"]["value"]) == 5


def test_exact_counts_setting(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'exact.sqlite3'}", odata_exact_counts=True)
    with LiveServer(settings) as live, ApiSession(live.url) as admin:
        tenant = create_tenant(admin, "exact")
        with tenant_session(live.url, tenant) as api:
            answers = _window_answers(api, tenant)
    assert len(answers["whole"]["value"]) == 2000  # the window stays
    # 2500 records a second, plus make_plant's 120 a minute of which 41 fall on the same seconds (replaced)
    assert answers["whole"]["@odata.count"] == 2579 and answers["count"] == "2579"
    # in the first hour: 2500 + 19 records, one a second: 2519 intervals x 2 numeric variables x 10 types
    assert answers["aggregates"]["@odata.count"] == 2519 * 2 * 10


# --- the CLI ------------------------------------------------------------------------------------------

def test_contract_cli(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    settings = Settings(database_url=url)  # the CLI works on the default tenant, as a sandbox user would
    with LiveServer(settings) as live, ApiSession(live.url) as admin:
        tenant = next(t for t in admin.get("/_emulator/tenants").json()["tenants"] if t["name"] == settings.tenant)
        token = fetch_token(live.url, settings.client_id, settings.client_secret)
        with ApiSession(live.url, token) as api:
            make_plant(api, tenant)
    common = ["--database-url", url]
    assert cli(["contract", "create", "plant", "--asset-type", "emutenant.Site", "--asset-type",
                "emutenant.CNGTurbine", "--environment", "production", *common]) == 0
    assert '"environment": "production"' in capsys.readouterr().out
    assert cli(["contract", "list", *common]) == 0
    assert capsys.readouterr().out.split("\t")[:3] == ["plant", "1.0.0", "saved"]
    assert cli(["contract", "publish", "plant", *common]) == 2
    assert "publisherEmail" in capsys.readouterr().err
    assert cli(["contract", "publish", "plant", "--publisher-email", "me@example.com", "--base-url",
                "http://emu:9", *common]) == 0
    assert capsys.readouterr().out.strip() == "published plant at http://emu:9/odata/plant/"
    target = tmp_path / "plant.xml"
    assert cli(["contract", "download", "plant", "--file", str(target), *common]) == 0
    with LiveServer(settings) as live, ApiSession(live.url) as api:
        api.headers["Authorization"] = "Bearer " + fetch_token(live.url, settings.client_id, settings.client_secret)
        assert api.get("/odata/plant/$metadata").content == target.read_bytes()
    assert cli(["contract", "download", "nope", *common]) == 2
    assert "nope" in capsys.readouterr().err
