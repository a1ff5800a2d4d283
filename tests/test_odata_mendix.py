"""The Data Hub service against the request shape of a Mendix app's consumed OData service, as far as it is
documented (README, "What the Mendix runtime sends"; no capture of the runtime's own requests was found):

* the query options a consumed service must support: ``$filter``, ``$orderby``, ``$top``, ``$skip``,
  ``$expand``, ``$count`` (docs.mendix.com/refguide/consumed-odata-service-requirements), in the forms of
  Mendix's own publisher, which its consumer is built against (docs.mendix.com/refguide/odata-query-options):
  ``contains(Name, 'f')`` with a space, ``not(...)`` without one, ``$select=Name,Age``, ``$count=true`` with
  ``$skip``/``$top`` for a page and its total, ``Set/$count?$filter=...`` for a count alone
  (docs.mendix.com/refguide/wrap-services-odata), ``$expand=Nav($select=...)``;
* "Use QuerySegment": ``POST Set/$query`` with the query string as a ``text/plain`` body
  (docs.mendix.com/refguide/consumed-odata-service);
* the headers microflow is called again after a 401 and the request retried: a missing or expired token is
  401, never 403;
* the error handling microflow gets the ``System.HttpResponse`` of any non-2xx answer and returns the message to
  show; seed 9.1: the message reaches ``$latestError/Message`` and ``DH_MindSphereErrorFromString`` makes a
  ``MindSphereError`` with a ``StatusCode`` of it. So every refusal carries its status in the response and in
  the body, and a message that names what to change.

The headers are unknown: each request goes with the plausible sets below (none, plain JSON, JSON with format
parameters, with OData-MaxVersion 4.0 or 4.01) and must answer alike.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from tests.support.odata import MINUTES, SERVICE, START, shared_plant, stamp

TSET = f"{SERVICE}/TS_PowerConsumption_Power_CNGTurbine"
HEADERS = {
    "none": {},
    "json": {"Accept": "application/json"},
    "json+parameters": {"Accept": "application/json;odata.metadata=minimal", "OData-MaxVersion": "4.0"},
    "json+charset, 4.01": {"Accept": "application/json; charset=utf-8", "OData-MaxVersion": "4.01",
                           "OData-Version": "4.0"},
}

plant = pytest.fixture(scope="module")(shared_plant)


def send(plant, path: str, query: str, headers: dict, method: str = "GET"):
    """A request with the query string exactly as written (spaces as %20, quotes and parentheses as they are),
    or, for ``method="POST"``, ``{path}/$query`` with the query string as a text/plain body."""
    api = plant["api"]
    if method == "POST":
        return api.post(f"{path}/$query", data=query.encode(), headers={**headers, "Content-Type": "text/plain"})
    encoded = "&".join(f"{k}={quote(v, safe=quote_safe)}" for k, v in (p.split("=", 1) for p in query.split("&")))
    return api.get(f"{api.base_url}{path}?{encoded}", headers=headers)


quote_safe = "$'(),=:"


@pytest.fixture(params=sorted(HEADERS), ids=sorted(HEADERS))
def headers(request):
    return HEADERS[request.param]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_data_grid_page_with_its_total(plant, headers, method):
    """A page of a filtered, sorted grid: $select of the shown attributes, $count=true for the pager."""
    query = ("$select=assetId,name,typeId&$filter=contains(name, 'Turbine') and not(name eq 'Turbine B')"
             "&$orderby=name desc&$skip=1&$top=1&$count=true")
    resp = send(plant, f"{SERVICE}/CNGTurbine", query, headers, method)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")
    assert resp.headers["OData-Version"] == "4.0"
    body = resp.json()
    assert body["@odata.count"] == 2 and [r["name"] for r in body["value"]] == ["Turbine A"]
    assert set(body["value"][0]) == {"assetId", "name", "typeId"}


def test_a_count_alone(plant, headers):
    resp = send(plant, f"{TSET}/$count", f"$filter=assetId eq '{plant['cng1']}'", headers)
    assert resp.status_code == 200 and resp.text == str(MINUTES)


def test_a_time_series_page_within_the_limits(plant, headers):
    lo, hi = stamp(START), stamp(START.replace(hour=1))
    query = (f"$select=timestamp,current&$filter=assetId eq '{plant['cng2']}' and timestamp gt '{lo}' and "
             f"timestamp le '{hi}'&$orderby=timestamp desc&$skip=0&$top=5&$count=true")
    body = send(plant, TSET, query, headers).json()
    assert body["@odata.count"] == 60 and [r["current"] for r in body["value"]] == [159.0, 158.0, 157.0, 156.0, 155.0]


def test_an_association_expanded(plant, headers):
    body = send(plant, f"{SERVICE}/LPGTurbine", "$select=name&$expand=Base_CNGTurbine($select=assetId)&$top=20",
                headers).json()
    assert body["value"] == [{"name": "Turbine C", "Base_CNGTurbine": {"assetId": plant["lpg"]}}]


@pytest.mark.parametrize("query, status, named", [
    ("$orderby=current desc&$top=20", 400, "current"),  # seed 8.7's own example
    ("$filter=voltage gt 200&$top=20", 400, "voltage"),
    ("$filter=assetId eq 'x' or assetId eq 'y'&$top=20", 400, "or"),
    ("$filter=timestamp gt '2024-03-01'&$top=20", 400, "YYYY-MM-DDTHH:mm:ss"),
    ("$filter=length(mode) eq 3&$top=20", 501, "length"),
])
def test_a_refusal_carries_what_an_error_handler_needs(plant, headers, query, status, named):
    """The status (HttpResponse.StatusCode; in the body's code as well) and a message that names what to
    change: what DH_ErrorHandler and DH_MindSphereErrorFromString have to read."""
    resp = send(plant, TSET, query, headers)
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    error = resp.json()["error"]
    assert error["code"] == str(status) and named in error["message"], error


def test_an_expired_or_missing_token_is_401_for_the_headers_microflow(plant, headers):
    for auth in ({}, {"Authorization": "Bearer expired.or.forged"}):
        resp = requests.get(f"{plant['api'].base_url}{SERVICE}/CNGTurbine", headers={**headers, **auth}, timeout=10)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert resp.json()["error"]["code"] == "401"
