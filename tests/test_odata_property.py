"""Property tests of the OData query options through HTTP.

1. Random asset ``$filter`` expressions within the limits (eq/contains/startswith/endswith on the five
   filterable properties, joined by and/or/not, with values full of quotes, wildcards and unicode)
   select exactly what a plain-Python reading of the expression selects.
2. Random text in every query option never answers a 5xx: a 200, or a 400/406/501 in the OData error
   shape (406: a ``$format`` asking JSON with a format parameter not served), and the data is unchanged
   afterwards.
3. A page of an asset set without ``$filter`` (read through SQL made once per shape) is the page the same options
   give with a filter that keeps every asset (the statement built per request): random ``$orderby`` over every
   sortable property, ``$top`` and ``$skip``, over assets whose names repeat and whose optional fields are
   sometimes empty.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from emulator.odata.model import ASSET_FIELDS
from emulator.testing import ApiSession
from tests.support.odata import ASSETS, SERVICE, make_plant, publish_contract, shared_plant
from tests.support.tenants import temporary_tenant, tenant_session

plant = pytest.fixture(scope="module")(shared_plant)
PROPS = ("assetId", "name", "parentId", "timezone", "typeId")
FUNCS = ("eq", "contains", "startswith", "endswith")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

values = st.one_of(
    st.sampled_from(["Turbine", "Turbine A", "A", "Plant", "Europe/", "Berlin", "", "'", "%", "_", "\\"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=6),
)
# words that split the turbines (Turbine A and B are CNG turbines, Turbine C an LPG one): drawn half of the time
# for the properties that tell them apart, so that filters select some turbines, not only none or all of them
SPLITTING = {"name": ["Turbine A", "Turbine B", "Turbine C", "A", "B", "C", "e A"],
             "typeId": ["LPGTurbine", "CNGTurbine", ".LPG", "Turbine"]}


@st.composite
def conditions(draw):
    prop, func = draw(st.sampled_from(PROPS)), draw(st.sampled_from(FUNCS))
    value = draw(st.one_of(st.sampled_from(SPLITTING[prop]), values) if prop in SPLITTING else values)
    literal = "'" + value.replace("'", "''") + "'"
    text = f"{prop} eq {literal}" if func == "eq" else f"{func}({prop},{literal})"
    test = {"eq": lambda a: a == value, "contains": lambda a: value in a,
            "startswith": lambda a: a.startswith(value), "endswith": lambda a: a.endswith(value)}[func]
    return text, lambda asset: asset[prop] is not None and test(asset[prop])


def expressions():
    return st.recursive(conditions(), lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: (f"({p[0][0]}) and ({p[1][0]})",
                                               lambda a, p=p: p[0][1](a) and p[1][1](a))),
        st.tuples(inner, inner).map(lambda p: (f"({p[0][0]}) or ({p[1][0]})",
                                               lambda a, p=p: p[0][1](a) or p[1][1](a))),
        inner.map(lambda c: (f"not ({c[0]})", lambda a, c=c: not c[1](a))),
    ), max_leaves=5)


def _get(plant, path: str, query: str):
    """GET with a query string encoded exactly as given (spaces as %20, as OData clients send them)."""
    return plant["api"].get(f"{plant['api'].base_url}{path}?{query}")


@SETTINGS
@given(expression=expressions())
def test_asset_filters_select_what_they_say(plant, expression):
    text, keep = expression
    everything = plant["api"].get(f"{SERVICE}/CNGTurbine").json()["value"]
    resp = _get(plant, f"{SERVICE}/CNGTurbine", "$filter=" + quote(text, safe=""))
    assert resp.status_code == 200, (text, resp.text)
    assert [a["assetId"] for a in resp.json()["value"]] == [a["assetId"] for a in everything if keep(a)], text
    kept = sum(1 for a in everything if keep(a))  # --hypothesis-show-statistics: how many filters were selective
    event("selects none" if kept == 0 else "selects all" if kept == len(everything) else "selects some")
    target(min(kept, len(everything) - kept), label="turbines on the smaller side of the filter")


junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
options = st.sampled_from(["$filter", "$orderby", "$top", "$skip", "$select", "$expand", "$count", "$skiptoken",
                           "$format", "$search"])
sets = st.sampled_from(["CNGTurbine", "TS_PowerConsumption_Power_CNGTurbine",
                        "AGGR_PowerConsumption_Power_CNGTurbine", "Site('x')", "CNGTurbine/$count"])


@SETTINGS
@given(entity_set=sets, option=options, value=junk)
def test_any_option_text_answers_in_the_odata_shape(plant, entity_set, option, value):
    before = plant["api"].get(f"{SERVICE}/CNGTurbine").json()["value"]
    resp = _get(plant, f"{SERVICE}/{entity_set}", f"{option}={quote(value, safe='')}")
    assert resp.status_code in (200, 204, 400, 404, 406, 501), (option, value, resp.status_code, resp.text)
    if resp.status_code >= 400:
        error = resp.json()["error"]
        assert error["code"] == str(resp.status_code) and error["message"]
    assert plant["api"].get(f"{SERVICE}/CNGTurbine").json()["value"] == before


@pytest.fixture(scope="module")
def crowd(server):
    """The plant's types and 30 more turbines of both types (the LPG type a subtype of the set's CNG one): names
    that repeat, a description and an external id on some, under the site or the root."""
    with (ApiSession(server.url) as admin, temporary_tenant(admin, prefix="o") as tenant,
          tenant_session(server.url, tenant) as api):
        ids = make_plant(api, tenant)
        for n in range(30):
            extra = {**({"description": f"d{n % 4}"} if n % 3 else {}),
                     **({"externalId": f"x{n % 5}"} if n % 2 else {})}
            made = api.post(ASSETS, json={"name": f"Turbine {'ABC'[n % 3]}", "typeId": f"{tenant['name']}."
                                          f"{'LPG' if n % 4 == 0 else 'CNG'}Turbine",
                                          "parentId": ids["site"] if n % 2 else tenant["rootAssetId"], **extra})
            assert made.status_code == 201, made.text
        publish_contract(api, tenant)
        yield api


SORTABLE = [prop for prop, *_ in ASSET_FIELDS]
KEEP_ALL = "(name eq 'Turbine A') or not (name eq 'Turbine A')"


@SETTINGS
@given(order=st.lists(st.tuples(st.sampled_from(SORTABLE), st.sampled_from(["", " asc", " desc"])), max_size=3,
                      unique_by=lambda item: item[0]),
       top=st.one_of(st.none(), st.integers(0, 40)), skip=st.one_of(st.none(), st.integers(0, 40)))
def test_a_page_without_filter_is_the_page_with_a_filter_that_keeps_all(crowd, order, top, skip):
    params = {**({"$orderby": ",".join(p + d for p, d in order)} if order else {}),
              **({"$top": str(top)} if top is not None else {}), **({"$skip": str(skip)} if skip is not None else {})}
    plain = crowd.get(f"{SERVICE}/CNGTurbine", params=params)
    filtered = crowd.get(f"{SERVICE}/CNGTurbine", params={**params, "$filter": KEEP_ALL})
    assert plain.status_code == filtered.status_code == 200, (plain.text, filtered.text)
    assert plain.json()["value"] == filtered.json()["value"], params
    event(f"{len(plain.json()['value'])} assets")
