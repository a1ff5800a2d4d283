"""Requests are validated from their operation's schema (``emulator.validation``), through HTTP.

Each API's contract is written once, in its package's ``spec.py``; the structural rules of bodies and query
parameters live there and nowhere else. So this file proves, for every API, that a schema violation answers 400
in that API's own envelope with a message naming the failing path; that rules the routes no longer check by
hand (they were removed from the code when the schemas took them over) still hold; that what reaches a verb by
another way than a request (a merge patch's result, the dashboard, the command line) is checked against the same
schemas; and that no operation with a JSON body goes without a compiled validator, so a new route cannot skip
validation silently.
"""

from __future__ import annotations

import base64
import uuid

import pytest

from emulator import errors, validation
from emulator.control import spec as control_spec
from emulator.registry import load as load_registry
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.paths import (
    AGGREGATES_V3,
    AGGREGATES_V4,
    ASPECT_TYPES,
    ASSET_TYPES,
    ASSETS,
    CONTRACTS,
    EVENT_MANAGEMENT,
    EVENTS,
    TECHNICAL_TOKEN,
    TENANTS,
    TIMESERIES,
)
from tests.support.timeseries import make_pump

JSON_MEDIA = ("application/json", "application/merge-patch+json")
# Operations whose request is checked in code, and why (their fragment's ``checked_in_code``); a new entry here is
# a decision, not an accident
CHECKED_IN_CODE = {"timeseries.put_timeseries", "auth.oauth_token"}


def core_message(resp, status: int = 400, code: str = "invalidRequestBodyProperty") -> str:
    """The message of a core envelope answer, which must be exactly ``{"errors": [{code, logref, message}]}``."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert set(error) == {"code", "logref", "message"} and error["code"] == f"mdsp.core.generic.{code}", error
    return error["message"]


def timeseries_message(resp, status: int = 400) -> str:
    """The message of a time series envelope answer: exactly ``{"id", "message"}``."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"id", "message"}, body
    return body["message"]


def _basic(client) -> str:
    return "Basic " + base64.b64encode(f"{client['clientId']}:{client['clientSecret']}".encode()).decode()


def ttm_body(tenant, **changes) -> dict:
    return {"appName": "myapp", "appVersion": "1.0.0", "hostTenant": tenant["name"], "userTenant": tenant["name"],
            **changes}


# --- one violation per API, in its envelope, the failing path named -------------------------------------

def test_asset_management_answers_in_the_core_envelope(api, tenant):
    resp = api.put(f"{ASPECT_TYPES}/{tenant['name']}.Sensors", json={
        "name": "Sensors", "category": "dynamic", "variables": [{"name": "1st", "dataType": "DOUBLE"}]})
    message = core_message(resp)
    assert message == "body.variables[0].name must start with a letter and hold letters, digits, _ (at most 64)"
    assert api.get(f"{ASPECT_TYPES}/{tenant['name']}.Sensors").status_code == 404  # nothing was written


def test_time_series_answers_in_its_own_envelope(api, tenant):
    asset = make_pump(api, tenant)
    message = timeseries_message(api.get(f"{TIMESERIES}/{asset}/Sensors", params={"limit": "2001"}))
    assert message == "query.limit must be between 1 and 2000"
    message = timeseries_message(api.put(TIMESERIES, json={"timeseries": []}))
    assert message == "body.timeseries must not be empty"


def test_aggregates_v4_and_v3_answer_in_their_envelopes(api, tenant):
    asset = make_pump(api, tenant)
    v4 = api.get(AGGREGATES_V4, params={"assetId": asset, "aspectName": "Sensors", "intervalUnit": "days"})
    message = core_message(v4, code="invalidParameter")
    assert message.startswith("query.intervalUnit must be one of 'minute', 'hour'"), message
    v3 = api.get(f"{AGGREGATES_V3}/{asset}/Sensors", params={
        "from": "2026-03-02T00:00:00Z", "to": "2026-03-02T02:00:00Z", "intervalUnit": "hour", "intervalValue": "0"})
    assert timeseries_message(v3) == "query.intervalValue must be between 1 and 90"


