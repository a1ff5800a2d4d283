"""Content negotiation of the Data Hub services, through HTTP: the OData JSON format is requested with the media
type ``application/json`` and its format parameters, in ``Accept`` or in ``$format`` (JSON format 3: "optionally
followed by format parameters"; the names and values are case-insensitive), and the service must serve the three
amounts of control information ``odata.metadata=minimal|full|none`` (JSON format 23, items 12 and 14).

What a service cannot produce it refuses with 406: ``IEEE754Compatible=true`` (Int64 as strings, a known gap),
another charset, a verbose v2 format. ``$format`` overrides ``Accept`` (JSON format 3).
"""

from __future__ import annotations

import pytest

from tests.support.odata import SERVICE, ok, raw_get, refused, shared_plant

plant = pytest.fixture(scope="module")(shared_plant)
NS_PREFIX = "#mindsphere."


def get(plant, path, accept=None, **params):
    headers = {"Accept": accept} if accept else {}
    return plant["api"].get(f"{SERVICE}/{path}", params=params or None, headers=headers)


@pytest.mark.parametrize("accept", [
    "application/json;odata.metadata=minimal",
    "application/json;charset=utf-8",
    "application/json; charset=UTF-8",
    "application/json;IEEE754Compatible=false",
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false",
    "application/json;odata.streaming=false",
    "application/json;ODATA.METADATA=MINIMAL",
    "application/json;q=0.9, text/html;q=0.1",
    "text/html, application/*;q=0.5",
    "*/*",
])
def test_accept_with_format_parameters_is_json(plant, accept):
    resp = get(plant, "Site", accept)
    body = ok(resp)
    assert resp.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")
    assert body["@odata.context"].endswith("/odata/plant/$metadata#Site") and len(body["value"]) == 1


@pytest.mark.parametrize("value", ["json", "JSON", "application/json", "application/json;odata.metadata=minimal",
                                   "application/json;odata.metadata=minimal;IEEE754Compatible=false"])
def test_format_option_with_format_parameters(plant, value):
    resp = get(plant, "Site", **{"$format": value})
    assert ok(resp)["value"][0]["name"] == "Plant North"
    assert resp.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")


def test_format_overrides_accept(plant):
    resp = get(plant, "Site", "application/xml", **{"$format": "application/json;odata.metadata=none"})
    assert "@odata.context" not in ok(resp)
    refused(get(plant, "Site", **{"$format": "json;odata.metadata=none"}), 400, "$format")  # json takes none
    refused(get(plant, "Site", **{"$format": "xml"}), 400, "$format")


def test_metadata_none_leaves_out_control_information_but_count_and_next_link(plant):
    none = "application/json;odata.metadata=none"
    resp = get(plant, "CNGTurbine", none, **{"$count": "true", "$select": "name", "$orderby": "name"})
    body = ok(resp)
    assert resp.headers["Content-Type"].startswith("application/json;odata.metadata=none")
    assert body == {"@odata.count": 3, "value": [{"name": "Turbine A"}, {"name": "Turbine B"},
                                                 {"name": "Turbine C"}]}
    assert list(ok(get(plant, "", none))) == ["value"]  # the service document
    single = ok(get(plant, f"Site('{plant['site']}')", none))
    assert "@odata.context" not in single and single["name"] == "Plant North"
    records = ok(get(plant, "TS_PowerConsumption_Power_CNGTurbine", none, **{"$top": "2"}))
    assert list(records) == ["value"] and len(records["value"]) == 2


def test_metadata_full_adds_type_id_and_navigation_links(plant):
    resp = get(plant, "LPGTurbine", "application/json;odata.metadata=full")
    body = ok(resp)
    assert resp.headers["Content-Type"].startswith("application/json;odata.metadata=full")
    assert body["@odata.context"].endswith("$metadata#LPGTurbine")
    [turbine] = body["value"]
    root = body["@odata.context"].split("$metadata")[0]
    assert turbine["@odata.type"].startswith(NS_PREFIX) and turbine["@odata.type"].endswith(".LPGTurbine")
    assert turbine["@odata.id"] == f"{root}LPGTurbine('{plant['lpg']}')"
    assert turbine["Base_CNGTurbine@odata.navigationLink"] == f"{root}LPGTurbine('{plant['lpg']}')/Base_CNGTurbine"
    assert list(turbine)[:2] == ["@odata.type", "@odata.id"]  # control information first
    assert turbine["name"] == "Turbine C"


