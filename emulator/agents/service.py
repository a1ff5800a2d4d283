"""Agent Management's domain: plain values in, plain values out, over the tenant's scope (no Flask here).

Decisions marked [?] are listed in the README ("Agent Management v3") with their evidence.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from collections.abc import Callable

from emulator import errors, limits
from emulator.agents.models import agents, clients, data_source_configurations, used_assertions
from emulator.assets import service as assets_service
from emulator.assets.validation import if_match as parse_if_match
from emulator.store import TenantScope
from emulator.times import iso

NOT_ONBOARDED, ONBOARDING, ONBOARDED = "NOT_ONBOARDED", "ONBOARDING", "ONBOARDED"
FIELDS = {"id": "agent_id", "name": "name", "securityProfile": "security_profile", "entityId": "entity_id",
          "eTag": "etag"}
FILTER_OPS = ("eq", "startsWith", "endsWith", "contains")
FILTER_DEPTH = 8


# --- agents ------------------------------------------------------------------------------------------

def get_row(scope: TenantScope, agent_id):
    row = scope.get(agents, agent_id) if isinstance(agent_id, str) else None
    if row is None:
        raise errors.NotFound(f"Agent {agent_id!r} not found")
    return row


def get(scope: TenantScope, agent_id: str) -> dict:
    return as_json(get_row(scope, agent_id))


def _name_free(scope: TenantScope, name: str, agent_id: str | None = None) -> None:
    where = [agents.c.name == name] + ([agents.c.agent_id != agent_id] if agent_id else [])
    if scope.count(agents, *where):
        raise errors.Conflict(f"An agent named {name!r} is already available")


def create(scope: TenantScope, body: dict, *, now: float, root_id: str, default_timezone: str) -> dict:
    """A new agent bound to its asset: ``entityId`` names an existing ``core.mclib`` asset of the tenant (what
    Siemens' clients do); without it an asset of that type is created with the agent, under the root [?]."""
    name, profile = body["name"], body["securityProfile"]
    _name_free(scope, name)
    entity_id = body.get("entityId")
    if entity_id is None:
        entity_id = assets_service.create_asset(
            scope, {"name": name, "typeId": limits.AGENT_ASSET_TYPE_ID, "parentId": root_id},
            default_timezone=default_timezone, now=now)
    else:
        try:
            asset = assets_service.get_asset(scope, entity_id)
        except errors.NotFound:
            raise errors.InvalidBody(f"entityId {entity_id!r} is not an existing asset") from None
        if asset["type_id"] != limits.AGENT_ASSET_TYPE_ID:
            raise errors.InvalidBody(f"entityId {entity_id!r} is an asset of type {asset['type_id']!r}, "
                                     f"not {limits.AGENT_ASSET_TYPE_ID!r}")
        if scope.get(agents, entity_id) is not None or scope.count(agents, agents.c.entity_id == entity_id):
            raise errors.Conflict(f"An agent for entityId {entity_id!r} is already available")
    scope.insert(agents, agent_id=entity_id, name=name, security_profile=profile, entity_id=entity_id, etag=0,
                 boarding_status=NOT_ONBOARDED, created_at=now)
    scope.insert(data_source_configurations, agent_id=entity_id, id=uuid.uuid4().hex, etag=0,
                 configuration_id=None, data_sources=[])
    return get(scope, entity_id)


def update(scope: TenantScope, agent_id: str, body: dict, if_match) -> dict:
    row = get_row(scope, agent_id)
    expected = _expect(row, if_match, "agent")
    name, profile = body["name"], body["securityProfile"]
    if profile != row["security_profile"] and row["boarding_status"] != NOT_ONBOARDED:
        raise errors.Conflict("The security profile of an onboarded (or onboarding) agent cannot change; "
                              "offboard it first")
    _name_free(scope, name, agent_id)
    values = {"name": name, "security_profile": profile}
    if profile != row["security_profile"]:  # an initial access token names the profile: a new one is due
        values.update(iat=None, iat_jti=None, iat_expires=None)
    if scope.update(agents, agents.c.agent_id == agent_id, agents.c.etag == expected, etag=expected + 1,
                    **values) != 1:
        raise errors.PreconditionFailed(f"The agent was changed by someone else (eTag {expected} is stale)")
    return get(scope, agent_id)


def delete(scope: TenantScope, agent_id: str, if_match) -> None:
    """Deletes the agent and its data source configuration; its asset stays (clients delete it themselves,
    mindconnect-api.md 2c tear-down order). An onboarded agent is refused [?]."""
    row = get_row(scope, agent_id)
    expected = _expect(row, if_match, "agent")
    if row["boarding_status"] == ONBOARDED:
        raise errors.Conflict(f"Agent {agent_id!r} is onboarded; offboard it before deleting it")
    forget_client(scope, agent_id)
    scope.delete(data_source_configurations, data_source_configurations.c.agent_id == agent_id)
    if scope.delete(agents, agents.c.agent_id == agent_id, agents.c.etag == expected) != 1:
        raise errors.PreconditionFailed(f"The agent was changed by someone else (eTag {expected} is stale)")


def _expect(row, if_match, what: str) -> int:
    expected = parse_if_match(if_match)
    if expected != row["etag"]:
        raise errors.PreconditionFailed(
            f"The {what} was changed by someone else: If-Match {expected} but its eTag is {row['etag']}")
    return expected


def as_json(row) -> dict:
    return {"id": row["agent_id"], "eTag": str(row["etag"]), "name": row["name"],
            "securityProfile": row["security_profile"], "entityId": row["entity_id"]}


# --- listing -----------------------------------------------------------------------------------------

def listing(scope: TenantScope, *, filter_text: str | None, size: int | None, page: int | None,
            sort: str | None) -> dict:
    size = limits.AGENT_DEFAULT_PAGE_SIZE if size is None else size
    page = 0 if page is None else page
    rows = [as_json(row) for row in scope.all(scope.select(agents).order_by(agents.c.name, agents.c.agent_id))]
    if filter_text:
        predicate = _filter(parse_filter(filter_text), 0)
        rows = [row for row in rows if predicate(row)]
    return spring_page(rows, size, page, _sort(sort, rows))


def spring_page(rows: list, size: int, page: int, sort=None) -> dict:
    """Page ``page`` (from 0) of ``size`` rows in Spring's page shape, which Agent Management and MindConnect
    answer their lists in (MCSPEC's Paged* models)."""
    total = len(rows)
    content = rows[page * size:(page + 1) * size]
    pages = math.ceil(total / size) if size else 0
    return {"content": content, "last": page >= pages - 1, "totalPages": pages, "totalElements": total,
            "numberOfElements": len(content), "first": page == 0, "sort": sort, "size": size, "number": page}


def parse_filter(text: str) -> dict:
    """A ``filter`` query value as Agent Management and MindConnect take it: a JSON object, at most
    ``AGENT_FILTER_MAX_LENGTH`` characters; anything else is a 400."""
    if len(text) > limits.AGENT_FILTER_MAX_LENGTH:
        raise errors.BadRequest(f"filter is longer than {limits.AGENT_FILTER_MAX_LENGTH} characters")
    try:
        parsed = json.loads(text)
    except ValueError:
        raise errors.BadRequest("filter is not a JSON document") from None
    if not isinstance(parsed, dict):
        raise errors.BadRequest("filter must be a JSON object")
    return parsed


def _filter(spec: dict, depth: int) -> Callable[[dict], bool]:
    """``{"field": value}``, ``{"field": {"startsWith"|"endsWith"|"contains"|"eq": value}}``, combined by
    ``and`` / ``or`` objects (the forms Siemens' tests and the spec's examples use)."""
    if depth > FILTER_DEPTH:
        raise errors.BadRequest(f"filter is nested deeper than {FILTER_DEPTH} levels")
    if not isinstance(spec, dict):
        raise errors.BadRequest("filter: a condition must be a JSON object")
    parts = []
    for key, value in spec.items():
        if key in ("and", "or"):
            subs = [_filter({k: v}, depth + 1) for k, v in value.items()] if isinstance(value, dict) else None
            if not subs:
                raise errors.BadRequest(f"filter: {key!r} needs an object of conditions")
            parts.append((lambda s: lambda r: all(p(r) for p in s))(subs) if key == "and"
                         else (lambda s: lambda r: any(p(r) for p in s))(subs))
        elif key in FIELDS:
            parts.append(_condition(key, value))
        else:
            raise errors.BadRequest(f"filter: unknown field {key!r} (use {', '.join(FIELDS)})")
    return lambda row: all(p(row) for p in parts)


def _condition(field: str, value) -> Callable[[dict], bool]:
    if isinstance(value, str):
        return lambda row: row[field] == value
    if isinstance(value, dict) and len(value) == 1:
        (op, operand), = value.items()
        if op in FILTER_OPS and isinstance(operand, str):
            return {"eq": lambda row: row[field] == operand,
                    "startsWith": lambda row: row[field].startswith(operand),
                    "endsWith": lambda row: row[field].endswith(operand),
                    "contains": lambda row: operand in row[field]}[op]
    raise errors.BadRequest(f"filter: the condition on {field!r} must be a string or one of "
                            f"{{{', '.join(FILTER_OPS)}: string}}")


def _sort(sort: str | None, rows: list[dict]):
    """``sort=field1,field2[,asc|desc]`` (Spring's form), sorted in place; the Order list, or None."""
    if not sort:
        return None
    parts = [p.strip() for p in sort.split(",") if p.strip()]
    direction = "ASC"
    if parts and parts[-1].upper() in ("ASC", "DESC"):
        direction = parts.pop().upper()
    if not parts:
        raise errors.BadRequest("sort names no field")
    for field in parts:
        if field not in FIELDS:
            raise errors.BadRequest(f"sort: unknown field {field!r} (use {', '.join(FIELDS)})")
    rows.sort(key=lambda row: tuple(row[f] for f in parts), reverse=direction == "DESC")
    return [{"direction": direction, "property": field, "ignoreCase": False, "nullHandling": "NATIVE",
             "ascending": direction == "ASC", "descending": direction == "DESC"} for field in parts]


# --- boarding ----------------------------------------------------------------------------------------

def boarding_configuration(scope: TenantScope, agent_id: str, *, now: float, base_url: str,
                           sign: Callable[[dict], str]) -> dict:
    """The configuration an agent is boarded with. Generated on the first read (synchronously: the real one may
    be ``{}`` for a moment, which clients poll past), which moves the agent to ONBOARDING; read again it is the
    same until its token expires or the agent is offboarded, then a fresh one is issued [?]."""
    row = get_row(scope, agent_id)
    if row["iat"] is None or row["iat_expires"] <= now:
        jti = uuid.uuid4().hex
        expires = int(now) + limits.INITIAL_ACCESS_TOKEN_SECONDS
        token = sign({"jti": jti, "sub": agent_id, "client_id": agent_id, "ten": scope.tenant,
                      "iss": base_url.rstrip("/") + "/api/agentmanagement/", "aud": ["southgate"],
                      "iat": int(now), "exp": expires, "cat": "initial-access-token:v1",
                      "profile": row["security_profile"], "schemas": ["urn:siemens:mindsphere:iam:v1"]})
        status = ONBOARDING if row["boarding_status"] == NOT_ONBOARDED else row["boarding_status"]
        scope.update(agents, agents.c.agent_id == agent_id, iat=token, iat_jti=jti, iat_expires=float(expires),
                     boarding_status=status)
        row = get_row(scope, agent_id)
    return {"content": {"baseUrl": base_url.rstrip("/"), "iat": row["iat"],
                        "clientCredentialProfile": [row["security_profile"]], "clientId": agent_id,
                        "tenant": scope.tenant},
            "expiration": iso(int(row["iat_expires"] * 1000))}


def boarding_status(scope: TenantScope, agent_id: str) -> dict:
    return {"status": get_row(scope, agent_id)["boarding_status"]}


def offboard(scope: TenantScope, agent_id: str) -> dict:
    """Back to NOT_ONBOARDED, its initial access token void (the next read of the configuration issues a new one);
    an agent that is not onboarded nor onboarding answers 409 (the spec's "conflicting state") [?]."""
    row = get_row(scope, agent_id)
    if row["boarding_status"] == NOT_ONBOARDED:
        raise errors.Conflict(f"Agent {agent_id!r} is not onboarded")
    scope.update(agents, agents.c.agent_id == agent_id, boarding_status=NOT_ONBOARDED, iat=None, iat_jti=None,
                 iat_expires=None)
    forget_client(scope, agent_id)
    return {"status": NOT_ONBOARDED}


def online_status(scope: TenantScope, agent_id: str, now: float) -> dict:
    """ONLINE while an agent token issued to it is valid, since the first token of that stretch; OFFLINE since the
    last token expired, or since the agent was created [?] (AMSPEC names the two states, not their rule)."""
    row = get_row(scope, agent_id)
    client = scope.get(clients, agent_id)
    issued = client["token_issued_at"] if client is not None else None
    if issued is not None and issued + limits.AGENT_TOKEN_SECONDS > now:
        return {"status": "ONLINE", "since": iso(int(client["online_since"] * 1000))}
    since = issued + limits.AGENT_TOKEN_SECONDS if issued is not None else row["created_at"]
    return {"status": "OFFLINE", "since": iso(int(since * 1000))}


def forget_client(scope: TenantScope, agent_id: str) -> None:
    """Offboarding or deleting an agent voids its client credentials (an issued access token lives on until it
    expires: there is no revocation endpoint, mindconnect-api.md 2a)."""
    scope.delete(used_assertions, used_assertions.c.client_id == agent_id)
    scope.delete(clients, clients.c.client_id == agent_id)


# --- data source configuration -----------------------------------------------------------------------

def get_dsc(scope: TenantScope, agent_id: str) -> dict:
    get_row(scope, agent_id)
    return dsc_json(scope.get(data_source_configurations, agent_id))


def put_dsc(scope: TenantScope, agent_id: str, body: dict, if_match) -> dict:
    """Replace the configuration (its shape checked by the contract: DataSourceConfigurationInput); data point ids
    are unique within it."""
    get_row(scope, agent_id)
    row = scope.get(data_source_configurations, agent_id)
    expected = _expect(row, if_match, "data source configuration")
    seen: set[str] = set()
    count = 0
    for source in body["dataSources"]:
        for point in source["dataPoints"]:
            count += 1
            if point["id"] in seen:
                raise errors.InvalidBody(f"data point id {point['id']!r} is used twice in the configuration")
            seen.add(point["id"])
    if count > limits.DSC_MAX_DATA_POINTS:
        raise errors.InvalidBody(f"a configuration holds at most {limits.DSC_MAX_DATA_POINTS} data points")
    sources = [_source(s) for s in body["dataSources"]]
    if scope.update(data_source_configurations, data_source_configurations.c.agent_id == agent_id,
                    data_source_configurations.c.etag == expected, etag=expected + 1,
                    configuration_id=body["configurationId"], data_sources=sources) != 1:
        raise errors.PreconditionFailed("The data source configuration was changed by someone else")
    return get_dsc(scope, agent_id)


def _source(source: dict) -> dict:
    out = {k: copy.deepcopy(source[k]) for k in ("name", "description", "customData") if k in source}
    out["dataPoints"] = [{k: copy.deepcopy(p[k]) for k in ("id", "name", "description", "type", "unit", "customData")
                          if k in p} for p in source["dataPoints"]]
    return out


def dsc_json(row) -> dict:
    return {"id": row["id"], "eTag": str(row["etag"]), "configurationId": row["configuration_id"],
            "dataSources": copy.deepcopy(row["data_sources"])}