def test_the_token_manager_answers_in_the_core_envelope(server, tenant):
    client = tenant["clients"][0]
    with ApiSession(server.url) as anyone:
        resp = anyone.post(TECHNICAL_TOKEN, json=ttm_body(tenant, appName="bad name!"),
                           headers={"X-SPACE-AUTH-KEY": _basic(client)})
    assert core_message(resp) == "body.appName must be 1-128 letters, digits or ._-"


def test_the_control_plane_answers_in_the_core_envelope(admin):
    resp = admin.post("/_emulator/faults", json={"effect": {"status": 700}})
    assert core_message(resp) == "body.effect.status must be between 400 and 599"
    assert admin.get("/_emulator/faults").json()["faults"] == []


def test_contracts_answer_in_the_core_envelope(api):
    resp = api.post("/_emulator/contracts", json={"name": "plant", "assetTypeIds": ["core.basicasset"],
                                                  "environment": "Moon"})
    message = core_message(resp)
    assert message == "body.environment must be one of 'Sandbox', 'production', 'non-production'"


def test_missing_properties_and_parameters_say_so(api, tenant):
    resp = api.put(f"{ASPECT_TYPES}/{tenant['name']}.Sensors", json={"name": "Sensors", "variables": []})
    assert core_message(resp, code="missingRequestBodyProperty") == "body.category is required"
    resp = api.put(f"{ASPECT_TYPES}/{tenant['name']}.Sensors", json={"name": "Sensors", "category": None,
                                                                         "variables": []})
    assert core_message(resp, code="missingRequestBodyProperty") == "body.category is required"  # null: missing
    resp = api.get(AGGREGATES_V4, params={"aspectName": "Sensors"})
    assert core_message(resp, code="missingParameter") == "query.assetId is required"


# --- rules the code no longer checks by hand hold through the schemas ----------------------------------

@pytest.mark.parametrize(("change", "path"), [
    ({"location": {"latitude": 91}}, "body.location.latitude must be between -90 and 90"),  # service.location
    ({"location": {"planet": "Earth"}}, "body.location unknown properties: planet"),
    ({"twinType": "digital"}, "body.twinType must be one of 'performance', 'simulation' or null"),  # create_asset
    ({"externalId": "x\u0007"}, "body.externalId must not contain control characters"),  # validation.optional_str
    ({"variables": [{"value": "1"}]}, "body.variables[0].name is required"),  # types._name_value
])
def test_asset_rules_held_by_the_schema(api, tenant, change, path):
    body = {"name": "P", "typeId": "core.basicasset", "parentId": tenant["rootAssetId"], **change}
    assert core_message(api.post(ASSETS, json=body), code=_code(path)).startswith(path)
    assert api.get(ASSETS).json()["page"]["totalElements"] == 1  # only the root


def _code(message: str) -> str:
    return "missingRequestBodyProperty" if message.endswith("is required") else "invalidRequestBodyProperty"


def test_asset_management_query_and_move_rules(api, tenant):
    resp = api.get(ASSETS, params={"size": str(2**31)})  # above 200 is lowered; past 32 bits, refused
    assert core_message(resp, code="invalidParameter") == "query.size must be at most 2147483647"
    resp = api.get(ASSETS, params={"sort": "color,asc"})
    assert core_message(resp, code="invalidParameter").startswith("query.sort must be a field (name, assetId")
    resp = api.get(ASSET_TYPES, params={"exploded": "maybe"})
    assert core_message(resp, code="invalidParameter") == "query.exploded must be true or false"
    created = api.post(ASSETS, json={"name": "P", "typeId": "core.basicasset",
                                            "parentId": tenant["rootAssetId"]}).json()
    moved = api.post(f"{ASSETS}/{created['assetId']}/move", json={"newParentId": ""}, headers={"If-Match": "0"})
    assert core_message(moved) == "body.newParentId must not be empty"


