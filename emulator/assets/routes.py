"""Asset Management v3 HTTP routes (base ``/api/assetmanagement/v3``)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from emulator import errors
from emulator.assets import resources
from emulator.store import TenantScope
from emulator.store.models import Asset, Tenant

bp = Blueprint("assets", __name__, url_prefix=resources.BASE)


def _store():
    return current_app.extensions["mdsp"]["store"]


def with_etag(body: dict):
    resp = jsonify(body)
    resp.headers["ETag"] = f'"{body["etag"]}"'
    return resp


@bp.get("/")
def billboard():
    """Links to the resource collections of the API."""
    base = request.host_url
    return jsonify({"_links": {name: resources.link(base, path) for name, path in (
        ("self", "/"), ("aspectTypes", "/aspecttypes"), ("assetTypes", "/assettypes"),
        ("assets", "/assets"), ("files", "/files"))}})


@bp.get("/assets/root")
def root_asset():
    """The tenant's root asset: ``hierarchyPath`` empty, no parent."""
    with _store().session() as s:
        tenant = s.get(Tenant, g.tenant)
        row = TenantScope(s, g.tenant).get(Asset, tenant.root_asset_id) if tenant else None
    if row is None:
        raise errors.NotFound("The root asset of this tenant does not exist")
    return with_etag(resources.asset(row, request.host_url))
