"""Two independent OData v4 client libraries read a published Data Hub contract end to end.

* odatapy's ``EdmEnabledODataClient`` (httpx; types payloads by the ``$metadata`` it loads, follows
  ``@odata.nextLink``, sends ``OData-MaxVersion: 4.01``);
* python-odata's ``ODataService`` (requests; reflects ``$metadata`` into entity classes, encodes
  option names as ``%24filter``).

Against a live emulator fed by ``make_plant`` and the published contract "plant", each client reads
``$metadata`` and the service document, lists every entity set (assets, ``TS_...``, ``AGGR_...``),
filters within the MindSphere limits, pages with ``$top``/``$skip``, counts (``/$count`` and
``$count=true``), and gets a query outside the limits refused as its own error type carrying the
service's OData error message. Values are checked against the records ``make_plant`` wrote: turbine
``n`` (A=0, B=1, C=2) has, at minute ``k`` (1..120) after ``START``, ``current = n*100 + k - 1`` and
``voltage = 230 + n``.

The plant is built once per backend (module scope): every test here only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import odata
import pytest
import requests
from odata.property import IntegerProperty, StringProperty
from odatapy.client import (
    BearerAuth,
    EdmEnabledODataClient,
    Field,
    HttpxTransport,
    ODataClientError,
    ODataServerError,
    and_,
)

from emulator.testing import ApiSession, fetch_token
from tests.support.odata import MINUTES, START, make_plant, publish_contract, stamp
from tests.support.tenants import temporary_tenant

TS_CNG = "TS_PowerConsumption_Power_CNGTurbine"
TS_LPG = "TS_PowerConsumption_Power_LPGTurbine"
AGGR_CNG = "AGGR_PowerConsumption_Power_CNGTurbine"
AGGR_LPG = "AGGR_PowerConsumption_Power_LPGTurbine"
SETS = ["Site", "CNGTurbine", "LPGTurbine", TS_CNG, AGGR_CNG, TS_LPG, AGGR_LPG]
# rows of each set; asset sets hold subtypes too (CNGTurbine: A, B and the LPG turbine C); aggregates
# over the plant's two hours in 60-minute intervals: 2 intervals x 2 numeric variables x 10 types
ROWS = {"Site": 1, "CNGTurbine": 3, "LPGTurbine": 1, TS_CNG: 3 * MINUTES, TS_LPG: MINUTES,
        AGGR_CNG: 3 * 40, AGGR_LPG: 40}
T0, T2H = stamp(START), stamp(START + timedelta(minutes=MINUTES))
AGGR_WINDOW = (f"intervalUnit eq 'minutes' and intervalValue eq 60 and timestamp gt '{T0}' "
               f"and timestamp le '{T2H}'")
NOT_FILTERABLE = (f"$filter: {TS_CNG} cannot be filtered by 'voltage'; MindSphere filters it by assetId, "
                  "timestamp only")


def at(minute: int) -> str:
    return stamp(START + timedelta(minutes=minute))


def current(turbine: int, minute: int) -> float:
    return float(turbine * 100 + minute - 1)


def ms(minute: int) -> int:
    return int((START + timedelta(minutes=minute)).timestamp() * 1000)


@dataclass
class Plant:
    root: str  # the service root, ending in "/"
    token: str
    tenant: str
    ids: dict  # site, cng1 (Turbine A), cng2 (Turbine B), lpg (Turbine C)


@pytest.fixture(scope="module")
def plant(server):
    """A tenant with make_plant's data and the published contract "plant", once per backend."""
    with ApiSession(server.url) as admin, temporary_tenant(admin) as tenant:
        client = tenant["clients"][0]
        token = fetch_token(server.url, client["clientId"], client["clientSecret"])
        with ApiSession(server.url, token) as api:
            ids = make_plant(api, tenant)
            contract = publish_contract(api, tenant)
        assert contract["entitySets"] == SETS
        yield Plant(contract["serviceUrl"], token, tenant["name"], ids)


# --- odatapy ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def odatapy(plant):
    transport = HttpxTransport(auth=BearerAuth(plant.token), trust_env=False)
    yield EdmEnabledODataClient(plant.root, transport)
    transport.close()


