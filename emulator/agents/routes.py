"""Agent Management v3's HTTP routes under ``/api/agentmanagement/v3``: thin views over ``service``."""

from __future__ import annotations

import jwt
from flask import Blueprint, jsonify, request
from sqlalchemy import select

from emulator import context, errors, limits
from emulator.agents import service
from emulator.httpio import int_arg, json_body
from emulator.runtime import runtime
from emulator.store import TenantScope
from emulator.store.models import signing_keys

bp = Blueprint("agents", __name__, url_prefix="/api/agentmanagement/v3")


AGENT_TOKEN_CATEGORY = "agent-token:v1"
AGENT_OWN = frozenset({"agents.get_data_source_configuration", "agents.put_data_source_configuration"})


@bp.before_request
def _agent_tokens_reach_their_own_configuration():
    """An agent's token (its role grants the read and write scopes) reaches its own data source configuration
    only (mindconnect-api.md 2a: dsc.r, the agent token allowed for itself); everything else is 403."""
    claims = context.state().claims or {}
    if claims.get("cat") != AGENT_TOKEN_CATEGORY:
        return
    if request.endpoint not in AGENT_OWN or (request.view_args or {}).get("agent_id") != claims.get("sub"):
        raise errors.Forbidden("An agent's token reaches only its own data source configuration")


def _now() -> float:
    return runtime().clock.time()


def _with_etag(body: dict, status: int = 200):
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["ETag"] = f'"{body["eTag"]}"'
    return resp


@bp.get("/agents")
def list_agents():
    return jsonify(service.listing(context.scope(), filter_text=request.args.get("filter"),
                                   size=int_arg("size"), page=int_arg("page"), sort=request.args.get("sort")))


@bp.post("/agents")
def create_agent():
    tenant = context.tenant_row()
    body = service.create(context.scope(), json_body(), now=_now(), root_id=tenant["root_asset_id"],
                          default_timezone=tenant["default_timezone"])
    return _with_etag(body, 201)


@bp.get("/agents/<agent_id>")
def get_agent(agent_id: str):
    return _with_etag(service.get(context.scope(), agent_id))


@bp.put("/agents/<agent_id>")
def update_agent(agent_id: str):
    return _with_etag(service.update(context.scope(), agent_id, json_body(), request.headers.get("If-Match")))


@bp.delete("/agents/<agent_id>")
def delete_agent(agent_id: str):
    service.delete(context.scope(), agent_id, request.headers.get("If-Match"))
    return "", 204


def current_key():
    """The emulator's current signing key, read in the request's transaction when one is open (the key ring's own
    ``current()`` opens a second one, which an in-memory store cannot)."""
    rt, db = runtime(), context.state().db
    if db is None:
        return rt.keyring.current()
    kid = db.execute(select(signing_keys.c.kid).where(signing_keys.c.valid_until.is_(None))
                     .order_by(signing_keys.c.seq.desc()).limit(1)).scalar()
    key = rt.keyring.find(kid, db) if kid else None
    if key is None:
        raise RuntimeError("the token service has no current signing key")
    return key


def sign(claims: dict) -> str:
    """A JWT of these claims, signed with the token service's current key (boarding tokens, MindConnect's record
    download links)."""
    key = current_key()
    return jwt.encode(claims, key.private_key, algorithm=limits.TOKEN_ALGORITHM, headers={"kid": key.kid, "typ": "JWT"})


def _write_scope() -> TenantScope:
    """A GET that writes (the first read of a boarding configuration generates it): the chain's read
    transaction is ended and a writing one opened, with the tenant read afresh (as ``context.scope`` does for
    the writing methods)."""
    context.release()
    st, rt = context.state(), runtime()
    st.db = rt.store.begin(write=True)
    row = rt.tenant_cache.lookup(st.db, st.tenant, fresh=True, for_write=True)
    if row is None or row["instance"] != st.tenant_row["instance"]:
        raise errors.Unauthorized("The tenant of this access token does not exist")
    return TenantScope(st.db, st.tenant, rt.derived_cache)


@bp.get("/agents/<agent_id>/boarding/configuration")
def boarding_configuration(agent_id: str):
    return jsonify(service.boarding_configuration(_write_scope(), agent_id, now=_now(),
                                                  base_url=context.base_url(), sign=sign))


@bp.get("/agents/<agent_id>/status")
def online_status(agent_id: str):
    return jsonify(service.online_status(context.scope(), agent_id, _now()))


@bp.get("/agents/<agent_id>/boarding/status")
def boarding_status(agent_id: str):
    return jsonify(service.boarding_status(context.scope(), agent_id))


@bp.post("/agents/<agent_id>/boarding/offboard")
def offboard(agent_id: str):
    return jsonify(service.offboard(context.scope(), agent_id))


@bp.get("/agents/<agent_id>/dataSourceConfiguration")
def get_data_source_configuration(agent_id: str):
    return _with_etag(service.get_dsc(context.scope(), agent_id))


@bp.put("/agents/<agent_id>/dataSourceConfiguration")
def put_data_source_configuration(agent_id: str):
    return _with_etag(service.put_dsc(context.scope(), agent_id, json_body(), request.headers.get("If-Match")))
