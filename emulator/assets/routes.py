"""Asset Management v3 HTTP routes (base ``/api/assetmanagement/v3``)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from emulator import context, errors
from emulator.assets import resources
from emulator.store.models import assets

bp = Blueprint("assets", __name__, url_prefix=resources.BASE)


def with_etag(body: dict):
    resp = jsonify(body)
    resp.headers["ETag"] = f'"{body["etag"]}"'
    return resp


@bp.get("/")
def billboard():
    """Links to the resource collections of the API."""
    base = context.base_url()
    return jsonify({"_links": {name: resources.link(base, path) for name, path in (
        ("self", "/"), ("aspectTypes", "/aspecttypes"), ("assetTypes", "/assettypes"),
        ("assets", "/assets"), ("files", "/files"))}})


@bp.get("/assets/root")
def root_asset():
    """The tenant's root asset: ``hierarchyPath`` empty, no parent."""
    row = context.scope().get(assets, context.tenant_row()["root_asset_id"])
    if row is None:
        raise errors.NotFound("The root asset of this tenant does not exist")
    return with_etag(resources.asset(row, context.base_url()))
