"""MindConnect API v3's domain: data point mappings and diagnostic activations (plain values in and out, no
Flask). The exchange's ingestion is :mod:`emulator.mindconnect.exchange`.

Contract and evidence: shared/reference/mindconnect-api.md section 4 (MCSPEC: the official swagger v3.6.0).
Decisions marked [?] are listed in the README's fidelity notes ("MindConnect API v3").
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from emulator import errors, limits
from emulator.agents.models import agents, data_source_configurations
from emulator.agents.service import parse_filter, spring_page
from emulator.mindconnect.models import activations, mappings, messages
from emulator.store import TenantScope
from emulator.times import iso
from emulator.timeseries import service as ts_service

MAPPING_FIELDS = {"id": "mapping_id", "agentId": "agent_id", "dataPointId": "data_point_id",
                  "entityId": "entity_id", "propertySetName": "property_set_name", "propertyName": "property_name"}
ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"


# --- paging (the Spring page of MCSPEC's Paged* models, as Agent Management's) ---------------------------

def page_of(rows: list, size: int | None, page: int | None) -> dict:
    return spring_page(rows, limits.MAPPING_DEFAULT_PAGE_SIZE if size is None else size, 0 if page is None else page)


def equality_filter(text: str | None, fields) -> dict:
    """A JSON filter of field equalities (``{"agentId": "..."}``: what the SDK sends); anything else is a 400."""
    if not text:
        return {}
    parsed = parse_filter(text)
    for key, value in parsed.items():
        if key not in fields:
            raise errors.BadRequest(f"filter: unknown field {key!r} (use {', '.join(fields)})")
        if not isinstance(value, str):
            raise errors.BadRequest(f"filter: {key!r} takes a string")
    return parsed


# --- mappings ----------------------------------------------------------------------------------------

class _Agents:
    """The agents' data source configurations, read once per call: which mappings still live, and the data points
    they name."""

    def __init__(self, scope: TenantScope):
        self.scope = scope
        self._agents: dict[str, tuple] = {}

    def _agent(self, agent_id: str) -> tuple:
        if agent_id not in self._agents:
            agent = self.scope.get(agents, agent_id)
            dsc = self.scope.get(data_source_configurations, agent_id) if agent is not None else None
            self._agents[agent_id] = (agent, dsc)
        return self._agents[agent_id]

    def dsc(self, agent_id: str):
        return self._agent(agent_id)[1]

    def live(self, row) -> bool:
        """The agent exists (the one the mapping was made for: an agent deleted and made again for its asset has
        the same id, not its predecessor's mappings), and the mapping kept (``keepMapping``) or made under the
        current configuration: the real service deletes the others when the configuration is updated (MCSPEC)."""
        agent, dsc = self._agent(row["agent_id"])
        return (dsc is not None and row["created_at"] >= agent["created_at"]
                and (row["keep_mapping"] or row["dsc_etag"] == dsc["etag"]))

    def point(self, agent_id: str, point_id: str) -> dict | None:
        dsc = self.dsc(agent_id)
        for source in (dsc["data_sources"] if dsc is not None else ()):
            for point in source["dataPoints"]:
                if point["id"] == point_id:
                    return point
        return None


def _variable(scope: TenantScope, entity_id: str, aspect: str, name: str, cache: dict) -> dict | None:
    key = (entity_id, aspect)
    if key not in cache:
        try:
            cache[key] = ts_service.aspect_schema(scope, entity_id, aspect)
        except errors.NotFound:
            cache[key] = None
    schema = cache[key]
    return schema.variables.get(name) if schema is not None else None


def _unit(value) -> str:
    return value or ""  # a unitless point (the SDK leaves the unit out) and a unitless variable agree


def _as_json(row, ctx: _Agents, cache: dict) -> dict:
    point = ctx.point(row["agent_id"], row["data_point_id"])
    var = _variable(ctx.scope, row["entity_id"], row["property_set_name"], row["property_name"], cache)
    reasons = []
    if point is None:
        reasons.append("MISSING_DATAPOINT")
    if var is None:
        reasons.append("MISSING_PROPERTY")
    if point is not None and var is not None:
        if point["type"] != var["dataType"]:
            reasons.append("INVALID_TYPE")
        if _unit(point.get("unit")) != _unit(var.get("unit")):
            reasons.append("INVALID_UNIT")
    body = {"id": row["mapping_id"], "agentId": row["agent_id"], "dataPointId": row["data_point_id"],
            "dataPointUnit": _unit(point.get("unit")) if point else None,
            "dataPointType": point["type"] if point else None,
            "entityId": row["entity_id"], "propertySetName": row["property_set_name"],
            "propertyName": row["property_name"],
            "propertyUnit": _unit(var.get("unit")) if var else None, "propertyType": var["dataType"] if var else None,
            "qualityEnabled": bool(var.get("qualityCode")) if var else False, "keepMapping": row["keep_mapping"],
            "validity": {"status": "INVALID" if reasons else "VALID", "reasons": reasons}}
    return body


def check_agent(caller: str | None, agent_id: str) -> None:
    """An agent's token reaches its own resources only (MCSPEC: agents are forbidden to view or change another
    agent's)."""
    if caller is not None and caller != agent_id:
        raise errors.Forbidden("An agent's token reaches only the agent's own resources")


def create_mapping(scope: TenantScope, body: dict, *, caller: str | None, now: float,
                   no_agent_validation: bool = False) -> dict:
    """A mapping of one data point of the agent's configuration onto one variable of a dynamic aspect of an asset,
    of the same type and unit (MCSPEC rules; the unit rule from the older rule text [?])."""
    agent_id, point_id = body["agentId"], body["dataPointId"]
    entity_id, aspect, name = body["entityId"], body["propertySetName"], body["propertyName"]
    check_agent(caller, agent_id)
    if scope.get(agents, agent_id) is None:
        raise errors.InvalidBody(f"agentId {agent_id!r} is not an agent of this tenant")
    ctx = _Agents(scope)
    dsc = ctx.dsc(agent_id)
    scope.delete(mappings, mappings.c.agent_id == agent_id, mappings.c.keep_mapping.is_(False),
                 mappings.c.dsc_etag != dsc["etag"])  # deleted by a configuration update since (see models)
    point = ctx.point(agent_id, point_id)
    if point is None and not no_agent_validation:
        raise errors.InvalidBody(f"dataPointId {point_id!r} is not a data point of the agent's data source "
                                 f"configuration")
    try:
        schema = ts_service.aspect_schema(scope, entity_id, aspect)
    except errors.NotFound as exc:
        raise errors.InvalidBody(f"entityId/propertySetName: {exc.message}") from None
    var = schema.variables.get(name)
    if var is None:
        raise errors.InvalidBody(f"propertyName {name!r} is not a variable of aspect {aspect!r}")
    if point is not None:
        if point["type"] != var["dataType"]:
            raise errors.InvalidBody(f"data point {point_id!r} is {point['type']} but {aspect}.{name} is "
                                     f"{var['dataType']}: the types must be the same")
        if _unit(point.get("unit")) != _unit(var.get("unit")):
            raise errors.InvalidBody(f"data point {point_id!r} has unit {_unit(point.get('unit'))!r} but "
                                     f"{aspect}.{name} has {_unit(var.get('unit'))!r}: the units must be the same")
    same_set = [r for r in scope.all(scope.select(mappings).where(
        mappings.c.entity_id == entity_id, mappings.c.property_set_name == aspect)) if ctx.live(r)]
    for row in same_set:
        if row["agent_id"] == agent_id and row["data_point_id"] == point_id:
            if row["property_name"] == name:
                raise errors.Conflict(f"This mapping exists already: {row['mapping_id']}")
            raise errors.InvalidBody(f"data point {point_id!r} feeds {aspect}.{row['property_name']} of this asset "
                                     f"already; it cannot feed two properties of one aspect")
        if row["property_name"] == name:
            raise errors.InvalidBody(f"{aspect}.{name} of this asset is fed by data point {row['data_point_id']!r} "
                                     f"of agent {row['agent_id']!r} already; a property takes one data point")
    mapping_id = str(uuid.uuid4())
    scope.insert(mappings, mapping_id=mapping_id, agent_id=agent_id, data_point_id=point_id, entity_id=entity_id,
                 property_set_name=aspect, property_name=name, keep_mapping=bool(body.get("keepMapping", False)),
                 dsc_etag=dsc["etag"], created_at=now)
    return get_mapping(scope, mapping_id, caller=caller)


def _mapping_row(scope: TenantScope, mapping_id: str, ctx: _Agents, caller: str | None):
    row = scope.get(mappings, mapping_id)
    if row is None or not ctx.live(row):
        raise errors.NotFound(f"Mapping {mapping_id!r} not found")
    check_agent(caller, row["agent_id"])
    return row


def get_mapping(scope: TenantScope, mapping_id: str, *, caller: str | None) -> dict:
    ctx = _Agents(scope)
    return _as_json(_mapping_row(scope, mapping_id, ctx, caller), ctx, {})


def delete_mapping(scope: TenantScope, mapping_id: str, *, caller: str | None) -> None:
    _mapping_row(scope, mapping_id, _Agents(scope), caller)
    scope.delete(mappings, mappings.c.mapping_id == mapping_id)


def list_mappings(scope: TenantScope, *, caller: str | None, filter_text: str | None, size: int | None,
                  page: int | None) -> dict:
    """The tenant's live mappings (an agent's token: its own), filtered by field equality, oldest first."""
    wanted = equality_filter(filter_text, MAPPING_FIELDS)
    stmt = scope.select(mappings)
    if caller is not None:
        stmt = stmt.where(mappings.c.agent_id == caller)
    for key, value in wanted.items():
        stmt = stmt.where(mappings.c[MAPPING_FIELDS[key]] == value)
    ctx, cache = _Agents(scope), {}
    rows = [r for r in scope.all(stmt.order_by(mappings.c.created_at, mappings.c.mapping_id)) if ctx.live(r)]
    return page_of([_as_json(r, ctx, cache) for r in rows], size, page)


def agent_mappings(scope: TenantScope, agent_id: str) -> tuple[str | None, dict, dict[str, list[dict]]]:
    """For the exchange: the agent's configuration id, its data points by id and its valid mappings by data point
    id."""
    ctx, cache = _Agents(scope), {}
    dsc = ctx.dsc(agent_id)
    points = {p["id"]: p for source in (dsc["data_sources"] if dsc else ()) for p in source["dataPoints"]}
    by_point: dict[str, list[dict]] = {}
    for row in scope.all(scope.select(mappings).where(mappings.c.agent_id == agent_id)):
        if ctx.live(row):
            body = _as_json(row, ctx, cache)
            if body["validity"]["status"] == "VALID":
                by_point.setdefault(row["data_point_id"], []).append(body)
    return (dsc["configuration_id"] if dsc else None), points, by_point


# --- diagnostic activations and messages ---------------------------------------------------------------

def _activation_json(row) -> dict:
    return {"id": row["activation_id"], "agentId": row["agent_id"], "status": row["status"]}


def _activation_row(scope: TenantScope, key: str, caller: str | None):
    """By the activation's id or by its agent's id: Siemens' own test deletes and reads messages with the agent's
    id and passed on a real tenant (mindconnect-api.md 4d)."""
    row = scope.get(activations, key)
    if row is None:
        found = scope.all(scope.select(activations).where(activations.c.agent_id == key))
        row = found[0] if found else None
    if row is None:
        raise errors.NotFound(f"Diagnostic activation {key!r} not found")
    check_agent(caller, row["agent_id"])
    return row


def _check_limit(scope: TenantScope) -> None:
    if scope.count(activations, activations.c.status == ACTIVE) >= limits.DIAGNOSTIC_MAX_AGENTS:
        raise errors.BadRequest(f"Diagnostic activation agent limitation: at most {limits.DIAGNOSTIC_MAX_AGENTS} "
                                f"agents of a tenant can be active")


def create_activation(scope: TenantScope, body: dict, *, caller: str | None) -> dict:
    agent_id, status = body["agentId"], body.get("status") or ACTIVE
    check_agent(caller, agent_id)
    if scope.get(agents, agent_id) is None:
        raise errors.InvalidBody(f"agentId {agent_id!r} is not an agent of this tenant")
    if scope.count(activations, activations.c.agent_id == agent_id):
        raise errors.Conflict(f"Agent {agent_id!r} has a diagnostic activation already")
    if status == ACTIVE:
        _check_limit(scope)
    activation_id = str(uuid.uuid4())
    scope.insert(activations, activation_id=activation_id, agent_id=agent_id, status=status)
    return _activation_json(scope.get(activations, activation_id))


def list_activations(scope: TenantScope, *, caller: str | None, size: int | None, page: int | None) -> dict:
    stmt = scope.select(activations).order_by(activations.c.agent_id)
    if caller is not None:
        stmt = stmt.where(activations.c.agent_id == caller)
    return page_of([_activation_json(r) for r in scope.all(stmt)], size, page)


def get_activation(scope: TenantScope, key: str, *, caller: str | None) -> dict:
    return _activation_json(_activation_row(scope, key, caller))


def update_activation(scope: TenantScope, key: str, body: dict, *, caller: str | None) -> dict:
    row = _activation_row(scope, key, caller)
    if body["status"] == ACTIVE and row["status"] != ACTIVE:
        _check_limit(scope)
    scope.update(activations, activations.c.activation_id == row["activation_id"], status=body["status"])
    return _activation_json(scope.get(activations, row["activation_id"]))


def delete_activation(scope: TenantScope, key: str, *, caller: str | None) -> None:
    row = _activation_row(scope, key, caller)
    scope.delete(activations, activations.c.activation_id == row["activation_id"])
    scope.delete(messages, messages.c.agent_id == row["agent_id"])


def diagnosing(scope: TenantScope, agent_id: str) -> bool:
    """Diagnostic messages are kept only for agents with an ACTIVE activation (what activating is for, MCSPEC)."""
    return bool(scope.count(activations, activations.c.agent_id == agent_id, activations.c.status == ACTIVE))


def record(scope: TenantScope, agent_id: str, correlation_id: str, entries: list[tuple[str, str, str, str]],
           now: float) -> None:
    """(severity, source, state, message) entries of one exchange request; the newest
    ``DIAGNOSTIC_KEPT_MESSAGES`` of an agent are kept."""
    for severity, source, state, message in entries:
        scope.insert(messages, agent_id=agent_id, correlation_id=correlation_id, severity=severity, source=source,
                     state=state, message=message[:limits.DIAGNOSTIC_MESSAGE_MAX], timestamp=now)
    cut = scope.conn.scalar(select(messages.c.seq).where(messages.c.tenant_id == scope.tenant,
                                                         messages.c.agent_id == agent_id)
                            .order_by(messages.c.seq.desc()).offset(limits.DIAGNOSTIC_KEPT_MESSAGES).limit(1))
    if cut is not None:
        scope.conn.execute(delete(messages).where(messages.c.tenant_id == scope.tenant,
                                                  messages.c.agent_id == agent_id, messages.c.seq <= cut))


MESSAGE_FIELDS = {"agentId": "agent_id", "correlationId": "correlation_id", "severity": "severity",
                  "source": "source", "state": "state"}


def _message_json(row, with_agent: bool) -> dict:
    body = {"correlationId": row["correlation_id"], "severity": row["severity"], "message": row["message"],
            "source": row["source"], "state": row["state"], "timestamp": iso(int(row["timestamp"] * 1000))}
    return {"agentId": row["agent_id"], **body} if with_agent else body


def list_messages(scope: TenantScope, *, agent_id: str | None, caller: str | None, filter_text: str | None,
                  size: int | None, page: int | None) -> dict:
    """Oldest first, so the last page holds the newest (the SDK's GetAllDiagnosticInformation skips to it)."""
    wanted = equality_filter(filter_text, MESSAGE_FIELDS)
    if agent_id is not None:
        wanted = {**wanted, "agentId": _activation_row(scope, agent_id, caller)["agent_id"]}
    elif caller is not None:
        wanted = {**wanted, "agentId": caller} if wanted.get("agentId", caller) == caller else None
        if wanted is None:
            raise errors.Forbidden("An agent's token reaches only the agent's own resources")
    stmt = scope.select(messages)
    for key, value in wanted.items():
        stmt = stmt.where(messages.c[MESSAGE_FIELDS[key]] == value)
    rows = scope.all(stmt.order_by(messages.c.seq))
    return page_of([_message_json(r, agent_id is None) for r in rows], size, page)
