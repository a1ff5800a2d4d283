"""Data Hub's contract (two OpenAPI fragments): the contract administration under ``/_emulator/contracts`` and the
read-only OData v4 service of each published contract under ``/odata/{contract}/``.

Written once, beside the routes: the document shows both, and the contract bodies are validated from them
(:mod:`emulator.validation`; the command line's ``contract`` too, :func:`check`): names, versions,
environments, email addresses, lengths, unknown properties.
Which asset types exist, and each listed once, is the tenant's and checked in ``contracts.py``. The OData
system query options (``$filter``, ``$top``, ...) are OData, not JSON Schema: ``query.py`` parses and refuses
them in the OData error shape, so the validator leaves every ``$`` option to it.
"""

from __future__ import annotations

from emulator import limits, validation
from emulator.odata import model as odata_model
from emulator.odata.contracts import EMAIL, NAME, VERSION
from emulator.odata.query import MAX_INTEGER as ODATA_MAX_INTEGER
from emulator.odata.query import NOT_IMPLEMENTED, STRING_FUNCTIONS
from emulator.odata.routes import JSON_TYPE
from emulator.spec import (
    BEARER,
    COMMON_STATUSES,
    NO_CONTENT,
    array,
    boolean,
    errors,
    header,
    integer,
    json_body,
    make_fragment,
    nullable,
    obj,
    ok,
    operation,
    operations,
    path,
    query,
    ref,
    string,
)
from emulator.times import TIME_PATTERN

TAG = "Data Hub"
CONTRACT_NAME = {"pattern": NAME.pattern, "maxLength": limits.CONTRACT_NAME_MAX}
EMAIL_TEXT = {"pattern": EMAIL.pattern, "maxLength": 254}
VERSION_PATTERN = f"^({VERSION.pattern.removeprefix('^').removesuffix('$')})?$"  # empty: the default, 1.0.0
EMAIL_MEANING = {EMAIL.pattern: "must be an email address (name@domain)"}


def contract_resource(*, tenant: bool = False) -> dict:
    """``emulator.odata.contracts.as_json``; the Data Hub catalogue adds the ``tenant`` that publishes it."""
    props = {
        "name": string(), "version": string(), "environment": string(enum=list(limits.DATAHUB_ENVIRONMENTS)),
        "description": nullable(string()), "applicationName": string(),
        "publisherEmail": nullable(string(description="null until given (at creation or when publishing)")),
        "assetTypeIds": array(string(), minItems=1, description="The contract's asset types, as resolved"),
        "entitySets": array(string(), description="Per asset type: its asset set, then per dynamic aspect a "
                                                  "`TS_...` and an `AGGR_...` set"),
        "createdAt": string(pattern=TIME_PATTERN),
        "published": boolean(),
        "publishedAt": nullable(string(pattern=TIME_PATTERN, description="The first publication's time")),
        "serviceUrl": nullable(string(description="The OData service root (`{server}/odata/{name}/`) once "
                                                  "published")),
    }
    if tenant:
        props["tenant"] = string(description="The tenant whose contract it is")
    return obj(props, "all")


def contract_body() -> dict:
    """What ``emulator.odata.contracts._check`` takes: these properties only (others: 400)."""
    return obj({
        "name": string(minLength=1, **CONTRACT_NAME, description="Unique in the tenant"),
        "version": nullable(string(pattern=VERSION_PATTERN, default="1.0.0",
                                   description="Like 1.0.0; empty or null: 1.0.0")),
        "assetTypeIds": array(string(), minItems=1, description="Existing asset types of the tenant (core types "
                                                                 "included), each listed once"),
        "environment": string(enum=list(limits.DATAHUB_ENVIRONMENTS), default="Sandbox"),
        "description": nullable(string(maxLength=limits.DESCRIPTION_MAX)),
        "applicationName": nullable(string(maxLength=128, description="Empty or null: `mdsp_{tenant}`")),
        "publisherEmail": nullable(string(**EMAIL_TEXT, description="Needed to publish; may be given then "
                                                                    "instead")),
    }, ["name", "assetTypeIds"])


