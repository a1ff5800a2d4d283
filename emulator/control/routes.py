"""Control-plane routes. JSON in and out; core error envelope. Requests are checked against the contract
(``spec.py``) before a route runs; the verbs of ``plane.py`` check what they take against the same schemas.

Open by default (the server binds to loopback); with an admin token set (``--admin-token`` /
``MDSP_EMU_ADMIN_TOKEN``) every route but ``health`` and ``capabilities`` requires
``Authorization: Bearer <admin token>``.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from emulator import __version__, errors, limits
from emulator.auth.clients import parse_client_specs
from emulator.control.guard import check_browser_reach, require_admin_token
from emulator.control.journal import parse_filters as parse_journal_filters
from emulator.httpio import json_object
from emulator.odata.contracts import visible
from emulator.runtime import runtime
from emulator.tenants import new_instance
from emulator.times import iso

bp = Blueprint("control", __name__, url_prefix="/_emulator")

bp.before_request(check_browser_reach)
bp.before_request(require_admin_token)


@bp.get("/health")
def health():
    """Readiness: answers once the store is open."""
    return jsonify({"status": "ok", "version": __version__})


@bp.get("/capabilities")
def capabilities():
    """The emulated APIs, every enforced limit with its value, the scopes, and the known gaps."""
    registry = runtime().registry
    return jsonify({
        "version": __version__,
        "apis": [service.as_dict() for api in registry.apis for service in api.services],
        "limits": limits.as_table(),
        "scopes": {"apis": {api.name: dict(api.scopes) for api in registry.apis if api.scopes},
                   "roles": {k: list(v) for k, v in registry.roles.items()}},
        "knownGaps": registry.known_gaps(),
    })


def binding_keys(base_url: str, client: dict) -> dict:
    """The three values the Mendix Marketplace shows as binding keys (seed page, section 3)."""
    return {"clientID": client["clientId"], "TokenURL": token_url(base_url),
            "clientSecret": client["clientSecret"]}


def token_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/oauth/token?grant_type=client_credentials"


@bp.post("/tenants")
def create_tenant():
    """``{"name", "clients": [{"clientId", "clientSecret", "scopes"}], "token", "deleteTenants"}`` -> 201 with the
    credentials (and the first client's token, when ``token`` is true; the names of ``deleteTenants`` removed
    first, in the same transaction, as ``deleted``)."""
    body = json_object()
    rt = runtime()
    name = body["name"]
    specs = parse_client_specs(name, body.get("clients"), default_scopes=rt.registry.all_scopes)
    instance = new_instance()
    token = None
    if body.get("token"):  # saves a test its first round trip: the token request it would make next
        token = rt.tokens.issue_soon(client_id=specs[0].client_id, tenant=name, instance=instance,
                                     scopes=list(specs[0].scopes), base_url=request.host_url)
    created, deleted = rt.control.create_tenant(name, specs, seed=rt.settings.seed, instance=instance,
                                                delete_first=body.get("deleteTenants") or [])
    for gone in deleted:
        rt.tenant_cache.forget(gone)
    if "deleteTenants" in body:
        created["deleted"] = deleted
    del created["instance"]
    for client in created["clients"]:
        client["bindingKeys"] = binding_keys(request.host_url, client)
    created["tokenUrl"] = token_url(request.host_url)
    if token is not None:
        created["token"] = token()
    return jsonify(created), 201


@bp.get("/tenants")
def list_tenants():
    return jsonify({"tenants": runtime().control.tenants.list()})


@bp.delete("/tenants/<name>")
def delete_tenant(name: str):
    """Removes the tenant and all its data; its tokens stop working at once."""
    runtime().control.delete_tenant(name)
    runtime().tenant_cache.forget(name)
    return "", 204


@bp.post("/keys/rotate")
def rotate_keys():
    """A new signing key goes first in ``/token_keys``; the old one stays until its tokens expire."""
    mdsp = runtime()
    key = mdsp.keyring.rotate(mdsp.clock.time(), announce=mdsp.control.changed)  # every worker reads them again
    return jsonify({"kid": key.kid, "keys": mdsp.keyring.published(mdsp.clock.time())})


# --- the virtual clock ---------------------------------------------------------------------------------

def _clock_body(view: dict) -> dict:
    return {"mode": view["mode"], "time": view["time"], "speed": view["speed"]}


@bp.get("/clock")
def get_clock():
    """The virtual clock: ``{"mode": "real"|"frozen"|"offset", "time", "speed"}``."""
    return jsonify(_clock_body(runtime().control.clock_view()))


@bp.put("/clock")
def put_clock():
    """``{"mode": "frozen", "time": "2026-01-01T00:00:00Z"}``; ``offset`` runs from ``time`` at ``speed``."""
    body = json_object()
    return jsonify(_clock_body(runtime().control.set_clock(body.get("mode"), body.get("time"), body.get("speed", 1.0))))


@bp.post("/clock/advance")
def advance_clock():
    """``{"seconds": N}``: time jumps ahead (a real clock becomes an offset one)."""
    return jsonify(_clock_body(runtime().control.advance_clock(json_object().get("seconds"))))


# --- fault rules ---------------------------------------------------------------------------------------

@bp.post("/faults")
def create_fault():
    """A rule: ``match`` (method, path glob, api, tenant), ``effect`` (status, delayMs, dropConnection,
    body) and a schedule (times, after, probability with seed, ttlSeconds) -> 201 with ``fired: 0``."""
    return jsonify(runtime().control.add_rule(json_object()).public(0, 0)), 201


@bp.get("/faults")
def list_faults():
    """Every rule with how often it matched and fired (``?tenant=`` for one tenant's)."""
    return jsonify({"faults": runtime().control.rules_with_counts(request.args.get("tenant"))})


@bp.delete("/faults/<rule_id>")
def delete_fault(rule_id):
    runtime().control.remove_rule(rule_id)
    return "", 204


@bp.delete("/faults")
def delete_faults():
    """Removes every rule (``?tenant=`` only that tenant's)."""
    runtime().control.clear_rules(request.args.get("tenant"))
    return "", 204


# --- rate limits ---------------------------------------------------------------------------------------

@bp.put("/ratelimits")
def put_ratelimit():
    """``{"tenant", "api" (optional), "requests", "perSeconds"}``: replaces that tenant's (and API's) quota."""
    return jsonify(runtime().control.put_quota(json_object()))


@bp.get("/ratelimits")
def get_ratelimits():
    rt = runtime()
    return jsonify({"ratelimits": rt.control.current_quotas(), "default": rt.rate_limit})


@bp.delete("/ratelimits")
def delete_ratelimits():
    """Removes the run-time quotas (``?tenant=`` only that tenant's); the setting's default stays."""
    runtime().control.clear_quotas(request.args.get("tenant"))
    return "", 204


# --- snapshots -----------------------------------------------------------------------------------------

@bp.get("/snapshots/<name>")
def export_snapshot(name):
    """One tenant as a JSON document (see emulator/control/snapshots.py)."""
    rt = runtime()
    return Response(rt.control.export_snapshot(name, rt.settings.seed), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}.snapshot.json"'})


@bp.post("/snapshots")
def import_snapshot():
    """Imports a snapshot into this emulator (the tenant must not exist); its clock becomes the clock."""
    return jsonify({"imported": runtime().control.import_snapshot(json_object(), runtime().settings.tenant)}), 201


@bp.get("/datahub/catalog")
def datahub_catalog():
    """The published contracts a Mendix user (``?user=email``) sees in Data Hub: those of the tenants whose
    first publisher has the user's email domain (seed 2.3.3)."""
    user = request.args["user"]  # an email address (the contract)
    with runtime().store.transaction() as conn:
        return jsonify({"user": user, "contracts": visible(conn, user, request.host_url.rstrip("/"))})


# --- journal and reset ---------------------------------------------------------------------------------

@bp.get("/journal")
def get_journal():
    """Recorded requests, oldest first; filters ``method``, ``path`` (glob), ``status``, ``tenant``, ``since``."""
    entries = runtime().journal.query(**{k: v for k, v in parse_journal_filters(request.args).items()
                                          if v is not None})
    return jsonify({"entries": [{"time": iso(int(e["time"] * 1000)), "tenant": e["tenant"], "method": e["method"],
                                 "path": e["path"], "query": e["query"], "status": e["status"],
                                 "durationMs": e["duration_ms"], "fault": e["fault"],
                                 **({"requestBody": e["request_body"], "responseBody": e["response_body"]}
                                    if runtime().settings.journal_bodies else {})} for e in entries]})


@bp.delete("/journal")
def clear_journal():
    runtime().journal.clear(request.args.get("tenant"))
    return "", 204


@bp.post("/reset")
def reset():
    """Back to the start state: one tenant (``{"tenant": name}``: its data, rules and journal) or
    everything (every tenant but the default one removed, rules and journal cleared, real time)."""
    body = json_object()
    mdsp = runtime()
    settings = mdsp.settings
    started = time.perf_counter()
    if set(body) - {"tenant"}:  # a misspelt key must not turn a one-tenant reset into a reset of everything
        unknown = ", ".join(sorted(set(body) - {"tenant"}))
        raise errors.BadRequest(f'reset takes only {{"tenant": name}}, not {unknown}')
    if "tenant" in body and (not isinstance(body["tenant"], str) or not body["tenant"]):
        raise errors.BadRequest("tenant must be a tenant name; leave it out to reset everything")
    names = [body["tenant"]] if "tenant" in body else None
    mdsp.control.reset(names, keep=settings.tenant)
    mdsp.journal.clear(names[0] if names else None)
    for name in names or []:
        mdsp.tenant_cache.forget(name)
    if not names:
        mdsp.tenant_cache.clear()
    return jsonify({"reset": names or "everything", "durationMs": round((time.perf_counter() - started) * 1000, 1)})
