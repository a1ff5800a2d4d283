"""The control plane's contract (its OpenAPI fragment): tenants, keys, the clock, fault rules, rate limits,
snapshots, the journal, reset, the Data Hub catalogue and the document itself.

Written once, beside the routes: the document shows it and requests are validated from it
(:mod:`emulator.validation`). The verbs of :class:`emulator.control.plane.ControlPlane` take the same documents
from the dashboard and the command line (a fault rule, a quota, the clock, a snapshot file), so they check them
against these same schemas (:func:`check`): each rule lives here once, and the code keeps what a schema cannot
say (a snapshot's rows all of its tenant, a zone in the time zone database, a clientId once).
"""

from __future__ import annotations

from emulator import limits, validation
from emulator.clock import MAX_JUMP_SECONDS, MAX_SPEED, MODES, STATE_RANGE
from emulator.control import MAX_DELETED, snapshots
from emulator.control.faults import MAX_DELAY_MS, METHODS
from emulator.control.journal import MAX_LIMIT as JOURNAL_MAX_LIMIT
from emulator.odata.contracts import EMAIL
from emulator.odata.spec import EMAIL_MEANING
from emulator.registry import load as load_registry
from emulator.spec import (
    NO_CONTENT,
    any_value,
    array,
    boolean,
    errors,
    integer,
    json_body,
    make_fragment,
    nullable,
    number,
    obj,
    ok,
    operation,
    path,
    query,
    ref,
    string,
    time_query,
)
from emulator.store.models import CORE_TENANT_TABLES, SCHEMA_VERSION
from emulator.times import TIME_PATTERN

TAG = "Control plane"


def _registry():
    """The registry of this installation (the document is also built outside a request, by the schema fuzz)."""
    return load_registry()


def control_operations(admin_token: bool):
    """``op(endpoint, summary, responses, *statuses, open_route=False, notes=None, **kw)``: an operation of the
    control plane; ``admin_token``: whether one is set, so the guarded routes say so (security and their 401)."""
    guarded = [{"adminToken": []}] if admin_token else []
    auth = (401,) if admin_token else ()

    def op(endpoint, summary, responses, *statuses, open_route=False, notes=None, **kw):
        status_set = statuses if open_route else (*auth, *statuses)
        endpoint = endpoint if "." in endpoint else f"control.{endpoint}"
        return operation(endpoint, summary, {**responses, **errors("core", *status_set, notes=notes)},
                         tag=TAG, security=[] if open_route else guarded, **kw)

    return op


def rate_limit() -> dict:
    """A quota as answered; the setting's default has neither tenant nor api."""
    return obj({"tenant": nullable(string()), "api": nullable(string(enum=list(_registry().names))),
                "requests": integer(minimum=1), "perSeconds": integer(minimum=1)}, "all")


