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
        f"{BASE}/agents/{{agent_id}}/status": {
            "get": op("online_status", "Whether the agent is online (holds a valid agent token), and since when",
                      {"200": ok("The online status", obj({"status": string(enum=["ONLINE", "OFFLINE"]),
                                                            "since": string(description="date-time")}, "all"))},
                      404, params=[agent_id]),
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


def oauth_fragment(admin_token: bool = False) -> dict:
    """The agent's OAuth (agent IAM): no tenant token; the IAT, the registration access token or a client
    assertion authenticates the call; errors in the IAM shape ``{"error", "error_description"}``."""
    op = operations("agentiam", "Agent IAM (agent OAuth)", "oauth", security=[], common=(429,))
    key = obj({"kty": string(enum=["RSA"]), "n": _text(2048, minLength=1), "e": _text(16, minLength=1),
               "kid": _text(128, minLength=1)}, ["kty", "n", "e", "kid"], closed=False)
    jwks = obj({"keys": array(key, minItems=1, maxItems=4)}, ["keys"], closed=False)
    identifier = ok("The client identifier", ref("ClientIdentifier"))
    client_id = path("client_id", string(maxLength=limits.AGENT_ID_MAX), "The agent's client id")
    return make_fragment({
        f"{BASE}/register": {
            "post": op("register", "Onboard: register the agent with its initial access token (Bearer)",
                       {"201": identifier}, 400, 401, 415,
                       body=json_body(obj({"jwks": jwks}, closed=False), required=False)),
        },
        f"{BASE}/register/{{client_id}}": {
            "get": op("read_registration", "The registration (Bearer: the registration access token)",
                      {"200": identifier}, 401, params=[client_id]),
            "put": op("rotate", "Rotate the key (Bearer: the registration access token)", {"200": identifier},
                      400, 401, 415, params=[client_id],
                      body=json_body(obj({"client_id": _text(limits.AGENT_ID_MAX), "jwks": jwks}, ["client_id"],
                                         closed=False))),
        },
        f"{BASE}/oauth/token_key": {
            "get": op("token_key", "The current public key of agent tokens (value: PEM without line breaks)",
                      {"200": ok("The key", ref("AgentTokenKey"))}),
        },
        f"{BASE}/oauth/token_keys": {
            "get": op("token_keys", "Every published key, the current one first",
                      {"200": ok("The keys", obj({"keys": array(ref("AgentTokenKey"))}, "all"))}),
        },
        f"{BASE}/oauth/token": {
            "post": op("agent_token", "An agent token for a client assertion (form: grant_type, "
                       "client_assertion_type, client_assertion)", {"200": ok("The agent token", ref("AgentToken"))},
                       400, 401, 415,
                       body=json_body(obj({
                           "grant_type": string(enum=["client_credentials"]),
                           "client_assertion_type": string(enum=["urn:ietf:params:oauth:client-assertion-type:"
                                                                 "jwt-bearer"]),
                           "client_assertion": string(minLength=1, maxLength=limits.AGENT_ASSERTION_MAX_LENGTH)},
                           "all", closed=False), media="application/x-www-form-urlencoded")),
        },
    }, {
        "ClientIdentifier": obj({"client_id": string(), "client_secret": string(),
                                 "client_secret_expires_at": integer(), "grant_types": array(string()),
                                 "registration_access_token": string(), "registration_client_uri": string(),
                                 "token_endpoint_auth_method": string()},
                                ["client_id", "registration_client_uri"]),
        "AgentTokenKey": obj({k: string() for k in ("kty", "e", "n", "kid", "alg", "use", "value")}, "all"),
        "AgentToken": obj({"access_token": string(), "token_type": string(), "expires_in": integer(),
                           "jti": string(), "scope": array(string())}, "all"),
    })
