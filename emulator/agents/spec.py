"""Agent Management v3's contract (its OpenAPI fragment), after the official swagger v3.5.2 (AMSPEC in
shared/reference/mindconnect-api.md): requests are validated from it (:mod:`emulator.validation`). Objects are
open where Siemens' clients send read-only fields back (``id``, ``eTag``), which are ignored."""

from __future__ import annotations

from emulator import limits
from emulator.spec import (
    NO_CONTENT,
    array,
    header,
    integer,
    json_body,
    make_fragment,
    no_nul,
    nullable,
    obj,
    ok,
    operations,
    path,
    query,
    ref,
    string,
)

BASE = "/api/agentmanagement/v3"
ETAG = {"ETag": ref("ETag", "headers")}


def _text(maximum: int, **kw) -> dict:
    return no_nul(string(maxLength=maximum, **kw))


def schemas() -> dict:
    profile = string(enum=list(limits.AGENT_SECURITY_PROFILES))
    name = _text(limits.AGENT_NAME_MAX, minLength=1)
    point = obj({"id": _text(limits.DATA_POINT_ID_MAX, minLength=1),
                 "name": _text(limits.DATA_POINT_NAME_MAX, minLength=1),
                 "description": nullable(_text(limits.DSC_DESCRIPTION_MAX)),
                 "type": string(enum=list(limits.DATA_POINT_TYPES)),
                 "unit": nullable(_text(limits.DATA_POINT_UNIT_MAX)),
                 "customData": nullable(obj({}, closed=False))}, ["id", "name", "type"], closed=False)
    source = obj({"name": _text(limits.DATA_SOURCE_NAME_MAX, minLength=1),
                  "description": nullable(_text(limits.DSC_DESCRIPTION_MAX)),
                  "dataPoints": array(point),
                  "customData": nullable(obj({}, closed=False))}, ["name", "dataPoints"], closed=False)
    return {
        "AgentInput": obj({"name": name, "securityProfile": profile,
                           "entityId": _text(limits.AGENT_ID_MAX, pattern=limits.ASSET_ID_PATTERN)},
                          ["name", "securityProfile"], closed=False),
        "AgentUpdate": obj({"name": name, "securityProfile": profile}, ["name", "securityProfile"], closed=False),
        "Agent": obj({"id": string(), "eTag": string(), "name": string(), "securityProfile": profile,
                      "entityId": string()}, "all"),
        "PagedAgent": obj({"content": array(ref("Agent")), "last": {"type": "boolean"},
                           "totalPages": integer(), "totalElements": integer(), "numberOfElements": integer(),
                           "first": {"type": "boolean"}, "sort": nullable(array(obj({}, closed=False))),
                           "size": integer(), "number": integer()}, "all"),
        "BoardingConfiguration": obj({
            "content": obj({"baseUrl": string(), "iat": string(), "clientCredentialProfile": array(profile),
                            "clientId": string(), "tenant": string()}, "all"),
            "expiration": string(description="date-time")}, "all"),
        "OnboardingStatus": obj({"status": string(enum=["NOT_ONBOARDED", "ONBOARDING", "ONBOARDED"])}, "all"),
        "DataSourceConfigurationInput": obj({
            "configurationId": _text(limits.DSC_ID_MAX, minLength=1),
            "dataSources": array(source, maxItems=limits.DSC_MAX_DATA_SOURCES)},
            ["configurationId", "dataSources"], closed=False),
        "DataSourceConfiguration": obj({"id": string(), "eTag": string(),
                                        "configurationId": nullable(string()),
                                        "dataSources": array(obj({}, closed=False))}, "all"),
    }


def fragment(admin_token: bool = False) -> dict:
    op = operations("agents", "Agent Management v3", "core")
    agent_id = path("agent_id", string(maxLength=limits.AGENT_ID_MAX), "The agent's id (its asset's id)")
    if_match = header("If-Match", string(), "The eTag the change is based on", required=True)
    agent = ok("The agent", ref("Agent"), ETAG)
    dsc = ok("The data source configuration", ref("DataSourceConfiguration"), ETAG)
    status = {"200": ok("The onboarding status", ref("OnboardingStatus"))}
    return make_fragment({
        f"{BASE}/agents": {
            "get": op("list_agents", "The tenant's agents, filtered, sorted and paged",
                      {"200": ok("A page of agents", ref("PagedAgent"))}, 400, params=[
                          query("filter", string(maxLength=limits.AGENT_FILTER_MAX_LENGTH),
                                'A JSON filter: {"name": {"startsWith": "a"}}, and/or'),
                          query("size", integer(minimum=1, maximum=limits.AGENT_MAX_PAGE_SIZE)),
                          query("page", integer(minimum=0, maximum=1_000_000)),
                          query("sort", string(maxLength=256), "field1,field2[,asc|desc]")]),
            "post": op("create_agent", "Create an agent bound to a core.mclib asset", {"201": agent},
                       400, 409, 413, 415, body=json_body(ref("AgentInput"))),
        },
        f"{BASE}/agents/{{agent_id}}": {
            "get": op("get_agent", "One agent", {"200": agent}, 404, params=[agent_id]),
            "put": op("update_agent", "Update an agent's name and security profile", {"200": agent},
                      400, 404, 409, 412, 413, 415, params=[agent_id, if_match], body=json_body(ref("AgentUpdate"))),
            "delete": op("delete_agent", "Delete an agent (not its asset)", {"204": NO_CONTENT}, 400, 404, 409, 412,
                         params=[agent_id, if_match]),
        },
        f"{BASE}/agents/{{agent_id}}/boarding/configuration": {
            "get": op("boarding_configuration", "The boarding configuration with the initial access token",
                      {"200": ok("The configuration", ref("BoardingConfiguration"))}, 404, params=[agent_id]),
        },
        f"{BASE}/agents/{{agent_id}}/boarding/status": {
            "get": op("boarding_status", "The onboarding status", status, 404, params=[agent_id]),
        },
        f"{BASE}/agents/{{agent_id}}/boarding/offboard": {
            "post": op("offboard", "Offboard the agent", status, 404, 409, params=[agent_id]),
        },
        f"{BASE}/agents/{{agent_id}}/dataSourceConfiguration": {
            "get": op("get_data_source_configuration", "The agent's data source configuration", {"200": dsc}, 404,
                      params=[agent_id]),
            "put": op("put_data_source_configuration", "Replace the data source configuration", {"200": dsc},
                      400, 404, 412, 413, 415, params=[agent_id, if_match],
                      body=json_body(ref("DataSourceConfigurationInput"))),
        },
    }, schemas())