def schemas() -> dict:
    quota = rate_limit()
    delay = {"anyOf": [
        number(minimum=0, maximum=MAX_DELAY_MS, nullable=True),
        obj({"uniform": array(number(minimum=0, maximum=MAX_DELAY_MS), minItems=2, maxItems=2)}, "all"),
        obj({"normal": obj({"mean": number(minimum=0, maximum=MAX_DELAY_MS),
                            "sd": number(minimum=0, maximum=MAX_DELAY_MS)}, "all")}, "all"),
    ], "description": "Milliseconds: a number, a uniform range (two bounds, either order) or a normal distribution"}
    match = obj({"method": nullable(string(enum=list(METHODS))), "path": nullable(string(minLength=1)),
                 "api": nullable(string(enum=list(_registry().names))), "tenant": nullable(string(minLength=1))})
    effect = obj({"status": nullable(integer(minimum=400, maximum=599)), "delayMs": delay,
                  "dropConnection": nullable(boolean()),
                  "body": {"anyOf": [obj({}, closed=False, nullable=True), array({})],
                           "description": "Answered as is, with the status"}}, minProperties=1)
    schedule = {"times": nullable(integer(minimum=1, maximum=10**9)), "after": integer(minimum=0, maximum=10**9),
                "probability": number(minimum=0, maximum=1), "seed": integer(minimum=-(2**63), maximum=2**63 - 1),
                "ttlSeconds": nullable(number(minimum=0.001, maximum=10**9))}
    clock = obj({"mode": string(enum=list(MODES)), "time": string(), "speed": number()}, "all")
    return {
        "Health": obj({"status": string(enum=["ok"]), "version": string()}, "all"),
        "Capabilities": obj({
            "version": string(),
            "apis": array(obj({"name": string(), "paths": array(string()), "version": string()}, "all")),
            "limits": obj({name: any_value() for name in limits.as_table()}, "all",
                          description="Every enforced limit (emulator/limits.py) with its value"),
            "scopes": obj({"apis": obj({}, closed=False, additionalProperties=obj({}, closed=False,
                                                                                  additionalProperties=string())),
                           "roles": obj({}, closed=False, additionalProperties=array(string()))}, "all"),
            "knownGaps": array(string()),
        }, "all"),
        "TenantInput": obj({"name": string(pattern=limits.TENANT_NAME_PATTERN), "clients": nullable(array(obj({
            "clientId": nullable(string(pattern=limits.CLIENT_ID_PATTERN,
                                        description="Unique; generated when omitted or null")),
            "clientSecret": nullable(string(minLength=1, maxLength=256, description="Generated when omitted or "
                                                                                   "null")),
            "scopes": array(string(enum=sorted(_registry().known_scopes)), description="Default: every scope"),
        }, closed=False), minItems=1, description="Omitted or null: one client with generated credentials; "
                                                  "each clientId once")),
            "token": boolean(description="Also issue an access token for the first client (a test's first need), "
                                         "as POST /oauth/token answers it"),
            "deleteTenants": nullable(array(string(pattern=limits.TENANT_NAME_PATTERN), maxItems=MAX_DELETED,
                                            description="Tenants to delete first, in the same transaction (names "
                                                        "that do not exist are passed over): the pytest plugin "
                                                        "hands its finished tests' tenants over here"))},
            ["name"], closed=False),
        "TenantCreated": obj({"name": string(), "rootAssetId": string(), "tokenUrl": string(), "clients": array(obj({
            "clientId": string(), "clientSecret": string(description="Shown only once"), "scopes": array(string()),
            "bindingKeys": obj({"clientID": string(), "TokenURL": string(), "clientSecret": string()}, "all",
                               description="The three values as the Mendix Marketplace shows them"),
        }, "all")), "token": obj({"access_token": string(), "token_type": string(), "expires_in": integer(),
                                  "scope": string(), "jti": string()}, "all",
                                 description="The first client's token, when the request asked for it"),
            "deleted": array(string(), description="Those of deleteTenants that existed and were deleted (present "
                                                   "when the request named deleteTenants)")},
            ["name", "rootAssetId", "tokenUrl", "clients"]),
        "TenantList": obj({"tenants": array(obj({
            "name": string(), "rootAssetId": string(),
            "createdAt": string(description="ISO-8601 UTC time the tenant was created"),
            "clients": array(obj({"clientId": string(), "scopes": array(string())}, "all"))}, "all"))}, "all"),
        "Clock": clock,
        "ClockInput": obj({"mode": string(enum=list(MODES)),
                           "time": nullable(string(pattern=TIME_PATTERN, description="frozen/offset: the time "
                                                                                     "to start from")),
                           "speed": number(exclusiveMinimum=True, minimum=0, maximum=MAX_SPEED, default=1)},
                          ["mode"], closed=False),
        "FaultRuleInput": obj({"match": nullable(match), "effect": effect, **schedule}, ["effect"]),
        "FaultRule": obj({"id": string(), "match": match, "effect": effect, **schedule,
                          "tenant": nullable(string()), "expiresAt": nullable(string(description="From ttlSeconds")),
                          "matched": integer(minimum=0), "fired": integer(minimum=0)},
                         "all"),
        "RateLimit": quota,
        "RateLimitInput": obj({"tenant": string(minLength=1), "api": nullable(string(enum=list(_registry().names))),
                               "requests": integer(minimum=1, maximum=10**9),
                               "perSeconds": integer(minimum=1, maximum=10**9)}, ["tenant", "requests", "perSeconds"]),
        "Snapshot": obj({
            "format": string(enum=[snapshots.FORMAT]), "schemaVersion": integer(enum=[SCHEMA_VERSION]),
            "tenant": obj({"name": string(pattern=limits.TENANT_NAME_PATTERN),
                           "created_at": number(minimum=0, maximum=STATE_RANGE[1]),
                           "root_asset_id": string(maxLength=32), "instance": string(maxLength=32),
                           "default_timezone": string(description="An IANA zone name (not at a :15/:45 offset)"),
                           "model_version": integer(minimum=0, maximum=2**31 - 1)},
                          ["name", "created_at", "root_asset_id", "default_timezone"]),
            "tables": obj({str(snapshots.snapshot_table(table).name): array(
                obj({}, closed=False), description="Rows of the tenant (`tenant_id`); time series a row per record")
                           for table in _registry().tenant_tables(CORE_TENANT_TABLES)}),
            "faults": array(obj({"id": string(minLength=1, maxLength=32),
                                 "tenant": string(description="The snapshot's tenant"),
                                 "spec": ref("FaultRuleInput"), "matched": integer(minimum=0),
                                 "fired": integer(minimum=0), "created_at": number(minimum=0),
                                 "expires_at": nullable(number())},
                                ["id", "tenant", "spec", "matched", "fired", "created_at"]),
                            description="The tenant's fault rules (their match.tenant is the snapshot's tenant)"),
            "quotas": array(ref("RateLimitInput"), description="The tenant's rate limits"),
            "clock": nullable(obj({"mode": string(enum=list(MODES)),
                                   "anchor_virtual": number(minimum=STATE_RANGE[0],
                                                            maximum=STATE_RANGE[1]),
                                   "anchor_real": number(minimum=STATE_RANGE[0],
                                                         maximum=STATE_RANGE[1]),
                                   "speed": number(exclusiveMinimum=True, minimum=0, maximum=MAX_SPEED)},
                                  description="Becomes the clock on import ({} or null: the clock stays)")),
            "seed": integer()},
            ["format", "schemaVersion", "tenant"], closed=False,
            description="One tenant: model, assets, time series, rollups, clients (secret hashes), fault rules, "
                        "quotas, the clock and the seed"),
        "JournalEntry": obj({"time": string(), "tenant": nullable(string()), "method": string(), "path": string(),
                             "query": string(), "status": integer(), "durationMs": number(),
                             "fault": nullable(string()),
                             "requestBody": nullable(string(description="with --journal-bodies N: its first N "
                                                                        "characters")),
                             "responseBody": nullable(string(description="with --journal-bodies N"))},
                            ["time", "tenant", "method", "path", "query", "status", "durationMs", "fault"]),
    }