def test_a_merge_patch_result_is_checked_against_the_put_schema(api, tenant):
    url = f"{ASPECT_TYPES}/{tenant['name']}.Sensors"
    assert api.put(url, json={"name": "Sensors", "category": "dynamic", "variables": []}).status_code == 201
    merge = {"Content-Type": "application/merge-patch+json", "If-Match": "0"}
    resp = api.patch(url, data='{"scope": "public"}', headers=merge)
    assert core_message(resp) == "body.scope must be 'private' or null"
    asset = api.post(ASSETS, json={"name": "P", "typeId": "core.basicasset",
                                          "parentId": tenant["rootAssetId"]}).json()
    resp = api.patch(f"{ASSETS}/{asset['assetId']}", data='{"location": {"longitude": 181}}', headers=merge)
    assert core_message(resp) == "body.location.longitude must be between -180 and 180"
    assert api.get(url).json()["etag"] == 0 and api.get(f"{ASSETS}/{asset['assetId']}").json()["etag"] == 0


def test_time_series_rules_held_by_the_schema(api, tenant):
    asset = make_pump(api, tenant)
    pairs = [{"entityId": asset, "propertySetName": "Sensors", "data": []}] * 6  # routes.put_many no longer counts
    answer = timeseries_message(api.put(TIMESERIES, json={"timeseries": pairs}))
    assert answer == "body.timeseries must hold at most 5 items"
    resp = api.delete(f"{TIMESERIES}/{asset}/Sensors", params={"from": "2026-01-01T00:00:00Z"})
    assert timeseries_message(resp) == "query.to is required"
    resp = api.get(f"{TIMESERIES}/{asset}/Sensors", params={"limit": "many"})  # routes._limit no longer parses it
    assert timeseries_message(resp) == "query.limit must be an integer"
    resp = api.get(f"{TIMESERIES}/{asset}/Sensors", params={"sort": "sideways"})
    assert timeseries_message(resp) == "query.sort must be one of 'asc', 'desc'"
    resp = api.get(f"{TIMESERIES}/{asset}/Sensors", params={"from": "2026-02-30T00:00:00Z"})
    assert timeseries_message(resp).startswith("query.from is not an ISO-8601 date and time of the years 1970-8999")


def test_an_empty_query_value_is_a_value_unless_its_parameter_allows_it(api, tenant):
    """``sort=`` is checked as the value it is (the parameter does not allow an empty value: refused, not the
    default), while ``limit=`` (allowEmptyValue) is absent (``_query_check__mutmut_68`` took every empty value for
    absent)."""
    asset = make_pump(api, tenant)
    resp = api.get(f"{TIMESERIES}/{asset}/Sensors", params={"sort": ""})
    assert timeseries_message(resp) == "query.sort must be one of 'asc', 'desc'"
    assert api.get(f"{TIMESERIES}/{asset}/Sensors", params={"limit": ""}).status_code == 200


def test_aggregate_count_and_token_fields_held_by_the_schema(server, api, tenant):
    asset = make_pump(api, tenant)
    resp = api.get(AGGREGATES_V4, params={"assetId": asset, "aspectName": "Sensors", "count": "0"})
    assert core_message(resp, code="invalidParameter") == "query.count must be at least 1"  # intervals.parse_count
    client = tenant["clients"][0]
    with ApiSession(server.url) as anyone:
        resp = anyone.post(TECHNICAL_TOKEN, json=ttm_body(tenant, appVersion=["1"]),
                           headers={"X-SPACE-AUTH-KEY": _basic(client)})
        assert core_message(resp) == "body.appVersion must be a string"
        query = "&".join(f"{k}={v}" for k, v in ttm_body(tenant, appName="-x").items())
        resp = anyone.post(f"{TECHNICAL_TOKEN}?{query}", headers={"X-SPACE-AUTH-KEY": _basic(client)})
        assert core_message(resp, code="invalidParameter") == "query.appName must be 1-128 letters, digits or ._-"


