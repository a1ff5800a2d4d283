"""MindConnect API v3's HTTP routes under ``/api/mindconnect/v3``: thin views over ``service``, ``exchange`` and
``recovery``; errors in ``{"id", "message"}`` (MCSPEC's envelope, the one time series speaks). The pre-signed
download of a recoverable record's body, which needs no bearer token, is :mod:`emulator.mindconnect.links`."""

from __future__ import annotations

import re
import uuid

from flask import Blueprint, jsonify, request

from emulator import context, errors, limits
from emulator.agents.routes import sign
from emulator.httpio import int_arg, json_body
from emulator.mindconnect import exchange as exchange_service
from emulator.mindconnect import links, multipart, recovery, service
from emulator.runtime import runtime

bp = Blueprint("mindconnect", __name__, url_prefix="/api/mindconnect/v3")

AGENT_TOKEN_CATEGORY = "agent-token:v1"
_CORRELATION = re.compile(r"^[0-9A-Za-z-]{1,36}$")


def caller() -> str | None:
    """The agent whose token calls (its id), or None for a tenant's client or user."""
    claims = context.state().claims or {}
    return claims.get("sub") if claims.get("cat") == AGENT_TOKEN_CATEGORY else None


def _now() -> float:
    return runtime().clock.time()


@bp.post("/dataPointMappings")
def create_mapping():
    flag = (request.args.get("noAgentValidation") or "").strip().lower() == "true"
    body = service.create_mapping(context.scope(), json_body(), caller=caller(), now=_now(), no_agent_validation=flag)
    return jsonify(body), 201


@bp.get("/dataPointMappings")
def list_mappings():
    return jsonify(service.list_mappings(context.scope(), caller=caller(), filter_text=request.args.get("filter"),
                                         size=int_arg("size"), page=int_arg("page")))


@bp.get("/dataPointMappings/<mapping_id>")
def get_mapping(mapping_id: str):
    return jsonify(service.get_mapping(context.scope(), mapping_id, caller=caller()))


@bp.delete("/dataPointMappings/<mapping_id>")
def delete_mapping(mapping_id: str):
    service.delete_mapping(context.scope(), mapping_id, caller=caller())
    return "", 204


@bp.post("/exchange")
def exchange():
    """200 without a body (MCL accepts exactly 200). A refusal of an agent under diagnosis is recorded as an ERROR
    message in a transaction of its own, after the request's writes were rolled back."""
    agent_id = caller()
    if agent_id is None:
        raise errors.Forbidden("Only an agent's token posts to the exchange")
    if (request.content_length or 0) > limits.EXCHANGE_MAX_BYTES:
        raise errors.PayloadTooLarge(f"The exchange body is larger than {limits.EXCHANGE_MAX_BYTES} bytes (10 MB)")
    raw = request.get_data(cache=True)
    if len(raw) > limits.EXCHANGE_MAX_BYTES:
        raise errors.PayloadTooLarge(f"The exchange body is larger than {limits.EXCHANGE_MAX_BYTES} bytes (10 MB)")
    header = request.headers.get("Correlation-ID", "")
    correlation = header if _CORRELATION.fullmatch(header) else uuid.uuid4().hex
    scope = context.scope()
    try:
        outcome = exchange_service.ingest(scope, agent_id, multipart.parse(raw, request.content_type or ""),
                                          lenient=not runtime().settings.exchange_strict)
    except errors.ApiError as exc:
        _record_refusal(agent_id, correlation, exc)
        raise
    if service.diagnosing(scope, agent_id):
        service.record(scope, agent_id, correlation, outcome.diagnostics(), _now())
    reason = outcome.drop_message()
    if reason is not None:  # only a lenient exchange drops: a strict one refused with a 400 above
        recovery.keep(scope, agent_id, correlation, reason, request.content_type or "", raw, _now())
    return "", 200


def _record_refusal(agent_id: str, correlation: str, exc: errors.ApiError) -> None:
    st, rt = context.state(), runtime()
    if st.db is not None:
        rt.store.end(st.db, commit=False)  # nothing of the refused exchange stays
        st.db = None
    scope = context.scope()
    if service.diagnosing(scope, agent_id):
        service.record(scope, agent_id, correlation, [("ERROR", "TIMESERIES", "DROPPED",
                                                       f"[{exc.status}] {exc.message}")], _now())
        context.release()  # committed now: the error answer rolls back what is open


@bp.post("/diagnosticActivations")
def create_activation():
    return jsonify(service.create_activation(context.scope(), json_body(), caller=caller())), 201


@bp.get("/diagnosticActivations")
def list_activations():
    return jsonify(service.list_activations(context.scope(), caller=caller(), size=int_arg("size"),
                                            page=int_arg("page")))


@bp.get("/diagnosticActivations/<activation_id>")
def get_activation(activation_id: str):
    return jsonify(service.get_activation(context.scope(), activation_id, caller=caller()))


@bp.put("/diagnosticActivations/<activation_id>")
def update_activation(activation_id: str):
    return jsonify(service.update_activation(context.scope(), activation_id, json_body(), caller=caller()))


@bp.delete("/diagnosticActivations/<activation_id>")
def delete_activation(activation_id: str):
    service.delete_activation(context.scope(), activation_id, caller=caller())
    return "", 204


@bp.get("/diagnosticActivations/<activation_id>/messages")
def activation_messages(activation_id: str):
    return jsonify(service.list_messages(context.scope(), agent_id=activation_id, caller=caller(),
                                         filter_text=request.args.get("filter"), size=int_arg("size"),
                                         page=int_arg("page")))


@bp.get("/diagnosticInformation")
def diagnostic_information():
    return jsonify(service.list_messages(context.scope(), agent_id=None, caller=caller(),
                                         filter_text=request.args.get("filter"), size=int_arg("size"),
                                         page=int_arg("page")))


# --- record recovery (MCSPEC "Record Recovery") -----------------------------------------------------------

@bp.get("/recoverableRecords")
def list_recoverable_records():
    return jsonify(recovery.list_records(context.scope(), caller=caller(), filter_text=request.args.get("filter"),
                                         sort=request.args.get("sort"), size=int_arg("size"),
                                         page=int_arg("page")))


@bp.get("/recoverableRecords/<record_id>/downloadLink")
def recoverable_record_link(record_id: str):
    """200 with a JSON string: a URL of this emulator that gives the body back without a bearer token until it
    expires (MCSPEC: a pre-signed URL)."""
    scope = context.scope()
    recovery.record(scope, record_id, caller())
    token = recovery.link_token(scope.tenant, record_id, _now(), sign)
    return jsonify(f"{context.base_url()}{links.PREFIX}/{record_id}?token={token}")


@bp.post("/recoverableRecords/<record_id>/replay")
def replay_recoverable_record(record_id: str):
    recovery.replay(context.scope(), record_id, caller=caller(), lenient=not runtime().settings.exchange_strict)
    return "", 200


@bp.delete("/recoverableRecords/<record_id>")
def delete_recoverable_record(record_id: str):
    recovery.delete(context.scope(), record_id, caller=caller())
    return "", 204