def test_metadata_full_on_records_entities_and_expansions(plant):
    full = "application/json;odata.metadata=full"
    records = ok(get(plant, "TS_PowerConsumption_Power_CNGTurbine", full, **{"$top": "2"}))["value"]
    assert all(r["@odata.id"].endswith(f"TS_PowerConsumption_Power_CNGTurbine('{r['id']}')") for r in records)
    assert all(r["@odata.type"].endswith(".TS_PowerConsumption_Power_CNGTurbine") for r in records)
    single = ok(get(plant, f"Site('{plant['site']}')", full))
    assert single["@odata.context"].endswith("#Site/$entity") and single["@odata.id"].endswith(
        f"Site('{plant['site']}')")
    expanded = ok(get(plant, "LPGTurbine", full, **{"$expand": "Base_CNGTurbine"}))["value"][0]["Base_CNGTurbine"]
    assert expanded["@odata.type"].endswith(".CNGTurbine") and expanded["assetId"] == plant["lpg"]


@pytest.mark.parametrize("accept, named", [
    ("application/json;IEEE754Compatible=true", "IEEE754Compatible"),
    ("application/json;odata.metadata=verbose", "odata.metadata"),
    ("application/json;charset=iso-8859-1", "charset"),
    ("application/json;odata=verbose", "odata"),
    ("application/atom+xml", "application/atom+xml"),
    ("application/json;q=0", "application/json"),
])
def test_what_the_service_cannot_produce_is_not_acceptable(plant, accept, named):
    refused(get(plant, "Site", accept), 406, named)


def test_ieee754_compatible_true_alone_is_refused_but_an_alternative_is_taken(plant):
    refused(get(plant, "Site", **{"$format": "application/json;IEEE754Compatible=true"}), 406, "IEEE754Compatible")
    resp = get(plant, "Site", "application/json;IEEE754Compatible=true, application/json;q=0.5")
    assert ok(resp)["value"][0]["name"] == "Plant North"


@pytest.mark.parametrize("accept", ["application/xml", "application/xml;charset=utf-8", "application/*", "*/*"])
def test_metadata_document_takes_parameters_too(plant, accept):
    resp = get(plant, "$metadata", accept)
    assert resp.status_code == 200 and resp.content.startswith(b"<?xml")
    refused(get(plant, "$metadata", "application/json"), 406, "application/xml")


@pytest.mark.parametrize("accept", ["text/plain", "text/plain;charset=utf-8", "application/json",
                                    "application/json;odata.metadata=minimal"])
def test_count_takes_parameters_too(plant, accept):
    resp = get(plant, "CNGTurbine/$count", accept)
    assert resp.status_code == 200 and resp.text == "3" and resp.headers["Content-Type"].startswith("text/plain")


def test_the_4_01_parameter_names_and_the_refusals_in_full(plant):
    """OData 4.01 writes ``metadata`` and ``streaming`` without the ``odata.`` prefix (JSON format 3.1.1); both
    spellings are read. Mutants of ``query.metadata_level`` that lost the 4.01 name answered minimal metadata,
    and ones that garbled the list of served values in the 406 (``'XX|XX'.join``) survived a check of one word."""
    resp = get(plant, f"Site('{plant['site']}')", "application/json;metadata=none;streaming=true")
    body = ok(resp)
    assert resp.headers["Content-Type"].startswith("application/json;odata.metadata=none")
    assert "@odata.context" not in body and body["name"] == "Plant North"
    full = ok(get(plant, f"Site('{plant['site']}')", "application/json;metadata=full"))
    assert full["@odata.context"] and full["@odata.type"].endswith(".Site")
    assert "odata.metadata=verbose is not served (it serves odata.metadata=minimal|full|none)" in refused(
        get(plant, "Site", "application/json;odata.metadata=verbose"), 406)
    assert "the format parameter odata=verbose is unknown to this service" in refused(
        get(plant, "Site", "application/json;odata=verbose"), 406)