def test_control_plane_rules_held_by_the_schema(admin, tenant):
    name = "r" + uuid.uuid4().hex[:12]
    refusals = [
        (admin.post(TENANTS, json={"name": name, "clients": [{"clientId": "bad id"}]}),
         "body.clients[0].clientId must be 1-128 letters, digits or ._:@-"),  # clients.parse_client_specs
        (admin.post(TENANTS, json={"name": name, "clients": [{"scopes": ["root"]}]}),
         "body.clients[0].scopes[0] must be one of"),
        (admin.post(TENANTS, json={"name": "No"}),
         "body.name must be a tenant name: 2-20 lowercase letters and digits, starting with a letter"),
        (admin.put("/_emulator/ratelimits", json={"tenant": tenant["name"], "requests": 0, "perSeconds": 1}),
         "body.requests must be between 1 and 1000000000"),  # ratelimits.parse_quota
        (admin.put("/_emulator/clock", json={"mode": "offset", "speed": 0}), "body.speed must be above 0"),
        (admin.post("/_emulator/faults", json={"effect": {"delayMs": {"uniform": [1]}}}),
         "body.effect.delayMs matches none of the forms it may take: Milliseconds"),  # faults.parse_rule
        (admin.post("/_emulator/snapshots", json={"format": "zip", "schemaVersion": 1, "tenant": {}}),
         "body.format must be 'mindsphere-emulator-snapshot'"),  # snapshots.restore
    ]
    for resp, message in refusals:
        assert core_message(resp, code=_code(message)).startswith(message)
    assert all(t["name"] != name for t in admin.get(TENANTS).json()["tenants"])
    resp = admin.get("/_emulator/journal", params={"limit": "0"})  # journal.parse_filters
    assert core_message(resp, code="invalidParameter") == "query.limit must be between 1 and 100000"
    resp = admin.get("/_emulator/datahub/catalog", params={"user": "someone"})  # contracts.visible
    assert core_message(resp, code="invalidParameter") == "query.user must be an email address (name@domain)"


def test_pump_and_contract_rules_held_by_the_schema(admin, api, tenant):
    pumps = f"/_emulator/tenants/{tenant['name']}/pumps"
    assert core_message(admin.post(pumps, json={"historyHours": 169})) == "body.historyHours must be between 0 and 168"
    assert core_message(admin.post(pumps, json={"speed": 1})).startswith("body unknown properties: speed")
    assert core_message(admin.post(pumps, json={"name": " "})).startswith("body.name is required: not blank")
    resp = api.post("/_emulator/contracts", json={"name": "-plant", "assetTypeIds": ["core.basicasset"]})
    assert core_message(resp).startswith("body.name may hold letters, digits")  # contracts._check
    resp = api.post("/_emulator/contracts/plant/publish", json={"publisherEmail": "nobody"})
    assert core_message(resp) == "body.publisherEmail must be an email address (name@domain)"


def test_each_kind_of_rule_is_said_in_its_words(admin, api, tenant):
    """A refusal names what the value must be for each kind of rule, in full: a length, a pattern without a text
    of its own (short: quoted; long: its example instead), an object that must not be empty, an array that must
    not be empty, a choice of forms without a description (``_explain``: its branches were each garbled or
    swapped by a mutant the other tests did not see)."""
    asset = make_pump(api, tenant)
    event = {"entityId": asset, "timestamp": "2024-05-01T10:00:00.000Z"}
    refusals = [
        (api.post(ASSETS, json={"name": "P" * 129, "typeId": "core.basicasset", "parentId": tenant["rootAssetId"]}),
         "body.name must be at most 128 characters long"),
        (api.post(EVENTS, json={**event, "entityId": "ABC"}), "body.entityId does not match ^[a-f0-9]{32}$"),
        (api.post(EVENTS, json={**event, "timestamp": "yesterday"}),
         "body.timestamp is not in the form it takes (e.g. 2024-05-01T10:00:00.000Z)"),
        (admin.post("/_emulator/faults", json={"effect": {}}), "body.effect must not be empty"),
        (api.post(CONTRACTS, json={"name": "plant", "assetTypeIds": []}), "body.assetTypeIds must not be empty"),
        (api.patch(f"{ASPECT_TYPES}/{tenant['name']}.Sensors/variables", data='{"temperature": {"defaultValue": []}}',
                   headers={"If-Match": "0", "Content-Type": "application/merge-patch+json"}),
         "body.temperature.defaultValue matches none of the forms it may take"),
        # a map's key of digits is a key, not an index (_schema_at__mutmut_1 took it for one: a 500)
        (api.patch(f"{ASPECT_TYPES}/{tenant['name']}.Sensors/variables", data='{"0": {"defaultValue": []}}',
                   headers={"If-Match": "0", "Content-Type": "application/merge-patch+json"}),
         "body.0.defaultValue matches none of the forms it may take"),
    ]
    for resp, message in refusals:
        assert core_message(resp) == message


