"""Agent Management v3's HTTP routes under ``/api/agentmanagement/v3``: thin views over ``service``."""

from __future__ import annotations

import jwt
from flask import Blueprint, jsonify, request

from emulator import context, limits
from emulator.agents import service
from emulator.httpio import json_body
from emulator.runtime import runtime

bp = Blueprint("agents", __name__, url_prefix="/api/agentmanagement/v3")


def _now() -> float:
    return runtime().clock.time()


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    return int(value) if value not in (None, "") else None  # its form checked by the contract (spec.py)


def _with_etag(body: dict, status: int = 200):
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["ETag"] = f'"{body["eTag"]}"'
    return resp


@bp.get("/agents")
def list_agents():
    return jsonify(service.listing(context.scope(), filter_text=request.args.get("filter"),
                                   size=_int_arg("size"), page=_int_arg("page"), sort=request.args.get("sort")))


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


def _sign(claims: dict) -> str:
    key = runtime().keyring.current()
    return jwt.encode(claims, key.private_key, algorithm=limits.TOKEN_ALGORITHM, headers={"kid": key.kid, "typ": "JWT"})


@bp.get("/agents/<agent_id>/boarding/configuration")
def boarding_configuration(agent_id: str):
    return jsonify(service.boarding_configuration(context.scope(), agent_id, now=_now(),
                                                  base_url=context.base_url(), sign=_sign))


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