def contract_paths() -> dict:
    name = path("name", string(**CONTRACT_NAME), "The contract's name")
    contract_ok = ok("The contract", ref("Contract"))
    admin = operations("contracts", TAG, "core")
    return {
        "/_emulator/contracts": {
            "post": admin("create_contract", "Save a contract over some of the tenant's asset types (unpublished)", {
                "201": ok("The contract", ref("Contract"), {"Location": {
                    "description": "`/_emulator/contracts/{name}`", "schema": string()}})},
                400, 409, 413, 415, notes={409: "A contract of that name exists in the tenant"},
                body=json_body(ref("ContractInput"))),
            "get": admin("list_contracts", "The tenant's contracts, oldest first",
                         {"200": ok("Contracts", obj({"contracts": array(ref("Contract"))}, "all"))}),
        },
        "/_emulator/contracts/{name}": {
            "get": admin("get_contract", "One contract", {"200": contract_ok}, 404, params=[name]),
            "delete": admin("delete_contract", "Delete a contract (its OData service with it)", {"204": NO_CONTENT},
                            404, params=[name]),
        },
        "/_emulator/contracts/{name}/download": {"get": admin(
            "download_contract", "The contract's CSDL XML, to import in Studio Pro without Data Hub",
            {"200": ok("The CSDL document (what the service's `$metadata` answers)", string(), {
                "Content-Disposition": {"description": "`attachment; filename=\"{name}-{version}.xml\"`",
                                        "schema": string()}}, media="application/xml")},
            404, params=[name])},
        "/_emulator/contracts/{name}/publish": {"post": admin(
            "publish_contract", "Publish to the Data Hub catalogue: its OData service opens at `serviceUrl`",
            {"200": contract_ok}, 400, 404, 413, 415, 500, params=[name], notes={
                400: "The body is not an object, publisherEmail is not an email address, or the contract has none",
                500: f"Publishing failed: an aggregate entity name `AGGR_{{AspectType}}_{{AspectName}}_{{AssetType}}`"
                     f" is longer than {limits.DATAHUB_AGGR_NAME_MAX} characters (as Data Hub fails, seed 9.2; "
                     "saving the contract still works)"},
            description="Publishing again keeps the first publication's time; the catalogue shows a tenant's "
                        "contracts to users of its first publisher's email domain.",
            body=json_body(publish_body(), required=False))},
    }


def publish_body() -> dict:
    return obj({"publisherEmail": nullable(string(**EMAIL_TEXT, description="Default: the contract's"))},
               closed=False)


PATTERN_TEXTS = {**EMAIL_MEANING,
                 NAME.pattern: "may hold letters, digits, '_', '-' and '.', starting with a letter or digit",
                 VERSION_PATTERN: "holds letters, digits, '.', '_', '+' and '-' (like 1.0.0), at most 64"}


def contracts_fragment(admin_token: bool = False) -> dict:
    """Contract administration; ``CatalogContract`` is what the control plane's Data Hub catalogue lists."""
    return make_fragment(contract_paths(), {"Contract": contract_resource(), "ContractInput": contract_body(),
                                            "CatalogContract": contract_resource(tenant=True)},
                         pattern_texts=PATTERN_TEXTS)


# ``contract create|publish`` of the command line takes the same bodies as the routes: checked the same way
check = validation.DocumentChecks(lambda: {"ContractInput": contract_body(), "PublishInput": publish_body()},
                                   PATTERN_TEXTS)


# --- the OData services --------------------------------------------------------------------------------

def service_schemas() -> dict:
    entity = obj({}, closed=False, description="One entity: the entity set's properties by name (see `$metadata`; "
                                               "the sets differ per contract), and each `$expand`-ed navigation "
                                               "property as an entity, a list of them or null")
    return {
        "ODataServiceDocument": obj({
            "@odata.context": string(description="`{service root}$metadata` (left out with odata.metadata=none)"),
            "value": array(obj({"name": string(), "kind": string(enum=["EntitySet"]), "url": string()}, "all")),
        }, ["value"]),
        "ODataEntity": entity,
        "ODataEntityAnswer": obj({"@odata.context": string(description="`{service root}$metadata#{Set}/$entity` "
                                                                       "(left out with odata.metadata=none)")},
                                 closed=False,
                                 description="One entity (`Set('key')` or a single-valued navigation property) "
                                             "with the context; its properties as in ODataEntity"),
        "ODataCollection": obj({
            "@odata.context": string(description="`{service root}$metadata#{Set}` (`#{Set}(p1,p2)` with $select; "
                                                 "left out with odata.metadata=none)"),
            "@odata.count": integer(minimum=0, description="With `$count=true`: the number of matching entities "
                                                           "(time series and aggregate sets: see $count)"),
            "value": array(ref("ODataEntity")),
            "@odata.nextLink": string(description="The next server-driven page (asset sets read without $top)"),
        }, ["value"]),
    }


