"""Control-plane routes. JSON in and out; core error envelope.

Open by default (the server binds to loopback); with an admin token set (``--admin-token`` /
``MDSP_EMU_ADMIN_TOKEN``) every route but ``health`` and ``capabilities`` requires
``Authorization: Bearer <admin token>``.
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import delete, select

from emulator import __version__, errors, limits
from emulator.assets import validation
from emulator.auth import scopes as scope_names
from emulator.clock import MODES, ClockState
from emulator.control import snapshots
from emulator.control.faults import FaultRule, insert_rule, parse_rule
from emulator.control.journal import parse_filters as parse_journal_filters
from emulator.control.ratelimits import parse_quota
from emulator.odata.contracts import visible
from emulator.store import tenants
from emulator.store.models import fault_rules
from emulator.timeseries.records import iso, parse_instant

bp = Blueprint("control", __name__, url_prefix="/_emulator")

OPEN_ENDPOINTS = {"control.health", "control.capabilities"}

EMULATED_APIS = [
    {"name": "oauth", "paths": ["/oauth/token", "/token_keys"], "version": "UAA client_credentials"},
    {"name": "technicaltokenmanager", "paths": ["/api/technicaltokenmanager/v3/oauth/token"], "version": "v3"},
    {"name": "assetmanagement", "paths": ["/api/assetmanagement/v3/"], "version": "v3"},
    {"name": "iottimeseries", "paths": ["/api/iottimeseries/v3/"], "version": "v3"},
    {"name": "iottsaggregates", "paths": ["/api/iottsaggregates/v4/aggregates", "/api/iottsaggregates/v3/aggregates/"],
     "version": "v4, v3"},
    {"name": "datahub", "paths": ["/odata/{contract}/", "/_emulator/contracts", "/_emulator/datahub/catalog"],
     "version": "OData 4.0"},
]

KNOWN_GAPS = [
    "Only the client_credentials grant; no user tokens, no subtenant impersonation (iam-action).",
    "Asset Management: files, file assignments, model locks, sharing and PATCH .../variables are not emulated.",
    "IoT Time Series: PATCH (merge into records) and simulation twins' millisecond aggregates are not emulated.",
    "Data Hub: OData $batch, CSDL JSON, property paths (Set(key)/property) and IEEE754Compatible are not served.",
    "Control plane: a dropped connection is a response cut short, not a TCP reset.",
    "Files, model locks and sharing (includeShared) are out of scope.",
]


def _mdsp():
    return current_app.extensions["mdsp"]


@bp.before_request
def require_admin_token():
    expected = _mdsp()["settings"].admin_token
    if not expected or request.endpoint in OPEN_ENDPOINTS:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise errors.Unauthorized("The control plane requires 'Authorization: Bearer <admin token>'")


@bp.get("/health")
def health():
    """Readiness: answers once the store is open."""
    return jsonify({"status": "ok", "version": __version__})


@bp.get("/capabilities")
def capabilities():
    """The emulated APIs, every enforced limit with its value, the scopes, and the known gaps."""
    return jsonify({
        "version": __version__,
        "apis": EMULATED_APIS,
        "limits": limits.as_table(),
        "scopes": {"apis": scope_names.API_SCOPES, "roles": {k: list(v) for k, v in scope_names.ROLES.items()}},
        "knownGaps": KNOWN_GAPS,
    })


def json_body() -> dict:
    body = request.get_json(silent=True) if request.get_data(cache=True).strip() else {}
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object")
    return body


def binding_keys(base_url: str, client: dict) -> dict:
    """The three values the Mendix Marketplace shows as binding keys (seed page, section 3)."""
    return {"clientID": client["clientId"], "TokenURL": token_url(base_url),
            "clientSecret": client["clientSecret"]}


def token_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/oauth/token?grant_type=client_credentials"


@bp.post("/tenants")
def create_tenant():
    """``{"name", "clients": [{"clientId", "clientSecret", "scopes"}]}`` -> 201 with the credentials."""
    body = json_body()
    name = tenants.validate_name(body.get("name"))
    specs = tenants.parse_client_specs(name, body.get("clients"))
    mdsp = _mdsp()
    created = tenants.create_tenant(mdsp["store"], name, specs, now=mdsp["clock"].time(),
                                    seed=mdsp["settings"].seed)
    for client in created["clients"]:
        client["bindingKeys"] = binding_keys(request.host_url, client)
    created["tokenUrl"] = token_url(request.host_url)
    return jsonify(created), 201


@bp.get("/tenants")
def list_tenants():
    return jsonify({"tenants": tenants.list_tenants(_mdsp()["store"])})


@bp.delete("/tenants/<name>")
def delete_tenant(name: str):
    """Removes the tenant and all its data; its tokens stop working at once."""
    tenants.delete_tenant(_mdsp()["store"], name)
    _mdsp()["tenant_cache"].forget(name)
    return "", 204


PUMP_FIELDS = {"name": str, "historyHours": (int, float), "seed": int, "scenario": str, "parentId": str,
               "cadence": (int, float)}


@bp.post("/tenants/<name>/pumps")
def add_pump(name: str):
    """A simulated pump in the tenant with ``historyHours`` of data written at once (the pytest plugin's
    ``pump()``): ``{"name", "historyHours" (0-168, default 1), "seed", "scenario", "parentId", "cadence"}``.
    A running feeder (``serve --pump``) keeps it fed live."""
    from emulator.devices import feeder, fleet, scenarios

    body = json_body()
    for key, value in body.items():
        kinds = PUMP_FIELDS.get(key)
        if kinds is None:
            raise errors.BadRequest(f"Unknown property {key!r} (allowed: {', '.join(PUMP_FIELDS)})")
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise errors.BadRequest(f"{key} has the wrong type")
    pump_name = body.get("name", "Pump")
    hours = body.get("historyHours", 1.0)
    cadence = body.get("cadence", _mdsp()["settings"].pump_cadence)
    validation.required_str({"name": pump_name}, "name", limits.ASSET_NAME_MAX)  # the pump is an asset: its rule
    if not 0 <= hours <= 168:
        raise errors.BadRequest("historyHours must be between 0 and 168 (7 days)")
    if not 1 <= cadence <= 3600:
        raise errors.BadRequest("cadence must be between 1 and 3600 seconds")
    if body.get("scenario") is not None and body["scenario"] not in scenarios.builtin_names():
        # over HTTP only the built-in scenarios: a path would let a request read any file of the server
        raise errors.BadRequest(f"scenario must be one of {', '.join(scenarios.builtin_names())}; scenario files "
                                "are for the seed command")
    mdsp = _mdsp()
    mdsp["control"].sync()
    now = mdsp["clock"].time()
    try:
        asset_id = fleet.add_pump(mdsp["store"], name, pump_name, body.get("seed", mdsp["settings"].seed), now,
                                  body.get("scenario"), body.get("parentId"))
    except scenarios.ScenarioError as exc:
        raise errors.BadRequest(str(exc)) from None
    records = feeder.history(mdsp["store"], name, asset_id, float(hours), float(cadence), int(now * 1000))
    return jsonify({"assetId": asset_id, "name": pump_name, "historyHours": hours, "records": records}), 201


@bp.post("/keys/rotate")
def rotate_keys():
    """A new signing key goes first in ``/token_keys``; the old one stays until its tokens expire."""
    mdsp = _mdsp()
    key = mdsp["keyring"].rotate(mdsp["clock"].time())
    return jsonify({"kid": key.kid, "keys": mdsp["keyring"].published(mdsp["clock"].time())})


# --- the virtual clock ---------------------------------------------------------------------------------

def _clock_body() -> dict:
    mdsp = _mdsp()
    mdsp["control"].sync()
    state = mdsp["clock"].state
    return {"mode": state.mode, "time": iso(int(mdsp["clock"].time() * 1000)), "speed": state.speed}


def _store_clock(state) -> None:
    mdsp = _mdsp()
    with mdsp["store"].transaction(write=True) as conn:
        mdsp["control"].changed(conn, clock=state)


@bp.get("/clock")
def get_clock():
    """The virtual clock: ``{"mode": "real"|"frozen"|"offset", "time", "speed"}``."""
    return jsonify(_clock_body())


@bp.put("/clock")
def put_clock():
    """``{"mode": "frozen", "time": "2026-01-01T00:00:00Z"}``; ``offset`` runs from ``time`` at ``speed``."""
    body = json_body()
    mode = body.get("mode")
    if mode not in MODES:
        raise errors.BadRequest(f"mode must be one of {', '.join(MODES)}")
    at = parse_instant(body["time"], "time", zone_required=False) / 1000 if body.get("time") is not None else None
    speed = body.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed <= 1_000_000:
        raise errors.BadRequest("speed must be a number above 0 (1 = real time)")
    clock = _mdsp()["clock"]
    _mdsp()["control"].sync()
    _store_clock(clock.set(mode, at=None if mode == "real" else at, speed=float(speed)))
    return jsonify(_clock_body())


@bp.post("/clock/advance")
def advance_clock():
    """``{"seconds": N}``: time jumps ahead (a real clock becomes an offset one)."""
    seconds = json_body().get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or abs(seconds) > 10 * 365 * 86400:
        raise errors.BadRequest("seconds must be a number (at most ten years)")
    _mdsp()["control"].sync()
    _store_clock(_mdsp()["clock"].advance(float(seconds)))
    return jsonify(_clock_body())


# --- fault rules ---------------------------------------------------------------------------------------

def _rules_with_counts(where=None) -> list[dict]:
    stmt = select(fault_rules).order_by(fault_rules.c.created_at, fault_rules.c.id)
    if where is not None:
        stmt = stmt.where(where)
    with _mdsp()["store"].transaction() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [FaultRule.from_row(r).public(r["matched"], r["fired"]) for r in rows]


@bp.post("/faults")
def create_fault():
    """A rule: ``match`` (method, path glob, api, tenant), ``effect`` (status, delayMs, dropConnection,
    body) and a schedule (times, after, probability with seed, ttlSeconds) -> 201 with ``fired: 0``."""
    spec = parse_rule(json_body())
    mdsp = _mdsp()
    with mdsp["store"].transaction(write=True) as conn:
        rule = insert_rule(conn, spec, mdsp["clock"].time())
        mdsp["control"].changed(conn)
    return jsonify(rule.public(0, 0)), 201


@bp.get("/faults")
def list_faults():
    """Every rule with how often it matched and fired (``?tenant=`` for one tenant's)."""
    tenant = request.args.get("tenant")
    return jsonify({"faults": _rules_with_counts(fault_rules.c.tenant == tenant if tenant else None)})


@bp.delete("/faults/<rule_id>")
def delete_fault(rule_id):
    mdsp = _mdsp()
    with mdsp["store"].transaction(write=True) as conn:
        if conn.execute(delete(fault_rules).where(fault_rules.c.id == rule_id)).rowcount != 1:
            raise errors.NotFound(f"fault rule {rule_id!r} does not exist")
        mdsp["control"].changed(conn)
    return "", 204


@bp.delete("/faults")
def delete_faults():
    """Removes every rule (``?tenant=`` only that tenant's)."""
    tenant = request.args.get("tenant")
    mdsp = _mdsp()
    with mdsp["store"].transaction(write=True) as conn:
        conn.execute(delete(fault_rules).where(fault_rules.c.tenant == tenant) if tenant else delete(fault_rules))
        mdsp["control"].changed(conn)
    return "", 204


# --- rate limits ---------------------------------------------------------------------------------------

@bp.put("/ratelimits")
def put_ratelimit():
    """``{"tenant", "api" (optional), "requests", "perSeconds"}``: replaces that tenant's (and API's) quota."""
    quota = parse_quota(json_body())
    mdsp = _mdsp()
    with mdsp["store"].transaction(write=True) as conn:
        mdsp["control"].sync(conn)
        quotas = [q for q in mdsp["control"].quotas if (q["tenant"], q["api"]) != (quota["tenant"], quota["api"])]
        mdsp["control"].changed(conn, quotas=[*quotas, quota])
    return jsonify(quota)


@bp.get("/ratelimits")
def get_ratelimits():
    mdsp = _mdsp()
    mdsp["control"].sync()
    return jsonify({"ratelimits": mdsp["control"].quotas, "default": mdsp["rate_limit"]})


@bp.delete("/ratelimits")
def delete_ratelimits():
    """Removes the run-time quotas (``?tenant=`` only that tenant's); the setting's default stays."""
    tenant = request.args.get("tenant")
    mdsp = _mdsp()
    with mdsp["store"].transaction(write=True) as conn:
        mdsp["control"].sync(conn)
        kept = [q for q in mdsp["control"].quotas if tenant and q["tenant"] != tenant]
        mdsp["control"].changed(conn, quotas=kept)
    return "", 204


# --- snapshots -----------------------------------------------------------------------------------------

@bp.get("/snapshots/<name>")
def export_snapshot(name):
    """One tenant as a JSON document (see emulator/control/snapshots.py)."""
    mdsp = _mdsp()
    with mdsp["store"].transaction() as conn:
        mdsp["control"].sync(conn)
        doc = snapshots.export(conn, name, clock=mdsp["clock"].state.as_dict(), quotas=mdsp["control"].quotas,
                               seed=mdsp["settings"].seed)
    resp = jsonify(doc)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.snapshot.json"'
    return resp


@bp.post("/snapshots")
def import_snapshot():
    """Imports a snapshot into this emulator (the tenant must not exist); its clock becomes the clock."""
    doc = json_body()
    mdsp = _mdsp()
    with mdsp["store"].transaction(write=True) as conn:
        name, clock, quotas = snapshots.restore(conn, doc)
        mdsp["control"].sync(conn)
        kept = [q for q in mdsp["control"].quotas if q["tenant"] != name]
        mdsp["control"].changed(conn, clock=clock, quotas=[*kept, *quotas])
    return jsonify({"imported": name}), 201


@bp.get("/datahub/catalog")
def datahub_catalog():
    """The published contracts a Mendix user (``?user=email``) sees in Data Hub: those of the tenants whose
    first publisher has the user's email domain (seed 2.3.3)."""
    user = request.args.get("user")
    if not user:
        raise errors.MissingParameter("user (an email address) is required")
    with _mdsp()["store"].transaction() as conn:
        return jsonify({"user": user, "contracts": visible(conn, user, request.host_url.rstrip("/"))})


# --- journal and reset ---------------------------------------------------------------------------------

@bp.get("/journal")
def get_journal():
    """Recorded requests, oldest first; filters ``method``, ``path`` (glob), ``status``, ``tenant``, ``since``."""
    entries = _mdsp()["journal"].query(**{k: v for k, v in parse_journal_filters(request.args).items()
                                          if v is not None})
    return jsonify({"entries": [{"time": iso(int(e["time"] * 1000)), "tenant": e["tenant"], "method": e["method"],
                                 "path": e["path"], "query": e["query"], "status": e["status"],
                                 "durationMs": e["duration_ms"], "fault": e["fault"],
                                 **({"requestBody": e["request_body"], "responseBody": e["response_body"]}
                                    if _mdsp()["settings"].journal_bodies else {})} for e in entries]})


@bp.delete("/journal")
def clear_journal():
    _mdsp()["journal"].clear(request.args.get("tenant"))
    return "", 204


@bp.post("/reset")
def reset():
    """Back to the start state: one tenant (``{"tenant": name}``: its data, rules and journal) or
    everything (every tenant but the default one removed, rules and journal cleared, real time)."""
    body = json_body()
    mdsp = _mdsp()
    settings = mdsp["settings"]
    started = time.perf_counter()
    if set(body) - {"tenant"}:  # a misspelt key must not turn a one-tenant reset into a reset of everything
        unknown = ", ".join(sorted(set(body) - {"tenant"}))
        raise errors.BadRequest(f'reset takes only {{"tenant": name}}, not {unknown}')
    if "tenant" in body and (not isinstance(body["tenant"], str) or not body["tenant"]):
        raise errors.BadRequest("tenant must be a tenant name; leave it out to reset everything")
    names = [body["tenant"]] if "tenant" in body else None
    with mdsp["store"].transaction(write=True) as conn:
        tenants.reset(conn, names, keep=settings.tenant, now=mdsp["clock"].time())
        conn.execute(delete(fault_rules).where(fault_rules.c.tenant.in_(names)) if names else delete(fault_rules))
        mdsp["control"].sync(conn)
        quotas = [q for q in mdsp["control"].quotas if q["tenant"] not in names] if names else []
        mdsp["control"].changed(conn, clock=None if names else ClockState(), quotas=quotas)
    mdsp["journal"].clear(names[0] if names else None)
    for name in names or []:
        mdsp["tenant_cache"].forget(name)
    if not names:
        mdsp["tenant_cache"].clear()
    return jsonify({"reset": names or "everything", "durationMs": round((time.perf_counter() - started) * 1000, 1)})