def test_format_refusals_name_the_format_option(plant):
    """A $format refused, for its media type (400) or its parameters (406), has ``$format`` as its target
    (``query.format_option__mutmut_11..25``)."""
    for value, status in (("xml", 400), ("application/json;odata.metadata=verbose", 406)):
        resp = get(plant, "Site", **{"$format": value})
        refused(resp, status, "$format")
        assert resp.json()["error"]["target"] == "$format"


def _level(resp) -> str:
    """The odata.metadata of a 200 answer's Content-Type."""
    assert resp.status_code == 200, resp.text
    return resp.headers["Content-Type"].split("odata.metadata=")[1].split(";")[0]


@pytest.mark.parametrize("accept, level", [
    # the most wanted first, whatever the order written (query.media_ranges__mutmut_23, 25, 27 sorted them the
    # other way round or not by weight; 2 split them at blanks, so "q=0.1," read as no weight: 1)
    ("application/json;odata.metadata=none;q=0.1, application/json;odata.metadata=full;q=0.9", "full"),
    # a weight that is no number is 1: as wanted as the first (stable order), not more (18) and no 500 (17)
    ("application/json;odata.metadata=full, application/json;odata.metadata=none;q=x", "full"),
    # an empty item is skipped, not the end of the list (7)
    ("text/html,,application/json;odata.metadata=none", "none"),
])
def test_accept_weights_order_the_ranges(plant, accept, level):
    assert _level(get(plant, "Site", accept)) == level


def test_no_accept_header_is_minimal(plant):
    """Without Accept (requests always sends one) the answer is minimal (``negotiate__mutmut_1`` read the absent
    header's text: 500; ``4, 5`` answered another level)."""
    status, headers, body = raw_get(plant, f"{SERVICE}/Site".encode())
    assert status == 200, body
    assert headers["content-type"].startswith("application/json;odata.metadata=minimal")
    assert body["@odata.context"].endswith("$metadata#Site")


def test_a_text_count_takes_no_json_format_parameter(plant):
    """$count is text/plain, which takes charset only: odata.metadata there is refused (``negotiate__mutmut_30, 32``
    took the JSON parameters for it)."""
    assert "the format parameter odata.metadata=minimal is unknown to this service" in refused(
        get(plant, "CNGTurbine/$count", "text/plain;odata.metadata=minimal"), 406)


@pytest.mark.parametrize("accept, why", [
    ("text/html", ""),
    ("application/json;odata=verbose, application/json;charset=latin1",
     " (the format parameter odata=verbose is unknown to this service; charset=latin1 is not served (it serves "
     "charset=utf-8))"),
])
def test_not_acceptable_says_what_was_asked_and_why(plant, accept, why):
    """The 406 in full: the reasons of the ranges refused, joined, or none (``negotiate__mutmut_39, 41, 42``)."""
    assert refused(get(plant, "Site", accept), 406) == f"This resource is served as application/json, not {accept}{why}"


def test_a_parameter_value_is_read_as_sent_less_its_quotes(plant):
    """A quoted value is unquoted (``media_type__mutmut_12`` kept the quotes: 406), nothing else is stripped
    (``13`` stripped X's too: utf-8x became utf-8), and a value may hold = (``7`` split the name there)."""
    assert _level(get(plant, "Site", 'application/json;odata.metadata="full"')) == "full"
    assert "charset=utf-8x is not served" in refused(get(plant, "Site", 'application/json;charset="UTF-8X"'), 406)
    assert "odata.metadata=a=b is not served" in refused(get(plant, "Site", "application/json;odata.metadata=a=b"),
                                                         406)
