"""MindConnect API v3's contract (its OpenAPI fragment), after the official swagger v3.6.0 (MCSPEC in
shared/reference/mindconnect-api.md 4): requests are validated from it (:mod:`emulator.validation`). Input objects
are open: the Node SDK sends the read-only fields of a mapping it read back (``id``, ``validity``...), which are
ignored. The exchange's multipart body is parsed by :mod:`emulator.mindconnect.multipart`."""

from __future__ import annotations

from emulator import limits
from emulator.spec import (
    NO_CONTENT,
    array,
    boolean,
    flag,
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

BASE = "/api/mindconnect/v3"
TYPES = list(limits.DATA_POINT_TYPES)


def _text(maximum: int, **kw) -> dict:
    return no_nul(string(maxLength=maximum, minLength=1, **kw))


def _paged(item: str) -> dict:
    return obj({"content": array(ref(item)), "last": boolean(), "totalPages": integer(),
                "totalElements": integer(), "numberOfElements": integer(), "first": boolean(),
                "sort": nullable(array(obj({}, closed=False))), "size": integer(), "number": integer()}, "all")


def schemas() -> dict:
    status = string(enum=["ACTIVE", "INACTIVE"])
    return {
        "MappingInput": obj({"agentId": _text(limits.AGENT_ID_MAX), "dataPointId": _text(limits.DATA_POINT_ID_MAX),
                             "entityId": _text(limits.AGENT_ID_MAX),
                             "propertySetName": _text(limits.MAPPING_PROPERTY_MAX),
                             "propertyName": _text(limits.MAPPING_PROPERTY_MAX),
                             "keepMapping": nullable(boolean())},
                            ["agentId", "dataPointId", "entityId", "propertySetName", "propertyName"], closed=False),
        "Mapping": obj({"id": string(), "agentId": string(), "dataPointId": string(),
                        "dataPointUnit": nullable(string()), "dataPointType": nullable(string(enum=TYPES)),
                        "entityId": string(), "propertySetName": string(), "propertyName": string(),
                        "propertyUnit": nullable(string()), "propertyType": nullable(string(enum=TYPES)),
                        "qualityEnabled": boolean(), "keepMapping": boolean(),
                        "validity": obj({"status": string(enum=["VALID", "INVALID"]), "reasons": array(string(
                            enum=["MISSING_DATAPOINT", "MISSING_PROPERTY", "INVALID_TYPE", "INVALID_UNIT"]))},
                            "all")}, "all"),
        "PagedMapping": _paged("Mapping"),
        "DiagnosticActivationInput": obj({"agentId": _text(limits.AGENT_ID_MAX), "status": nullable(status)},
                                         ["agentId"], closed=False),
        "DiagnosticActivationStatus": obj({"status": status}, ["status"], closed=False),
        "DiagnosticActivation": obj({"id": string(), "agentId": string(), "status": status}, "all"),
        "PagedDiagnosticActivation": _paged("DiagnosticActivation"),
        "DiagnosticInformation": obj({"agentId": string(), "correlationId": string(),
                                      "severity": string(enum=["INFO", "WARN", "ERROR"]), "message": string(),
                                      "source": string(), "state": string(), "timestamp": string()},
                                     ["correlationId", "severity", "message", "source", "state", "timestamp"]),
        "PagedDiagnosticInformation": _paged("DiagnosticInformation"),
        "RecoverableRecords": obj({"id": string(), "correlationId": string(), "agentId": string(),
                                   "requestTime": string(description="ISO 8601, UTC"),
                                   "dropReason": string(maxLength=limits.RECOVERABLE_DROP_REASON_MAX)}, "all"),
        "PagedRecoverableRecords": _paged("RecoverableRecords"),
    }


def fragment(admin_token: bool = False) -> dict:
    op = operations("mindconnect", "MindConnect API v3", "timeseries")
    paging = [query("size", integer(minimum=1, maximum=limits.MAPPING_MAX_PAGE_SIZE)),
              query("page", integer(minimum=0, maximum=1_000_000)),
              query("sort", string(maxLength=256), "accepted; the order is fixed (oldest first)")]
    filtered = [query("filter", string(maxLength=limits.AGENT_FILTER_MAX_LENGTH),
                      'A JSON object of field equalities: {"agentId": "..."}'), *paging]
    mapping_id = path("mapping_id", string(maxLength=36), "The mapping's id")
    activation_id = path("activation_id", string(maxLength=36), "The activation's id, or its agent's id")
    mapping = ok("The mapping", ref("Mapping"))
    activation = ok("The diagnostic activation", ref("DiagnosticActivation"))
    messages = {"200": ok("A page of diagnostic messages, oldest first", ref("PagedDiagnosticInformation"))}
    return make_fragment({
        f"{BASE}/dataPointMappings": {
            "post": op("create_mapping", "Map a data point of an agent onto a variable of an asset's dynamic aspect",
                       {"201": mapping}, 400, 409, 413, 415, body=json_body(ref("MappingInput")),
                       params=[query("noAgentValidation", flag(), "true: the data point need not be in the agent's "
                                                                  "data source configuration")]),
            "get": op("list_mappings", "The tenant's mappings (an agent's token: its own), filtered and paged",
                      {"200": ok("A page of mappings", ref("PagedMapping"))}, 400, params=filtered),
        },
        f"{BASE}/dataPointMappings/{{mapping_id}}": {
            "get": op("get_mapping", "One mapping", {"200": mapping}, 404, params=[mapping_id]),
            "delete": op("delete_mapping", "Delete a mapping", {"204": NO_CONTENT}, 404, params=[mapping_id]),
        },
        f"{BASE}/exchange": {
            "post": op("exchange", "An agent's multipart/mixed message: time series items mapped into IoT Time "
                       "Series (an agent's token only)", {"200": {"description": "Taken; no body"}},
                       400, 413, 415,
                       body=json_body(string(description="tuples of a meta and a payload part (multipart/related)"),
                                      media="multipart/mixed")),
        },
        f"{BASE}/diagnosticActivations": {
            "post": op("create_activation", "Activate diagnostics for an agent (at most 5 active per tenant)",
                       {"201": activation}, 400, 409, 413, 415, body=json_body(ref("DiagnosticActivationInput"))),
            "get": op("list_activations", "The diagnostic activations (an agent's token: its own)",
                      {"200": ok("A page of activations", ref("PagedDiagnosticActivation"))}, 400, params=paging),
        },
        f"{BASE}/diagnosticActivations/{{activation_id}}": {
            "get": op("get_activation", "One diagnostic activation", {"200": activation}, 404, params=[activation_id]),
            "put": op("update_activation", "Set an activation ACTIVE or INACTIVE", {"200": activation}, 400, 404,
                      413, 415, params=[activation_id], body=json_body(ref("DiagnosticActivationStatus"))),
            "delete": op("delete_activation", "Delete an activation and its messages", {"204": NO_CONTENT}, 404,
                         params=[activation_id]),
        },
        f"{BASE}/diagnosticActivations/{{activation_id}}/messages": {
            "get": op("activation_messages", "What the agent's exchanges did: accepted, dropped, refused", messages,
                      400, 404, params=[activation_id, *filtered]),
        },
        f"{BASE}/diagnosticInformation": {
            "get": op("diagnostic_information", "Deprecated: the diagnostic messages of every activated agent",
                      messages, 400, params=filtered),
        },
        **_recovery(op),
    }, schemas())


def _recovery(op) -> dict:
    """Record recovery: exchanges that dropped values, kept to be downloaded, replayed or deleted."""
    record_id = path("record_id", string(maxLength=36), "The recoverable record's id")
    listing = [query("filter", string(maxLength=limits.AGENT_FILTER_MAX_LENGTH),
                     'A JSON object of field equalities on id, agentId, correlationId: {"agentId": "..."}'),
               query("size", integer(minimum=1, maximum=limits.MAPPING_MAX_PAGE_SIZE)),
               query("page", integer(minimum=0, maximum=1_000_000)),
               query("sort", string(maxLength=256), "field1,field2 with an optional trailing ,asc or ,desc; "
                                                    "fields: requestTime (the default), id, agentId, correlationId")]
    return {
        f"{BASE}/recoverableRecords": {
            "get": op("list_recoverable_records", "Exchanges that dropped values (an agent's token: its own), "
                      "oldest first unless sorted", {"200": ok("A page of records", ref("PagedRecoverableRecords"))},
                      400, params=listing),
        },
        f"{BASE}/recoverableRecords/{{record_id}}/downloadLink": {
            "get": op("recoverable_record_link", "A pre-signed URL of the record's exchange body (no bearer token; "
                      f"valid {limits.RECOVERABLE_LINK_SECONDS} s of the virtual clock)",
                      {"200": ok("The URL, as a JSON string", string())}, 404, params=[record_id]),
        },
        f"{BASE}/recoverableRecords/{{record_id}}/replay": {
            "post": op("replay_recoverable_record", "Ingest the record's body again with the agent's mappings as "
                       "they are now: gone when everything was taken, kept with the new drop reason otherwise",
                       {"200": {"description": "Replayed; no body"}}, 400, 404, params=[record_id]),
        },
        f"{BASE}/recoverableRecords/{{record_id}}": {
            "delete": op("delete_recoverable_record", "Delete a recoverable record", {"204": NO_CONTENT}, 404,
                         params=[record_id]),
        },
    }


def links_fragment(admin_token: bool = False) -> dict:
    """The target of a downloadLink: no bearer token, the link's signed token authorizes (a pre-signed URL)."""
    op = operations("mindconnectlinks", "MindConnect record downloads (pre-signed links)", "timeseries",
                    security=[], common=(429,))
    return make_fragment({
        "/api/mindconnect/v3/recoverableRecordPayloads/{record_id}": {
            "get": op("download_payload", "The recoverable record's exchange body, byte for byte, with its "
                      "Content-Type (multipart/mixed)",
                      {"200": ok("The body the agent sent, as its stored multipart/mixed type")},
                      403, 404, params=[path("record_id", string(maxLength=36), "The recoverable record's id"),
                                        query("token", string(minLength=1, maxLength=limits.RECOVERABLE_LINK_MAX),
                                              "The link's signed token", required=True)]),
        },
    }, {})
