"""Record recovery (MCSPEC "Record Recovery", mindconnect-api.md 4c and 4e): an exchange that dropped values is kept
whole as a *recoverable record* (its body and Content-Type, the agent, the correlation id, the virtual clock's
time, the drop reason), to be listed, downloaded through a pre-signed link, replayed once the mappings are fixed,
or deleted.

Why keep the whole body: replaying re-ingests it through the exchange's own path (``exchange.ingest``, the agent's
mappings as they are now), and a download gives back what the agent sent, byte for byte. Why a signed link: MCSPEC's
``downloadLink`` answers a pre-signed URL (its example is an S3 one) that needs no bearer token; here it is a route
of the emulator whose token is a JWT signed with the token service's key, naming the tenant and the record and
expiring by the virtual clock. Decisions marked [?] are in the README's fidelity notes ("MindConnect API v3").
"""

from __future__ import annotations

import uuid

import jwt
from sqlalchemy import select

from emulator import errors, limits
from emulator.agents.models import agents
from emulator.mindconnect import multipart
from emulator.mindconnect.exchange import ingest
from emulator.mindconnect.models import recoverable
from emulator.mindconnect.service import check_agent, equality_filter, page_of
from emulator.store import TenantScope
from emulator.times import iso

FIELDS = {"id": "record_id", "agentId": "asset_id", "correlationId": "correlation_id"}  # filter: equalities
SORTABLE = {**FIELDS, "requestTime": "request_time"}
LINK_CATEGORY = "mc-record-link:v1"  # the ``cat`` of a link's token: no access token carries it, nor it a scope
_LISTED = tuple(recoverable.c[name] for name in ("record_id", "asset_id", "correlation_id", "request_time",
                                                 "drop_reason"))


def keep(scope: TenantScope, agent_id: str, correlation_id: str, reason: str, content_type: str, payload: bytes,
         now: float) -> None:
    """A new record of an exchange that dropped values; the newest ``RECOVERABLE_KEPT_PER_AGENT`` of an agent are
    kept (the oldest go first), so the store stays bounded."""
    scope.insert(recoverable, record_id=str(uuid.uuid4()), asset_id=agent_id, correlation_id=correlation_id,
                 request_time=now, drop_reason=reason[:limits.RECOVERABLE_DROP_REASON_MAX],
                 content_type=content_type, payload=payload)
    stale = scope.conn.scalars(
        select(recoverable.c.record_id).where(recoverable.c.tenant_id == scope.tenant,
                                              recoverable.c.asset_id == agent_id)
        .order_by(recoverable.c.request_time.desc(), recoverable.c.record_id.desc())
        .offset(limits.RECOVERABLE_KEPT_PER_AGENT)).all()
    if stale:
        scope.delete(recoverable, recoverable.c.record_id.in_(stale))


def _json(row) -> dict:
    return {"id": row["record_id"], "correlationId": row["correlation_id"], "agentId": row["asset_id"],
            "requestTime": iso(int(row["request_time"] * 1000)), "dropReason": row["drop_reason"]}


def _order(sort: str | None) -> list:
    """MCSPEC's ``sort``: ``field1,field2`` with an optional trailing ``,asc``/``,desc``; oldest first without."""
    parts = [p.strip() for p in (sort or "").split(",") if p.strip()]
    descending = bool(parts) and parts[-1].lower() == "desc"
    if parts and parts[-1].lower() in ("asc", "desc"):
        parts.pop()
    for name in parts:
        if name not in SORTABLE:
            raise errors.BadRequest(f"sort: unknown field {name!r} (use {', '.join(SORTABLE)})")
    columns = [recoverable.c[SORTABLE[name]] for name in parts or ("requestTime",)] + [recoverable.c.record_id]
    return [c.desc() if descending else c.asc() for c in columns]


def list_records(scope: TenantScope, *, caller: str | None, filter_text: str | None, sort: str | None,
                 size: int | None, page: int | None) -> dict:
    """The tenant's records (an agent's token: its own), filtered by field equality, without their payloads."""
    wanted = equality_filter(filter_text, FIELDS)
    stmt = scope.select(recoverable, *_LISTED)
    if caller is not None:
        stmt = stmt.where(recoverable.c.asset_id == caller)
    for key, value in wanted.items():
        stmt = stmt.where(recoverable.c[FIELDS[key]] == value)
    return page_of([_json(r) for r in scope.all(stmt.order_by(*_order(sort)))], size, page)


def record(scope: TenantScope, record_id: str, caller: str | None):
    row = scope.get(recoverable, record_id)
    if row is None:
        raise errors.NotFound(f"Recoverable record {record_id!r} not found")
    check_agent(caller, row["asset_id"])
    return row


def delete(scope: TenantScope, record_id: str, *, caller: str | None) -> None:
    record(scope, record_id, caller)
    scope.delete(recoverable, recoverable.c.record_id == record_id)


def replay(scope: TenantScope, record_id: str, *, caller: str | None, lenient: bool) -> None:
    """The record's body ingested again, as an exchange of its agent now [?]: everything taken -> the record goes
    (it is recovered); values still dropped -> it stays, with the new drop reason; refused (the agent is gone, or
    has another configuration id) -> a 4xx, and the caller's transaction is rolled back, so nothing is written."""
    row = record(scope, record_id, caller)
    agent_id = row["asset_id"]
    if scope.get(agents, agent_id) is None:
        raise errors.BadRequest(f"Agent {agent_id!r} of recoverable record {record_id!r} no longer exists; the record "
                                f"can be downloaded or deleted, not replayed")
    outcome = ingest(scope, agent_id, multipart.parse(row["payload"], row["content_type"]),
                     lenient=lenient)
    reason = outcome.drop_message()
    if reason is None:
        scope.delete(recoverable, recoverable.c.record_id == record_id)
    else:
        scope.update(recoverable, recoverable.c.record_id == record_id,
                     drop_reason=reason[:limits.RECOVERABLE_DROP_REASON_MAX])


# --- the pre-signed download link ----------------------------------------------------------------------

def link_token(tenant: str, record_id: str, now: float, sign) -> str:
    """``sign(claims)``: the token service's current key (emulator.agents.routes.sign)."""
    return sign({"cat": LINK_CATEGORY, "ten": tenant, "rid": record_id, "iat": int(now),
                 "exp": int(now) + limits.RECOVERABLE_LINK_SECONDS, "jti": uuid.uuid4().hex})


def link_claims(token: str, record_id: str, now: float, find_key) -> dict:
    """The claims of a link's token for ``record_id``, or 403 (as a pre-signed URL with a bad signature or past its
    expiry is refused): a key of the ring (``find_key(kid)``), this record, not expired by the virtual clock."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = find_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidSignatureError("unknown key")
        claims = jwt.decode(token, key.public_key, algorithms=[limits.TOKEN_ALGORITHM],
                            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "ten", "rid"]})
    except jwt.PyJWTError:
        raise errors.Forbidden("The download link is not valid: its signature does not verify") from None
    if claims.get("cat") != LINK_CATEGORY or claims["rid"] != record_id or not isinstance(claims["ten"], str):
        raise errors.Forbidden("The download link is not valid for this record")
    if not isinstance(claims["exp"], int) or claims["exp"] <= now:
        raise errors.Forbidden("The download link has expired; ask GET .../downloadLink for a new one")
    return claims