def _filter_text(filters: dict) -> str:
    """``{property: operators}`` as text, properties with the same operators together."""
    groups: dict[tuple, list[str]] = {}
    for prop, ops in filters.items():
        groups.setdefault(tuple(ops), []).append(prop)
    return "; ".join(f"{', '.join(props)}: {', '.join(ops)}" for ops, props in groups.items())


def odata_options() -> list[dict]:
    """The system query options of ``emulator.odata.query.parse_options``. None takes an empty value (400);
    an unknown `$option` answers 400, one the service does not implement 501; other names are ignored."""
    asset_sort = ", ".join(name for name, *_ in odata_model.ASSET_FIELDS)
    filter_text = (
        f"Per entity set (seed 8.5). Asset sets: {_filter_text(odata_model.ASSET_FILTERS)} (`in` for a list of "
        "equalities), joined by and, or, not. Time series sets: "
        f"{_filter_text(odata_model.TIMESERIES_FILTERS)}; aggregate sets: "
        f"{_filter_text(odata_model.AGGREGATE_FILTERS)} (aggregationType one of "
        f"{', '.join(odata_model.AGGREGATION_TYPES)}; intervalUnit one of {', '.join(limits.DATAHUB_INTERVAL_UNITS)})"
        "; both joined by `and` only. Times as `YYYY-MM-DDTHH:mm:ss` (UTC) or any ISO-8601 time. Another property "
        f"or operator: 400 naming it (`target`); functions other than {', '.join(STRING_FUNCTIONS)}, lambdas, "
        "arithmetic: 501")
    return [
        query("$filter", string(minLength=1), filter_text, empty_ok=False, example="name eq 'Pump 1'"),
        query("$orderby", string(minLength=1), f"`property [asc|desc]`, comma-separated. Asset sets: {asset_sort}; "
                                               "time series and aggregate sets: timestamp only", empty_ok=False,
              example="name desc"),
        query("$top", integer(minimum=0, maximum=ODATA_MAX_INTEGER), "At most this many entities", empty_ok=False),
        query("$skip", integer(minimum=0, maximum=ODATA_MAX_INTEGER), "Skip this many entities first",
              empty_ok=False),
        query("$count", string(enum=["true", "false"]),
              "`true` adds `@odata.count`. Time series and aggregate sets count at most the "
              f"{limits.DATAHUB_MAX_OBJECTS} objects a query sees (as MindSphere's counts are wrong) unless the "
              "server runs with --odata-exact-counts", empty_ok=False),
        query("$select", string(minLength=1), "Comma-separated properties of the set, or `*`", empty_ok=False,
              example="assetId,name"),
        query("$expand", string(minLength=1), "Comma-separated navigation properties of an asset set (`Base_{Set}` "
                                              "on a derived type's set, `Derived_{Set}` on its base type's) or `*`, "
                                              "each optionally with `($select=p1,p2)`; other nested options: 501",
              empty_ok=False, example="Base_CNGTurbine($select=name)"),
        query("$skiptoken", integer(minimum=0, maximum=ODATA_MAX_INTEGER),
              "Server-driven paging: as `@odata.nextLink` carries it",
              empty_ok=False),
        query("$format", string(pattern=r"^([Jj][Ss][Oo][Nn]|application/json(;[^,]*)?)$"),
              "JSON only: `json`, or `application/json` with format parameters (`odata.metadata=minimal|full|none`; "
              "a parameter not served: 406)", empty_ok=False),
    ]


