"""The contract's ``$metadata`` as Studio Pro reads it, through HTTP.

* Associations: seed 8.2 describes one kind, a derived type and its base published in one contract, "so that
  your app can identify the association between them". That pair is published (a derived asset has exactly one
  base view, a base asset at most one derived view), nothing else: no hierarchy, no type associated with itself.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import create_engine, text

from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.odata_support import make_plant, publish_contract, shared_plant

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
S = "/odata/plant"

plant = pytest.fixture(scope="module")(shared_plant)


def metadata(api, contract="plant") -> ET.Element:
    resp = api.get(f"/odata/{contract}/$metadata")
    assert resp.status_code == 200, resp.text
    return ET.fromstring(resp.content)


def navigation(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {(e.get("Name"), n.get("Name")): n for e in root.iter(f"{EDM}EntityType")
            for n in e.findall(f"{EDM}NavigationProperty")}


def ok(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()


# --- associations ----------------------------------------------------------------------------------------------

def test_only_the_derived_type_and_its_base_are_associated(plant):
    navs = navigation(metadata(plant["api"]))
    assert sorted(navs) == [("CNGTurbine", "Derived_LPGTurbine"), ("LPGTurbine", "Base_CNGTurbine")]
    base, derived = navs[("LPGTurbine", "Base_CNGTurbine")], navs[("CNGTurbine", "Derived_LPGTurbine")]
    assert (base.get("Type").rsplit(".", 1)[1], base.get("Nullable"), base.get("Partner")) == (
        "CNGTurbine", "false", "Derived_LPGTurbine")
    assert (derived.get("Type").rsplit(".", 1)[1], derived.get("Nullable"), derived.get("Partner")) == (
        "LPGTurbine", None, "Base_CNGTurbine")  # single-valued, nullable: a CNG turbine is at most one LPG turbine
    bindings = {(s.get("Name"), b.get("Path")): b.get("Target") for s in metadata(plant["api"]).iter(
        f"{EDM}EntitySet") for b in s.findall(f"{EDM}NavigationPropertyBinding")}
    assert bindings == {("CNGTurbine", "Derived_LPGTurbine"): "LPGTurbine",
                        ("LPGTurbine", "Base_CNGTurbine"): "CNGTurbine"}


def test_derived_navigation_is_one_entity_or_none(plant):
    api = plant["api"]
    lpg = ok(api.get(f"{S}/CNGTurbine('{plant['lpg']}')/Derived_LPGTurbine"))
    assert lpg["assetId"] == plant["lpg"] and lpg["@odata.context"].endswith("#LPGTurbine/$entity")
    assert api.get(f"{S}/CNGTurbine('{plant['cng1']}')/Derived_LPGTurbine").status_code == 204  # no LPG turbine
    base = ok(api.get(f"{S}/LPGTurbine('{plant['lpg']}')/Base_CNGTurbine"))
    assert base["assetId"] == plant["lpg"] and base["@odata.context"].endswith("#CNGTurbine/$entity")
    assert api.get(f"{S}/LPGTurbine('{plant['cng1']}')/Base_CNGTurbine").status_code == 404  # no such LPG turbine
    rows = ok(api.get(f"{S}/CNGTurbine", params={"$expand": "Derived_LPGTurbine($select=name)",
                                                 "$select": "name", "$orderby": "name"}))["value"]
    assert [row["Derived_LPGTurbine"] for row in rows] == [None, None, {"name": "Turbine C"}]


def test_no_hierarchy_and_no_self_association(plant):
    api = plant["api"]
    for path in (f"Site('{plant['site']}')/Children_CNGTurbine", f"CNGTurbine('{plant['cng1']}')/Parent_Site",
                 f"Site('{plant['site']}')/Parent_Site"):
        assert api.get(f"{S}/{path}").status_code == 404, path
    assert api.get(f"{S}/CNGTurbine", params={"$expand": "Parent_Site"}).status_code == 400


def test_a_type_alone_has_no_association(api, tenant):
    make_plant(api, tenant)
    publish_contract(api, tenant, name="sites", types=("Site",))
    publish_contract(api, tenant, name="turbines", types=("CNGTurbine",))
    for contract in ("sites", "turbines"):
        assert navigation(metadata(api, contract)) == {}, contract


def test_contracts_saved_with_invented_associations_are_served_without_them(tmp_path):
    """A contract saved by an earlier version keeps its model in the store, with the hierarchy associations and a
    collection-valued Derived_: its $metadata and its service drop the first and make the second single."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    with LiveServer(Settings(database_url=url)) as live, ApiSession(live.url) as admin:
        tenant = admin.post("/_emulator/tenants", json={"name": "old"}).json()
        client = tenant["clients"][0]
        with ApiSession(live.url, fetch_token(live.url, client["clientId"], client["clientSecret"])) as api:
            ids = make_plant(api, tenant)
            publish_contract(api, tenant)
            engine = create_engine(url)
            with engine.begin() as conn:  # the model as the earlier version saved it
                model = json.loads(conn.execute(text("SELECT model FROM contracts WHERE tenant_id = 'old'")).scalar())
                by_name = {s["name"]: s for s in model["sets"]}
                for nav in by_name["CNGTurbine"]["navigation"]:
                    nav["collection"] = True
                by_name["CNGTurbine"]["navigation"].append({"name": "Parent_Site", "target": "Site",
                                                            "collection": False, "partner": "Children_CNGTurbine",
                                                            "relation": "parent"})
                by_name["Site"]["navigation"].append({"name": "Children_CNGTurbine", "target": "CNGTurbine",
                                                      "collection": True, "partner": "Parent_Site",
                                                      "relation": "children"})
                conn.execute(text("UPDATE contracts SET model = :m WHERE tenant_id = 'old'"), {"m": json.dumps(model)})
            engine.dispose()
            navs = navigation(metadata(api))
            assert sorted(navs) == [("CNGTurbine", "Derived_LPGTurbine"), ("LPGTurbine", "Base_CNGTurbine")]
            assert not navs[("CNGTurbine", "Derived_LPGTurbine")].get("Type").startswith("Collection(")
            assert api.get("/odata/plant/$metadata").content == api.get("/_emulator/contracts/plant/download").content
            assert ok(api.get(f"{S}/CNGTurbine('{ids['lpg']}')/Derived_LPGTurbine"))["assetId"] == ids["lpg"]
            assert api.get(f"{S}/Site('{ids['site']}')/Children_CNGTurbine").status_code == 404