def test_odatapy_metadata_and_service_document(odatapy):
    edm = odatapy.get_edm()
    assert [s.name for s in edm.entity_container.entity_sets] == SETS
    assert [(e.name, e.kind, e.url) for e in odatapy.get_service_document().entries] == [
        (name, "EntitySet", name) for name in SETS]
    turbine = edm.get_entity_set("CNGTurbine").entity_type
    assert [p.name for p in turbine.key_properties] == ["assetId"]
    assert {p.name: str(p.type) for p in turbine.get_properties()}["rating"] == "Edm.Double"
    series = edm.get_entity_set(TS_CNG)
    assert [p.name for p in series.entity_type.key_properties] == ["id"]
    assert {p.name: str(p.type) for p in series.entity_type.get_properties()} == {
        "id": "Edm.String", "assetId": "Edm.String", "timestamp": "Edm.String", "current": "Edm.Double",
        "current_qc": "Edm.Int64", "voltage": "Edm.Int32", "mode": "Edm.String"}
    # as on MindSphere, the limits are not in the metadata (seed 8.5); the service says it is read-only
    assert series.get_annotation("Org.OData.Capabilities.V1.FilterRestrictions") is None
    record = series.get_annotation("Org.OData.Capabilities.V1.InsertRestrictions").value
    assert {pv.property: pv.value for pv in record.property_values}["Insertable"].value == "false"
    aggregate = edm.get_entity_set(AGGR_LPG).entity_type
    assert {p.name: str(p.type) for p in aggregate.get_properties()}["intervalValue"] == "Edm.Int32"
    assert edm.get_entity_set("LPGTurbine").get_binding_target("Base_CNGTurbine") == "CNGTurbine"


def test_odatapy_reads_every_entity_set(odatapy, plant):
    for name in SETS:
        uri = odatapy.entity_set_uri(name).count()
        if name.startswith("AGGR_"):
            uri = uri.filter(AGGR_WINDOW)
        entities = list(odatapy.iter_entities(uri))
        assert len(entities) == ROWS[name], name
        assert odatapy.get_entity_set(uri.copy().top(1)).count == ROWS[name], name
        assert odatapy.get_count(uri.copy().clear_query_option("$count")) == ROWS[name], name
        if name.startswith("TS_"):
            turbines = [0, 1, 2] if name == TS_CNG else [2]
            assert sorted(e.get_value("current") for e in entities) == sorted(
                current(n, k) for n in turbines for k in range(1, MINUTES + 1))
        elif name.startswith("AGGR_"):
            averages = {e.get_value("value") for e in entities
                        if e.get_value("aggregationType") == "average" and e.get_value("variableName") == "current"}
            assert averages == ({29.5, 89.5, 129.5, 189.5, 229.5, 289.5} if name == AGGR_CNG else {229.5, 289.5})
        else:
            names = {"Site": {"Plant North"}, "CNGTurbine": {"Turbine A", "Turbine B", "Turbine C"},
                     "LPGTurbine": {"Turbine C"}}[name]
            assert {e.get_value("name") for e in entities} == names


def test_odatapy_asset_queries(odatapy, plant):
    uri = (odatapy.entity_set_uri("CNGTurbine")
           .filter(and_(Field("name").contains("Turbine"), Field("typeId").eq(f"{plant.tenant}.CNGTurbine")))
           .orderby("name").count())
    page = odatapy.get_entity_set(uri)
    assert [e.get_value("name") for e in page.entities] == ["Turbine A", "Turbine B"]
    assert page.count == 2
    page = odatapy.get_entity_set(odatapy.entity_set_uri("CNGTurbine").filter(Field("name").startswith("Turbine"))
                                  .orderby("name desc").top(1).skip(1).count())
    assert [e.get_value("name") for e in page.entities] == ["Turbine B"]
    assert page.count == 3
    turbine = odatapy.get_entity(odatapy.entity_uri("CNGTurbine", plant.ids["cng1"]))
    assert (turbine.get_value("name"), turbine.get_value("Plate_serial")) == ("Turbine A", "SN-1")
    assert turbine.get_value("rating") == 5.5  # a static Edm.Double: a JSON number, though stored as text
    derived = odatapy.get_entity(odatapy.entity_uri("CNGTurbine", plant.ids["lpg"])
                                 .append_navigation_segment("Derived_LPGTurbine"))
    assert derived.get_value("assetId") == plant.ids["lpg"]
    expanded = odatapy.get_entity_set(odatapy.entity_set_uri("LPGTurbine").expand("Base_CNGTurbine"))
    [lpg] = expanded.entities
    assert lpg.get_navigation_link("Base_CNGTurbine").inline_entity.get_value("assetId") == plant.ids["lpg"]
    base = odatapy.get_entity(odatapy.entity_uri("LPGTurbine", plant.ids["lpg"])
                              .append_navigation_segment("Base_CNGTurbine"))
    assert base.get_value("name") == "Turbine C"