def test_messages_name_the_item_every_type_and_every_allowed_property(api, tenant):
    """A value of a nullable type names both types; unknown properties are named, sorted, with every allowed one,
    inside an array's item too; a required property sent as null inside an array's item is missing (``_explain``
    joined the names otherwise; ``_schema_at`` lost an item's schema, and with it the allowed names; ``error``
    looked for the required list two steps up)."""
    root = {"name": "P", "typeId": "core.basicasset", "parentId": tenant["rootAssetId"]}
    refusals = [
        (api.post(ASSETS, json={**root, "twinType": 5}), "body.twinType must be a string or null"),
        (api.post(ASSETS, json={**root, "location": {"planet": "Earth", "moon": "Luna"}}),
         "body.location unknown properties: moon, planet (allowed: country, region, locality, streetAddress, "
         "postalCode, longitude, latitude)"),
        (api.post(f"{EVENT_MANAGEMENT}/eventTypes", json={"name": "Alarm", "fields": [
            {"name": "code", "type": "STRING", "bogus": 1}]}),
         "body.fields[0] unknown properties: bogus (allowed: name, type, filterable, required, updatable, values)"),
    ]
    for resp, message in refusals:
        assert core_message(resp) == message
    resp = api.put(f"{ASPECT_TYPES}/{tenant['name']}.Sensors", json={
        "name": "Sensors", "category": "dynamic", "variables": [{"name": None, "dataType": "DOUBLE"}]})
    assert core_message(resp, code="missingRequestBodyProperty") == "body.variables[0].name is required"


def test_a_head_request_is_checked_as_its_get():
    """HEAD runs a GET view (Flask), so it takes the GET's checks: a bad query parameter answers 400 before the
    route, as to GET (``install__mutmut_7, 8`` left HEAD unchecked: the route then answered 200). A server of its
    own: the views are wrapped when a server starts, and the app keeps the checks it wrapped them with (read by
    test_every_json_body_and_query_parameter_has_a_compiled_validator; ``install__mutmut_22`` kept None)."""
    with LiveServer(Settings(database_url="sqlite://")) as live, ApiSession(live.url) as admin:
        for method in ("GET", "HEAD"):
            assert admin.request(method, "/_emulator/journal", params={"limit": "0"}).status_code == 400, method
            assert admin.request(method, "/_emulator/journal", params={"limit": "1"}).status_code == 200, method
        kept = live.app.extensions[validation.KEY]
    assert {method for _endpoint, method in kept} == {"GET", "POST", "PUT", "PATCH", "DELETE"}


# --- other ways in: the verbs and the command line check the same schemas ------------------------------

def test_the_verbs_check_what_the_dashboard_and_commands_give_them(server):
    """The dashboard and the command line reach the control plane's verbs without a request body to validate:
    the verbs check their documents against the same schemas."""
    with server.app.app_context():
        plane = server.app.extensions["mdsp"].control
        for call, message in [
            (lambda: plane.add_rule({"effect": {"status": 200}}), "rule.effect.status must be between 400 and 599"),
            (lambda: plane.add_rule({"match": {"api": "nothing"}, "effect": {"status": 500}}),
             "rule.match.api must be one of"),
            (lambda: plane.put_quota({"tenant": "x", "requests": 1}), "quota.perSeconds is required"),
            (lambda: plane.set_clock("sideways"), "clock.mode must be one of 'real', 'frozen', 'offset'"),
            (lambda: plane.advance_clock(10**12), "clock.seconds must be between"),
            (lambda: plane.import_snapshot({"format": "zip"}, "emutenant"), "snapshot.schemaVersion is required"),
        ]:
            with pytest.raises(errors.ApiError) as caught:
                call()
            assert caught.value.status == 400 and caught.value.message.startswith(message), caught.value.message


def test_the_contract_command_checks_its_body(tmp_path, capsys):
    from emulator.app import init_state
    from emulator.cli import main
    from emulator.clock import Clock
    from emulator.settings import Settings
    from emulator.store import Store

    url = "sqlite:///" + str(tmp_path / "e.sqlite3")
    init_state(Settings(database_url=url), Store(url), Clock())  # a store, as serve leaves one
    assert main(["contract", "create", "plant", "--asset-type", "core.basicasset", "--environment", "Moon",
                 "--database-url", url]) != 0
    assert "contract.environment must be one of" in capsys.readouterr().err