def paths(admin_token: bool) -> dict:
    op = control_operations(admin_token)

    tenant_query = query("tenant", string(), "Only this tenant's")
    clock_ok = {"200": ok("The clock", ref("Clock"))}
    return {
        "/_emulator/health": {"get": op("health", "Readiness: answers once the store is open",
                                        {"200": ok("Ready", ref("Health"))}, open_route=True)},
        "/_emulator/capabilities": {"get": op(
            "capabilities", "The emulated APIs, every enforced limit, the scopes and the known gaps",
            {"200": ok("Capabilities", ref("Capabilities"))}, open_route=True)},
        "/_emulator/openapi.json": {"get": operation(
            "openapi.document", "This document", {"200": ok("An OpenAPI 3.0 document", obj({
                "openapi": string(), "info": obj({}, closed=False), "paths": obj({}, closed=False)},
                ["openapi", "info", "paths"], closed=False)), **errors("core")}, tag=TAG, security=[])},
        "/_emulator/tenants": {
            "post": op("create_tenant", "Create a tenant with its clients and root asset",
                       {"201": ok("The tenant and its credentials", ref("TenantCreated"))}, 400, 409, 413,
                       body=json_body(ref("TenantInput"))),
            "get": op("list_tenants", "Every tenant with its clients (no secrets)",
                      {"200": ok("Tenants", ref("TenantList"))}),
        },
        "/_emulator/tenants/{name}": {"delete": op(
            "delete_tenant", "Delete a tenant and all its data; its tokens answer 401 at once", {"204": NO_CONTENT},
            404, params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")])},
        "/_emulator/keys/rotate": {"post": op(
            "rotate_keys", "A new signing key; the old one stays listed until its last token expires",
            {"200": ok("The new key id and the published keys", obj({"kid": string(),
                                                                      "keys": array(ref("JsonWebKey"))}, "all"))})},
        "/_emulator/clock": {
            "get": op("get_clock", "The virtual clock", clock_ok),
            "put": op("put_clock", "Set the clock: real, frozen at `time`, or offset (from `time` at `speed`)",
                      clock_ok, 400, 413, body=json_body(ref("ClockInput"))),
        },
        "/_emulator/clock/advance": {"post": op(
            "advance_clock", "Jump ahead (a real clock becomes an offset one)", clock_ok, 400, 413,
            body=json_body(clock_advance()))},
        "/_emulator/faults": {
            "post": op("create_fault", "Create a fault rule", {"201": ok("The rule", ref("FaultRule"))}, 400, 413,
                       body=json_body(ref("FaultRuleInput"))),
            "get": op("list_faults", "Every rule with how often it matched and fired",
                      {"200": ok("Rules", obj({"faults": array(ref("FaultRule"))}, "all"))}, params=[tenant_query]),
            "delete": op("delete_faults", "Remove every rule (or one tenant's)", {"204": NO_CONTENT},
                         params=[tenant_query]),
        },
        "/_emulator/faults/{rule_id}": {"delete": op(
            "delete_fault", "Remove one rule", {"204": NO_CONTENT}, 404,
            params=[path("rule_id", string(), "The rule's id")])},
        "/_emulator/ratelimits": {
            "put": op("put_ratelimit", "Replace a tenant's quota (for one API, or for all without `api`)",
                      {"200": ok("The quota", ref("RateLimit"))}, 400, 413, body=json_body(ref("RateLimitInput"))),
            "get": op("get_ratelimits", "The run-time quotas and the setting's default", {"200": ok("Quotas", obj({
                "ratelimits": array(ref("RateLimit")), "default": nullable(rate_limit())}, "all"))}),
            "delete": op("delete_ratelimits", "Remove the run-time quotas (or one tenant's)", {"204": NO_CONTENT},
                         params=[tenant_query]),
        },
        "/_emulator/snapshots": {"post": op(
            "import_snapshot", "Import a snapshot (its tenant must not hold data here); its clock becomes the clock",
            {"201": ok("Imported", obj({"imported": string()}, "all"))}, 400, 409, 413,
            body=json_body(ref("Snapshot")))},
        "/_emulator/snapshots/{name}": {"get": op(
            "export_snapshot", "One tenant as a JSON document (a download)",
            {"200": ok("The snapshot", ref("Snapshot"), {"Content-Disposition": {"schema": string(),
                                                                                 "description": "attachment"}})},
            404, params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")])},
        "/_emulator/datahub/catalog": {"get": op(
            "datahub_catalog", "The published contracts a Mendix user sees in the Data Hub catalogue", {
                "200": ok("The user and the contracts", obj({"user": string(),
                                                              "contracts": array(ref("CatalogContract"))}, "all"))},
            400, notes={400: "user is missing or not an email address"},
            description="Across tenants: those whose first publisher has the user's email domain (seed 2.3.3).",
            params=[query("user", string(pattern=EMAIL.pattern), "The user's email address", required=True)])},
        "/_emulator/journal": {
            "get": op("get_journal", "Recorded data-plane and token requests, oldest first",
                      {"200": ok("Entries", obj({"entries": array(ref("JournalEntry"))}, "all"))}, 400, params=[
                          query("method", string(), "HTTP method"), query("path", string(), "A glob"),
                          query("status", integer(minimum=100, maximum=599), "Status code"), tenant_query,
                          time_query("since", "Entries at or after this time"),
                          query("limit", integer(minimum=1, maximum=JOURNAL_MAX_LIMIT, default=1000),
                                "At most this many (the newest)")]),
            "delete": op("clear_journal", "Clear the journal (or one tenant's entries)", {"204": NO_CONTENT},
                         params=[tenant_query]),
        },
        "/_emulator/reset": {"post": op(
            "reset", "Back to the start state: one tenant (`{\"tenant\": name}`) or everything (`{}`)", {
                "200": ok("What was reset", obj({
                    "reset": {"anyOf": [string(enum=["everything"]), array(string(), minItems=1, maxItems=1)]},
                    "durationMs": number(minimum=0)}, "all"))},
            400, 404, 413, body=json_body(obj({"tenant": nullable(string())}, closed=False), required=False))},
    }


def clock_advance() -> dict:
    return obj({"seconds": number(minimum=-MAX_JUMP_SECONDS, maximum=MAX_JUMP_SECONDS)}, "all", closed=False)


PATTERN_TEXTS = {
    limits.TENANT_NAME_PATTERN: "must be a tenant name: 2-20 lowercase letters and digits, starting with a letter",
    limits.CLIENT_ID_PATTERN: "must be 1-128 letters, digits or ._:@-",
    **EMAIL_MEANING,
}


def fragment(admin_token: bool = False) -> dict:
    return make_fragment(paths(admin_token), schemas(), pattern_texts=PATTERN_TEXTS)


check = validation.DocumentChecks(lambda: {**schemas(), "ClockAdvance": clock_advance()}, PATTERN_TEXTS)