def test_odatapy_time_series_queries(odatapy, plant):
    b = plant.ids["cng2"]  # Turbine B: current 100 + minute - 1, voltage 231
    window = and_(Field("assetId").eq(b), Field("timestamp").gt(at(30)), Field("timestamp").le(at(60)))
    page = odatapy.get_entity_set(odatapy.entity_set_uri(TS_CNG).filter(window).top(5).skip(2).count())
    assert page.count == 30
    assert [(e.get_value("timestamp"), e.get_value("current"), e.get_value("voltage")) for e in page.entities] == [
        (at(k), current(1, k), 231) for k in range(33, 38)]
    assert odatapy.get_count(odatapy.entity_set_uri(TS_CNG).filter(window)) == 30
    latest = odatapy.get_entity_set(odatapy.entity_set_uri(TS_CNG).filter(Field("assetId").eq(b))
                                    .orderby("timestamp desc").top(3))
    assert [e.get_value("timestamp") for e in latest.entities] == [at(120), at(119), at(118)]
    record = odatapy.get_entity(odatapy.entity_uri(TS_CNG, f"{b}_{ms(45)}"))
    assert (record.get_value("timestamp"), record.get_value("current"), record.get_value("mode")) == (
        at(45), current(1, 45), "run")


def test_odatapy_aggregate_queries(odatapy, plant):
    a = plant.ids["cng1"]  # Turbine A: current = minute - 1, voltage 230
    uri = odatapy.entity_set_uri(AGGR_CNG).filter(f"assetId eq '{a}' and {AGGR_WINDOW}")
    rows = list(odatapy.iter_entities(uri))
    assert len(rows) == 40
    values = {(e.get_value("timestamp"), e.get_value("variableName"), e.get_value("aggregationType")):
              e.get_value("value") for e in rows}
    assert values[(T0, "current", "average")] == 29.5
    assert values[(at(60), "current", "average")] == 89.5
    assert values[(T0, "current", "sum")] == 1770.0
    assert (values[(T0, "current", "minvalue")], values[(T0, "current", "maxvalue")]) == (0.0, 59.0)
    assert values[(at(60), "current", "countgood")] == 60
    assert values[(T0, "voltage", "average")] == 230.0
    assert {(e.get_value("intervalUnit"), e.get_value("intervalValue")) for e in rows} == {("minutes", 60)}
    page = odatapy.get_entity_set(uri.copy().top(10).skip(10).count())
    assert [e.get_value("id") for e in page.entities] == [e.get_value("id") for e in rows[10:20]]
    assert page.count == 40
    assert odatapy.get_count(uri) == 40


def test_odatapy_refused_queries(odatapy, plant):
    with pytest.raises(ODataClientError) as caught:
        odatapy.get_entity_set(odatapy.entity_set_uri(TS_CNG).filter(Field("voltage").eq(230)))
    assert (caught.value.status_code, caught.value.error_message, caught.value.error_target) == (
        400, NOT_FILTERABLE, "voltage")
    with pytest.raises(ODataClientError) as caught:
        odatapy.get_entity_set(odatapy.entity_set_uri(TS_CNG).filter(
            Field("assetId").eq(plant.ids["cng1"]) | Field("assetId").eq(plant.ids["cng2"])))
    assert caught.value.error_message == f"$filter: {TS_CNG} takes conditions joined by 'and' only, not 'or'"
    with pytest.raises(ODataClientError) as caught:
        odatapy.get_entity_set(odatapy.entity_set_uri(AGGR_LPG).filter("intervalUnit eq 'day'"))
    assert caught.value.error_message == "$filter: intervalUnit must be days, minutes or seconds, not 'day'"
    with pytest.raises(ODataClientError) as caught:
        odatapy.get_entity_set(odatapy.entity_set_uri("Site").filter(Field("description").eq("x")))
    assert caught.value.error_message.startswith("$filter: Site cannot be filtered by 'description'")
    with pytest.raises(ODataServerError) as caught:
        odatapy.get_entity_set(odatapy.entity_set_uri(TS_LPG).search("run"))
    assert (caught.value.status_code, caught.value.error_message) == (
        501, "The query option $search is not supported by this service")


