"""Control-plane routes. JSON in and out; core error envelope.

Open by default (the server binds to loopback); with an admin token set (``--admin-token`` /
``MDSP_EMU_ADMIN_TOKEN``) every route but ``health`` and ``capabilities`` requires
``Authorization: Bearer <admin token>``.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from emulator import __version__, errors, limits
from emulator.auth import scopes as scope_names
from emulator.store import tenants

bp = Blueprint("control", __name__, url_prefix="/_emulator")

OPEN_ENDPOINTS = {"control.health", "control.capabilities"}

EMULATED_APIS = [
    {"name": "oauth", "paths": ["/oauth/token", "/token_keys"], "version": "UAA client_credentials"},
    {"name": "technicaltokenmanager", "paths": ["/api/technicaltokenmanager/v3/oauth/token"], "version": "v3"},
    {"name": "assetmanagement", "paths": ["/api/assetmanagement/v3/"], "version": "v3"},
    {"name": "iottimeseries", "paths": ["/api/iottimeseries/v3/"], "version": "v3"},
    {"name": "iottsaggregates", "paths": ["/api/iottsaggregates/v4/aggregates", "/api/iottsaggregates/v3/aggregates/"],
     "version": "v4, v3"},
]

KNOWN_GAPS = [
    "Only the client_credentials grant; no user tokens, no subtenant impersonation (iam-action).",
    "Asset Management: files, file assignments, model locks, sharing and PATCH .../variables are not emulated.",
    "IoT Time Series: PATCH (merge into records) and simulation twins' millisecond aggregates are not emulated.",
    "Data Hub OData contracts are not emulated yet.",
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


@bp.post("/keys/rotate")
def rotate_keys():
    """A new signing key goes first in ``/token_keys``; the old one stays until its tokens expire."""
    mdsp = _mdsp()
    key = mdsp["keyring"].rotate(mdsp["clock"].time())
    return jsonify({"kid": key.kid, "keys": mdsp["keyring"].published(mdsp["clock"].time())})