def service_paths() -> dict:
    common = COMMON_STATUSES
    contract = {**path("contract", string(**CONTRACT_NAME), "A published contract of the token's tenant (404 "
                                                             "otherwise)"), "example": "plant"}
    resource_text = ("`{Set}`, `{Set}/$count`, `{Set}('key')` (or `{Set}(assetId='key')`), "
                     "`{Set}('key')/{Navigation}` (asset sets), each navigation path also with `/$count`. Its "
                     "slashes are path separators (sent as is or as %2F)")
    resource = {**path("resource", string(minLength=1), resource_text), "examples": {
        "entitySet": {"value": "Site"}, "count": {"value": "Site/$count"}}}
    query_resource = {**path("resource", string(pattern=r"^[^\x00]+/\$query$"),
                             "`{Set}/$query` (POST on `$batch`: 501; on any other resource: 405)"),
                      "example": "Site/$query"}
    max_version = header("OData-MaxVersion", string(pattern=r"^[ \t]*(0*([4-9]|[1-9][0-9]+)(\.[0-9]+)?)?[ \t]*$"),
                         "A version such as 4.0 (4.0 or above: empty is ignored); below 4.0, or not a version: 400")
    odata_version = {"OData-Version": ref("ODataVersion", "headers")}
    json_text = f"`{JSON_TYPE}`"
    service_ok = ok(f"The entity sets of the contract ({json_text})", ref("ODataServiceDocument"), odata_version)
    resource_ok = {"description": f"An entity set's page or one entity as JSON ({json_text}); `/$count` as a "
                                  "plain number",
                   "headers": odata_version, "content": {
                       "application/json": {"schema": {"anyOf": [ref("ODataCollection"), ref("ODataEntityAnswer")]}},
                       "text/plain": {"schema": string(pattern=r"^\d+$")}}}
    metadata_ok = ok("The contract's CSDL (as downloaded)", string(), odata_version, media="application/xml")
    no_target = {"description": "A single-valued navigation property without a target (e.g. the parent of an "
                                "asset whose parent is not of that set)", "headers": odata_version}
    read_notes = {400: "A bad query option (named in `target`), key literal or OData-MaxVersion",
                  404: "No published contract of that name in the tenant, or no such entity set, entity or "
                       "navigation property",
                  406: "Accept (or $format) asks for what is not served: no JSON, or JSON with "
                       "IEEE754Compatible=true, another charset or an unknown format parameter",
                  501: "$batch, a system query option the service does not implement ($search, $apply, ...), a "
                       "filter function or expression it does not implement, navigation from a time series or "
                       "aggregate entity"}
    read_only = {405: "The services are read-only (seed 8.1): Allow: GET, HEAD (plus POST on `.../$query`)"}

    def odata(endpoint, method, summary, responses, *statuses, notes=None, **kw):
        op_id = f"odata.{endpoint}" if method == "get" else f"odata.{endpoint}.{method}"
        return operation(op_id, summary, {**responses, **errors("odata", *common, *statuses, notes=notes)},
                         tag=TAG, security=BEARER, **kw)

    def writes(endpoint: str, methods, target: str) -> dict:
        return {method: odata(endpoint, method, f"Refused: {target} is read-only", {}, 405, notes=read_only,
                              params=[contract, *([resource] if endpoint == "resource" else [])])
                for method in methods}

    return {
        "/odata/{contract}/": {
            "get": odata("service_document", "get", "The service document: the contract's entity sets",
                         {"200": service_ok}, 400, 404, 406, params=[contract, max_version],
                         notes={**read_notes, 400: "A bad OData-MaxVersion",
                                404: "No published contract of that name in the tenant"}),
            **writes("service_document", ("post", "put", "patch", "delete"), "the service"),
        },
        "/odata/{contract}/$metadata": {
            "get": odata("metadata", "get", "The service's metadata document: the contract's CSDL",
                         {"200": metadata_ok}, 400, 404, 406, params=[contract, max_version],
                         notes={**read_notes, 400: "A bad OData-MaxVersion",
                                404: "No published contract of that name in the tenant",
                                406: "Accept excludes application/xml"},
                         description="No query option applies to it (any is ignored)."),
            **writes("metadata", ("post", "put", "patch", "delete"), "the metadata document"),
        },
        "/odata/{contract}/{resource}": {
            "get": odata("resource", "get", "An entity set, a count, an entity or a navigation property",
                         {"200": resource_ok, "204": no_target}, 400, 404, 406, 501, notes=read_notes,
                         params=[contract, resource, max_version, *odata_options()],
                         description=f"Asset sets read without $top answer pages of {limits.DATAHUB_ASSET_PAGE} with "
                                     "`@odata.nextLink`. Time series and aggregate sets see at most "
                                     f"{limits.DATAHUB_MAX_OBJECTS} objects per query (seed 8.6): $skip and $top "
                                     "page inside that window, without a nextLink. Options the service does not "
                                     f"implement answer 501: {', '.join(NOT_IMPLEMENTED)}."),
            "post": odata("resource", "post", "`{Set}/$query`: the query options in the body instead of the URL",
                          {"200": resource_ok, "204": no_target}, 400, 404, 405, 406, 413, 415, 501,
                          notes={**read_notes, **read_only,
                                 415: "The body of `$query` must be text/plain"},
                          params=[contract, query_resource, max_version],
                          body=json_body(string(pattern=r"^[\x00-\x7f]*$", example="$filter=name eq 'Pump 1'&$top=10"),
                                         media="text/plain", description="The query options as in a query "
                                                                         "string (percent-encoded ASCII)")),
            **writes("resource", ("put", "patch", "delete"), "the service"),
        },
    }


def service_fragment(admin_token: bool = False) -> dict:
    return make_fragment(service_paths(), service_schemas())