def test_odatapy_refreshes_its_token_after_a_401(plant):
    tokens = iter(["not-a-token", plant.token])
    calls = []

    def token() -> str:  # a callable token source: odatapy calls it again after a 401 and retries once
        calls.append(1)
        return next(tokens, plant.token)

    with HttpxTransport(auth=BearerAuth(token), trust_env=False) as transport:
        client = EdmEnabledODataClient(plant.root, transport)
        assert [e.get_value("name") for e in client.get_entity_set(client.entity_set_uri("Site")).entities] == [
            "Plant North"]
    assert len(calls) == 3  # $metadata with the bad token (401), again with the good one, then the set


def test_odatapy_count_with_its_own_accept_header(odatapy):
    """odatapy asks for /$count with Accept: text/plain, the count's media type (Part 1, 11.2.9)."""
    assert odatapy.get_count(odatapy.entity_set_uri(TS_LPG)) == MINUTES


# --- python-odata ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def service(plant):
    session = requests.Session()
    session.trust_env = False
    # the token goes on the session: python-odata's extra_headers= updates a class-level dict shared by all services
    session.headers["Authorization"] = f"Bearer {plant.token}"
    yield odata.ODataService(plant.root, session=session, reflect_entities=True, quiet_progress=True)
    session.close()


def test_python_odata_reflects_metadata(service):
    assert list(service.entities) == SETS
    series = service.entities[TS_CNG]
    assert series.id.primary_key and not series.timestamp.primary_key
    assert service.entities["CNGTurbine"].assetId.primary_key
    assert isinstance(series.voltage, IntegerProperty) and isinstance(series.current_qc, IntegerProperty)
    assert isinstance(service.entities[AGGR_CNG].intervalValue, IntegerProperty)
    # python-odata's type map has no Edm.Double: such properties are reflected as strings (values still read)
    assert isinstance(series.current, StringProperty) and isinstance(service.entities[AGGR_CNG].value, StringProperty)
    assert hasattr(service.entities["LPGTurbine"], "Base_CNGTurbine")
    assert hasattr(service.entities["CNGTurbine"], "Derived_LPGTurbine")


def test_python_odata_reads_every_entity_set(service):
    for name in SETS:
        entity = service.entities[name]
        query = service.query(entity)
        if name.startswith("AGGR_"):
            query = query.filter(AGGR_WINDOW)  # python-odata accepts a filter string as well as its expressions
        rows = query.all()
        assert len(rows) == ROWS[name], name
        assert query.count() == ROWS[name], name
        if name.startswith("TS_"):
            assert {r.voltage for r in rows} == ({230, 231, 232} if name == TS_CNG else {232})
            assert max(r.current for r in rows) == current(2, MINUTES)
        elif name.startswith("AGGR_"):
            assert sum(r.value for r in rows if r.aggregationType == "countgood"
                       and r.variableName == "current") == ROWS[name] // 40 * MINUTES
        else:
            assert {r.timezone for r in rows} == {"Europe/Berlin"}