# --- no operation skips validation -----------------------------------------------------------------------

def test_every_json_body_and_query_parameter_has_a_compiled_validator(server, admin):
    """Every operation of the served document with a JSON request body has a compiled body check, and every
    documented query parameter (OData's ``$`` options aside: ``emulator.odata.query`` parses them) a query
    check, on the route the app serves; the operations checked in code are the known few, each with its
    reason."""
    doc = admin.get("/_emulator/openapi.json").json()
    checks = server.app.extensions[validation.KEY]
    by_id = {check.operation_id: check for check in checks.values()}
    in_code = {op: why for api in load_registry().apis if api.spec is not None
               for op, why in api.spec(False)["checked_in_code"].items()}
    assert set(in_code) == CHECKED_IN_CODE and all(in_code.values())
    for path, item in doc["paths"].items():
        for method, op in item.items():
            op_id = op["operationId"]
            if op_id in in_code:
                continue
            media = set(op.get("requestBody", {}).get("content", {}))
            if media & set(JSON_MEDIA):
                assert op_id in by_id and by_id[op_id].body is not None, f"{method.upper()} {path}: no body check"
                assert set(by_id[op_id].media) == media & set(JSON_MEDIA)
            params = [_resolve(doc, p) for p in op.get("parameters", [])]
            wanted = {p["name"] for p in params if p["in"] == "query" and "schema" in p and p["name"][0] != "$"}
            checked = {q.name for q in by_id[op_id].query} if op_id in by_id else set()
            assert checked == wanted, f"{method.upper()} {path}: query checks {checked}, documented {wanted}"
    for endpoint, _method in checks:  # each check wraps the view of the route it belongs to
        assert hasattr(server.app.view_functions[endpoint], "__wrapped__"), endpoint


def _resolve(doc: dict, node: dict) -> dict:
    if "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        return doc["components"][kind][name]
    return node


def test_nullable_becomes_a_json_schema_type_list():
    schema = validation.to_json_schema(
        {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}, "b": {
            "type": "string", "enum": ["x", None], "nullable": True, "description": "kept", "example": "x"}}},
        {"schemas": {"A": {"type": "integer", "nullable": True, "minimum": 0, "exclusiveMinimum": True}}})
    assert schema["properties"]["a"] == {"type": ["integer", "null"], "minimum": 0, "exclusiveMinimum": True}
    assert schema["properties"]["b"] == {"type": ["string", "null"], "enum": ["x", None], "description": "kept",
                                         "example": "x"}  # both quoted by messages
    check = validation.Check(schema, "body", {})
    check({"a": None, "b": None})
    with pytest.raises(errors.InvalidBody, match=r"^body\.a must be above 0$"):
        check({"a": 0})


def test_a_token_is_still_asked_for_before_the_body_is_looked_at(server):
    with ApiSession(server.url, "not-a-token") as stranger:
        resp = stranger.post(ASSETS, json={"name": 7})
    assert resp.status_code == 401


def test_control_plane_verbs_share_the_schema_of_the_document():
    """The check a verb uses is compiled from the very schema the document serves (no second copy)."""
    assert control_spec.schemas()["FaultRuleInput"]["required"] == ["effect"]
    with pytest.raises(errors.MissingBodyProperty, match=r"^rule\.effect is required$"):
        control_spec.check("FaultRuleInput", {}, "rule")


def test_a_fresh_tenant_token_works_after_validation(server, tenant):
    """The wrapped views keep their answers: a valid request passes untouched."""
    client = tenant["clients"][0]
    with ApiSession(server.url, fetch_token(server.url, client["clientId"], client["clientSecret"])) as api:
        resp = api.post(ASSETS, json={"name": "P", "typeId": "core.basicasset",
                                             "parentId": tenant["rootAssetId"], "location": {"latitude": 48.1}})
        assert resp.status_code == 201, resp.text
        assert resp.json()["location"]["latitude"] == 48.1
