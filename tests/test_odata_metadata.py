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

from emulator.settings import Settings, from_sources
from emulator.testing import ApiSession, LiveServer
from tests.support.odata import SERVICE, make_plant, ok, publish_contract, shared_plant
from tests.support.tenants import create_tenant, tenant_session

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

plant = pytest.fixture(scope="module")(shared_plant)


def metadata(api, contract="plant") -> ET.Element:
    resp = api.get(f"/odata/{contract}/$metadata")
    assert resp.status_code == 200, resp.text
    return ET.fromstring(resp.content)


def navigation(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {(e.get("Name"), n.get("Name")): n for e in root.iter(f"{EDM}EntityType")
            for n in e.findall(f"{EDM}NavigationProperty")}


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
    lpg = ok(api.get(f"{SERVICE}/CNGTurbine('{plant['lpg']}')/Derived_LPGTurbine"))
    assert lpg["assetId"] == plant["lpg"] and lpg["@odata.context"].endswith("#LPGTurbine/$entity")
    assert api.get(f"{SERVICE}/CNGTurbine('{plant['cng1']}')/Derived_LPGTurbine").status_code == 204  # no LPG turbine
    base = ok(api.get(f"{SERVICE}/LPGTurbine('{plant['lpg']}')/Base_CNGTurbine"))
    assert base["assetId"] == plant["lpg"] and base["@odata.context"].endswith("#CNGTurbine/$entity")
    assert api.get(f"{SERVICE}/LPGTurbine('{plant['cng1']}')/Base_CNGTurbine").status_code == 404  # no such LPG turbine
    rows = ok(api.get(f"{SERVICE}/CNGTurbine", params={"$expand": "Derived_LPGTurbine($select=name)",
                                                 "$select": "name", "$orderby": "name"}))["value"]
    assert [row["Derived_LPGTurbine"] for row in rows] == [None, None, {"name": "Turbine C"}]


def test_no_hierarchy_and_no_self_association(plant):
    api = plant["api"]
    for path in (f"Site('{plant['site']}')/Children_CNGTurbine", f"CNGTurbine('{plant['cng1']}')/Parent_Site",
                 f"Site('{plant['site']}')/Parent_Site"):
        assert api.get(f"{SERVICE}/{path}").status_code == 404, path
    assert api.get(f"{SERVICE}/CNGTurbine", params={"$expand": "Parent_Site"}).status_code == 400


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
        tenant = create_tenant(admin, "old")
        with tenant_session(live.url, tenant) as api:
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
            assert ok(api.get(f"{SERVICE}/CNGTurbine('{ids['lpg']}')/Derived_LPGTurbine"))["assetId"] == ids["lpg"]
            assert api.get(f"{SERVICE}/Site('{ids['site']}')/Children_CNGTurbine").status_code == 404


# --- the query limits as annotations: off by default (seed 8.5), an opt-in that keeps its promises -----------

CAP = "Org.OData.Capabilities.V1."


def test_the_setting_is_a_flag_and_an_environment_variable():
    assert Settings().odata_capability_annotations is False
    assert from_sources({"odata_capability_annotations": True}, {}).odata_capability_annotations is True
    assert from_sources({}, {"MDSP_EMU_ODATA_CAPABILITY_ANNOTATIONS": "true"}).odata_capability_annotations is True


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    """A server with --odata-capability-annotations, the plant and its contract."""
    url = f"sqlite:///{tmp_path_factory.mktemp('annotated') / 'emulator.sqlite3'}"
    with LiveServer(Settings(database_url=url, odata_capability_annotations=True)) as live, \
            ApiSession(live.url) as admin:
        tenant = create_tenant(admin, "annotated")
        with tenant_session(live.url, tenant) as api:
            ids = make_plant(api, tenant)
            publish_contract(api, tenant)
            yield {"api": api, "ids": ids, "root": metadata(api)}


def annotations_of(root: ET.Element) -> dict[str, dict[str, ET.Element]]:
    return {a.get("Target").rsplit("/", 1)[1]: {x.get("Term").removeprefix(CAP): x for x in a}
            for a in root.iter(f"{EDM}Annotations")}


def record_values(annotation: ET.Element) -> dict[str, ET.Element]:
    return {v.get("Property"): v for v in annotation.find(f"{EDM}Record")}


def paths(value: ET.Element) -> list[str]:
    return [p.text for p in value.iter(f"{EDM}PropertyPath")]


AGGR_WINDOW = ("intervalUnit eq 'minutes' and intervalValue eq 60 and timestamp gt '2024-03-01T00:00:00' and "
               "timestamp le '2024-03-01T02:00:00'")


def test_opted_in_the_limits_are_stated(annotated):
    sets = annotations_of(annotated["root"])
    series = sets["TS_PowerConsumption_Power_CNGTurbine"]
    assert paths(record_values(series["SortRestrictions"])["NonSortableProperties"]) == [
        "id", "assetId", "current", "current_qc", "voltage", "mode"]
    assert set(paths(record_values(series["FilterRestrictions"])["NonFilterableProperties"])) == {
        "id", "current", "current_qc", "voltage", "mode"}
    assert set(paths(record_values(sets["CNGTurbine"]["FilterRestrictions"])["NonFilterableProperties"])) == {
        "description", "externalId", "twinType", "rating", "Plate_serial"}
    for name, terms in sets.items():
        assert record_values(terms["CountRestrictions"])["Countable"].get("Bool") == "true", name
        assert record_values(terms["SearchRestrictions"])["Searchable"].get("Bool") == "false", name
        for term in ("InsertRestrictions", "UpdateRestrictions", "DeleteRestrictions"):
            assert next(iter(record_values(terms[term]).values())).get("Bool") == "false"
    container = annotated["root"].find(f".//{EDM}EntityContainer")
    assert {a.get("Term"): a.get("Bool") for a in container.findall(f"{EDM}Annotation")} == {
        f"{CAP}BatchSupported": "false"}
    assert annotated["api"].get("/_emulator/contracts/plant/download").content == annotated["api"].get(
        f"{SERVICE}/$metadata").content


def test_opted_in_every_allowed_expression_is_served(annotated):
    """SingleValue ("a single eq clause") is the only value used: SingleRange promises ge and le, and
    MultiRangeOrSearchExpression ranges joined by or, which the service refuses."""
    api, ids = annotated["api"], annotated["ids"]
    literal = {"assetId": f"'{ids['cng1']}'", "aggregationType": "'sum'", "variableName": "'current'",
               "intervalUnit": "'minutes'", "intervalValue": "60", "intervalCount": "2"}
    seen = []
    for name, terms in annotations_of(annotated["root"]).items():
        restrictions = record_values(terms["FilterRestrictions"])["FilterExpressionRestrictions"]
        for item in restrictions.iter(f"{EDM}Record"):
            prop, allowed = (v.get("PropertyPath") or v.get("String") for v in item)
            assert allowed == "SingleValue", (name, prop, allowed)
            query = f"{prop} eq {literal[prop]}"
            if name.startswith("AGGR_"):  # an aggregate query needs its window
                query = AGGR_WINDOW if prop in ("intervalUnit", "intervalValue") else f"{query} and {AGGR_WINDOW}"
            resp = api.get(f"{SERVICE}/{name}", params={"$filter": query})
            assert resp.status_code == 200, (name, query, resp.text)
            seen.append((name, prop))
    assert ("TS_PowerConsumption_Power_CNGTurbine", "assetId") in seen and ("AGGR_PowerConsumption_Power_LPGTurbine",
                                                                           "intervalCount") in seen


FUNCTION_QUERIES = {  # one query per operator or function the FilterFunctions of a kind of set lists
    "asset": {"eq": "name eq 'Turbine A'", "in": "name in ('Turbine A','Turbine B')",
              "and": "name eq 'Turbine A' and typeId eq 'x'", "or": "name eq 'Turbine A' or name eq 'x'",
              "not": "not (name eq 'Turbine A')", "contains": "contains(name,'Turbine')",
              "startswith": "startswith(name,'Turbine')", "endswith": "endswith(name,'A')"},
    "series": {"eq": "assetId eq '{a}'", "gt": "timestamp gt '2024-03-01T01:00:00'",
               "le": "timestamp le '2024-03-01T01:00:00'",
               "and": "assetId eq '{a}' and timestamp le '2024-03-01T01:00:00'"},
    "aggregate": {op: AGGR_WINDOW for op in ("eq", "gt", "le", "and")},
}


def test_opted_in_every_filter_function_is_served_and_only_those(annotated):
    api, ids = annotated["api"], annotated["ids"]
    for name, terms in annotations_of(annotated["root"]).items():
        listed = [s.text for s in terms["FilterFunctions"].iter(f"{EDM}String")]
        kind = "series" if name.startswith("TS_") else "aggregate" if name.startswith("AGGR_") else "asset"
        assert sorted(listed) == sorted(FUNCTION_QUERIES[kind]), name
        for op in listed:
            query = FUNCTION_QUERIES[kind][op].format(a=ids["cng1"])
            assert op in query.replace("(", " ").split(), (op, query)
            resp = api.get(f"{SERVICE}/{name}", params={"$filter": query})
            assert resp.status_code == 200, (name, op, resp.text)
        for op, query in (("ne", "assetId ne 'x'"), ("ge", "timestamp ge '2024-03-01T00:00:00'")):
            if op not in listed:
                assert api.get(f"{SERVICE}/{name}", params={"$filter": query}).status_code == 400, (name, op)


def test_opted_in_search_and_expand_are_as_declared(annotated):
    api = annotated["api"]
    for name, terms in annotations_of(annotated["root"]).items():
        assert api.get(f"{SERVICE}/{name}", params={"$search": "x"}).status_code == 501, name
        expand = record_values(terms["ExpandRestrictions"])
        if expand["Expandable"].get("Bool") == "false":
            assert api.get(f"{SERVICE}/{name}", params={"$expand": "Base_CNGTurbine"}).status_code == 400, name
        else:
            assert expand["MaxLevels"].get("Int") == "1"
            nav = "Base_CNGTurbine" if name == "LPGTurbine" else "Derived_LPGTurbine"
            assert api.get(f"{SERVICE}/{name}", params={"$expand": nav}).status_code == 200, name
            nested = api.get(f"{SERVICE}/{name}", params={"$expand": f"{nav}($expand={nav})"})
            assert nested.status_code == 501, nested.text