def test_python_odata_asset_queries(service, plant):
    turbine, site = service.entities["CNGTurbine"], service.entities["Site"]
    query = (service.query(turbine).filter(turbine.name.contains("Turbine"))
             .filter(turbine.typeId == f"{plant.tenant}.CNGTurbine").order_by(turbine.name.asc()))
    assert [t.name for t in query] == ["Turbine A", "Turbine B"]
    assert query.count() == 2
    assert [t.name for t in service.query(turbine).order_by(turbine.name.desc()).limit(2).offset(1)] == [
        "Turbine B", "Turbine A"]
    a = service.query(turbine).get(plant.ids["cng1"])
    assert (a.name, a.Plate_serial, a.rating) == ("Turbine A", "SN-1", 5.5)
    lpg = service.entities["LPGTurbine"]
    assert [(t.name, t.Base_CNGTurbine.typeId) for t in service.query(lpg).expand(lpg.Base_CNGTurbine)] == [
        ("Turbine C", f"{plant.tenant}.LPGTurbine")]
    plant_site = service.query(site).filter(site.name.startswith("Plant") & (site.typeId == f"{plant.tenant}.Site"))
    assert plant_site.one().assetId == plant.ids["site"]
    c = service.query(lpg).get(plant.ids["lpg"])
    assert c.Base_CNGTurbine.name == "Turbine C"  # read through the navigation link when first used


def test_python_odata_time_series_queries(service, plant):
    series = service.entities[TS_CNG]
    c = plant.ids["lpg"]  # Turbine C: current 200 + minute - 1, voltage 232
    query = (service.query(series).filter(series.assetId == c).filter(series.timestamp > at(90))
             .filter(series.timestamp <= at(100)))
    assert [(r.timestamp, r.current) for r in query.limit(3).offset(4)] == [(at(k), current(2, k))
                                                                           for k in (95, 96, 97)]
    assert query.count() == 10
    # python-odata builds no $count=true: ask it through the library's own connection
    body = service.default_context.connection.execute_get(series.__odata_url__(), {
        "$filter": f"assetId eq '{c}' and timestamp gt '{at(90)}'", "$count": "true", "$top": "2"})
    assert (body["@odata.count"], [r["current"] for r in body["value"]]) == (30, [current(2, 91), current(2, 92)])
    # Query.get() filters on the key ('id' is not filterable here), so a record is read by its key URL instead
    with pytest.raises(odata.ODataError) as caught:
        service.query(series).get(f"{c}_{ms(95)}")
    assert "cannot be filtered by 'id'" in caught.value.message
    record = service.default_context.connection.execute_get(f"{series.__odata_url__()}('{c}_{ms(95)}')")
    assert (record["timestamp"], record["current"], record["voltage"]) == (at(95), current(2, 95), 232)


def test_python_odata_aggregate_queries(service, plant):
    aggregate = service.entities[AGGR_LPG]
    query = (service.query(aggregate).filter(aggregate.assetId == plant.ids["lpg"])
             .filter(aggregate.intervalUnit == "minutes").filter(aggregate.intervalValue == 60)
             .filter(aggregate.timestamp > T0).filter(aggregate.timestamp <= T2H)
             .filter(aggregate.aggregationType == "average"))
    assert [(r.timestamp, r.variableName, r.value) for r in query] == [
        (T0, "current", 229.5), (T0, "voltage", 232.0), (at(60), "current", 289.5), (at(60), "voltage", 232.0)]
    assert [(r.timestamp, r.variableName) for r in query.limit(2).offset(1)] == [(T0, "voltage"),
                                                                                (at(60), "current")]
    assert query.count() == 4


def test_python_odata_refused_queries(service):
    series, aggregate = service.entities[TS_CNG], service.entities[AGGR_CNG]
    with pytest.raises(odata.ODataError) as caught:
        service.query(series).filter(series.voltage == 230).all()
    assert (caught.value.status_code, caught.value.code, caught.value.message) == ("HTTP 400", "400",
                                                                                  NOT_FILTERABLE)
    # a filter string: python-odata would quote (or crash on) a number compared with its str-typed Edm.Double
    with pytest.raises(odata.ODataError) as caught:
        service.query(aggregate).filter("value gt 3").all()
    assert caught.value.message.startswith(f"$filter: {AGGR_CNG} cannot be filtered by 'value'")
    with pytest.raises(odata.ODataError) as caught:
        service.query(series).order_by(series.voltage.asc()).all()
    assert caught.value.message == (f"$orderby: {TS_CNG} cannot be sorted by 'voltage'; MindSphere sorts it by "
                                    "timestamp only")
