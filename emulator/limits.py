"""Every real MindSphere limit the emulator enforces, one named constant each, with its source.

Reading this file is how a reader checks the emulator against MindSphere. Source keys refer to
``shared/reference/mindsphere-api.md`` section 0 ([C] confirmed, [D] derived, [?] our decision,
also listed in the README's fidelity notes). ``GET /_emulator/capabilities`` publishes them all.
"""

# --- OAuth (mindsphere-api.md 1a/1b) -------------------------------------------------------------
TOKEN_LIFETIME_SECONDS = 1800  # [C] expires_in 1800, exp - iat = 1800 in the TMS sample token
TOKEN_ALGORITHM = "RS256"  # [C] header {"alg":"RS256","kid":"key-id-1"}
FIRST_KEY_ID = "key-id-1"  # [C] kid of the TMS sample token
RSA_KEY_BITS = 2048  # [?] size not published; 2048 is the UAA default

# --- Tenants and ids ---------------------------------------------------------------------------------
TENANT_NAME_PATTERN = r"^[a-z][a-z0-9]{1,19}$"  # [?] lowercase letters and digits, as tenant names appear
CLIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"  # [?] technical users' ids: {tenant}-..., app ids with : @
APP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"  # [?] technical token manager appName: not published
APP_VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"  # [?] technical token manager appVersion: 1.0.0-style
ASSET_ID_PATTERN = r"^[a-f0-9]{32}$"  # [C] NODE checkAssetId, root asset id test
ROOT_ASSET_TYPE_ID = "core.basicenterprise"  # [?] commonly the root's type

# --- Asset Management v3 (mindsphere-api.md 2b) ------------------------------------------------------
AM_DEFAULT_PAGE_SIZE = 10  # [C] PAGE, NODE test asserts page.size == 10
AM_MAX_PAGE_SIZE = 200  # [C] AMOV: lists of assets and types limited to 200 since 2024; larger sizes lowered to it [D]
AM_FILE_MAX_BYTES = 5 * 1024 * 1024  # [C] AMSPEC POST/PUT /files: "cannot be more than 5 MB"
# [C] AMSPEC file name: maxLength 255, no * & % whitespace / \. Whitespace is spelled out: Python's \s and
# JSON Schema's (ECMA-262) differ (\x1c-\x1f and \x85 only in Python's, \ufeff only in ECMA's); the union refuses
# what either calls whitespace, so the route and the contract agree.
AM_FILE_NAME_PATTERN = (r"^[^*&%/\\\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
                        r"\u205f\u3000\ufeff]{1,255}$")
AM_MAX_SUB_PAGE_SIZE = 2000  # [D] an asset's aspects and variables: Spring's default cap; the SDK's @sanity sends 2000

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"  # [?] variable and aspect names: the pattern is not published
TYPE_NAME_PATTERN = r"^[A-Za-z0-9_]{1,128}$"  # [C] type ids are A-Z a-z 0-9 _ . ({tenant}.{Name})
STRING_MAX_LENGTH = 255  # [C] TSOV, NODE: STRING length at most 255
BIG_STRING_MAX_LENGTH = 100_000  # [C] TSOV, NODE: BIG_STRING length at most 100000
ASSET_NAME_MAX = 128  # [?] not published; the SDK's samples stay far below
DESCRIPTION_MAX = 2048  # [?]
EXTERNAL_ID_MAX = 255  # [?]
FILTER_MAX_CHARS = 16_384  # [?] the gateway's URL limit is not published

# --- IoT Time Series v3 (mindsphere-api.md 3, 5) -------------------------------------------------------
TS_MAX_LIMIT = 2000  # [C] spec default 2000, every client uses 2000; above it we answer 400 [?]
TS_DEFAULT_LIMIT = 2000  # [D] QX, spec default
TS_MULTI_MAX_PAIRS = 5  # [C] TSSPEC: at most 5 asset-aspect pairs
TS_MULTI_MAX_BYTES = 100 * 1024  # [C] TSSPEC: at most 100 KB
TS_MULTI_MAX_RECORDS = 100  # [C] TSSPEC: at most 100 records
TS_LATEST_VALUE_MAX_AGE_DAYS = 90  # [D] QX: latestValue looks back at most 90 days
TS_QC_MAX = 2**32 - 1  # [?] quality codes are OPC UA status codes (uint32); 0 = good
ROLLUP_SIZES = (120, 3600, 86400)  # [C] pre-calculated aggregates: 2 minutes, 1 hour, 1 day

# --- Data Hub contracts and their OData services (seed sections 2.3.3, 8; mindsphere-api.md 6b) -------
DATAHUB_MAX_OBJECTS = 2000  # [C] seed 8.6: at most 2000 time series / aggregate objects per query
DATAHUB_AGGR_NAME_MAX = 200  # [C] seed 9.2: publishing fails (500) past it; AGGR_{AspectType}_{AspectName}_{AssetType}
DATAHUB_INTERVAL_UNITS = ("days", "minutes", "seconds")  # [C] seed 8.4: "day" is an error
DATAHUB_ASSET_PAGE = 1000  # [?] server-driven page of an asset set read without $top (nextLink follows)
DATAHUB_SECONDS_MAX_RANGE_S = 86_400  # [?] seconds intervals are computed from raw records: one day at most
DATAHUB_ENVIRONMENTS = ("Sandbox", "production", "non-production")  # [C] mindsphere-api.md 6b (CONTR)
CONTRACT_NAME_MAX = 128  # [?]
ODATA_FILTER_MAX_DEPTH = 32  # [?] parentheses in a $filter; Mendix's filters nest a few levels
DATAHUB_SECONDS_MAX_RECORDS = 100_000  # [?] raw records one seconds-aggregate query computes from (about half a
# second of one worker's time): one tenant's query must not hold a worker while others wait

# --- Event Management v3 (events-files-api.md 1) -------------------------------------------------------
EM_DEFAULT_PAGE_SIZE = 20  # [C] SDK comment: size default 20
EM_MAX_PAGE_SIZE = 100  # [C] SDK comment: size at most 100 (above: 400 [?], as Asset Management)
EM_SEARCH_WINDOW_DAYS = 7  # [C] SDK comment: without a timestamp condition only the last 7 days are searched
EM_TYPE_TTL_DEFAULT_DAYS = 35  # [C] SDK comment: an event type's ttl defaults to 35 days
EM_TYPE_TTL_MAX_DAYS = 3650  # [?] not published; ten years
EM_TYPE_MAX_DEPTH = 4  # [C] EVO: inheritance up to 4 levels (the standard event type is level 1 [?])
EM_TYPE_MAX_FIELDS = 100  # [?] not published
EM_TYPE_ID_MAX = 128  # [?] as asset type ids
EM_TYPE_NAME_MAX = 128  # [?]
EM_FIELD_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"  # [?] the pattern is not published (as variable names)
EM_STRING_MAX = 255  # [?] code, source, correlationId and STRING custom fields: not published
EM_DESCRIPTION_MAX = 2048  # [?] not published
EM_FILTER_MAX_DEPTH = 16  # [?] nesting of and/or in a filter: not published
EM_CREATE_JOB_MAX_EVENTS = 50  # [C] SDK comment: a create job takes at most 50 events
EM_JOB_KEPT_SECONDS = 2 * 3600  # [C] SDK comment: a job can be queried for 2 hours
EM_DELETE_JOB_MAX_EVENTS = 1_000_000  # [C] SDK comment: a delete job handles at most 1,000,000 events

# --- IoT File Service v3 (events-files-api.md 2) -------------------------------------------------------
IOTFILE_MAX_LIMIT = 500  # [C] FFL: at most (and by default) 500 files per search
IOTFILE_MAX_OFFSET = 10_000  # [C] FFL: offset limited to 10,000
IOTFILE_MAX_BYTES = 16 * 1024 * 1024  # [?] a single upload: not published (the SDK sends at most 8 MiB chunks)
IOTFILE_PATH_MAX = 1024  # [?] a file's path: not published
IOTFILE_HEADER_MAX = 1024  # [?] description and type headers: not published
IOTFILE_MIN_PART_BYTES = 5 * 1024 * 1024  # [C] FMP: each part but the last at least 5 MB (the SDK: 5 MiB)
IOTFILE_MAX_PARTS = 1000  # [C] FMP: part numbers 1 to 1000
IOTFILE_MAX_MULTIPART_BYTES = 256 * 1024 * 1024  # [?] an emulator's bound on one multipart file (kept in the store)

# --- Requests ----------------------------------------------------------------------------------------
MAX_JSON_DEPTH = 64  # [?] nesting of a JSON body; MindSphere's is not published, none of its shapes nests past ~6
MAX_REQUEST_BYTES = 16 * 1024 * 1024  # [?] gateway limit not published; APIs apply their own below it
TS_MAX_PUT_BYTES = 1024 * 1024  # [C] JAVA1: maximum size of a write payload is 1 MB


def as_table() -> dict:
    """All public constants of this module, for the capabilities endpoint."""
    return {name: value for name, value in globals().items() if name.isupper()}

# --- Agent Management v3 (mindconnect-api.md 2b/2c) ---------------------------------------------------
AGENT_NAME_MAX = 128  # [C] AMSPEC Agent.name maxLength 128
AGENT_ID_MAX = 36  # [C] AMSPEC Agent.id / entityId / clientId maxLength 36
AGENT_SECURITY_PROFILES = ("SHARED_SECRET", "RSA_3072")  # [C] AMSPEC AgentUpdate.securityProfile
AGENT_ASSET_TYPE_ID = "core.mclib"  # [C] TEST test-agent-setup-utils typeId "core.mclib" (UI: MindConnectLib)
AGENT_DEFAULT_PAGE_SIZE = 20  # [C] AMSPEC GET /agents size default 20
AGENT_MAX_PAGE_SIZE = 2000  # [?] not published; the SDK asks mappings with size=2000, the same bound here
AGENT_FILTER_MAX_LENGTH = 4096  # [?] not published; a bound on the JSON filter's text
INITIAL_ACCESS_TOKEN_SECONDS = 7 * 24 * 3600  # [C] AMOV: the initial access token is valid 7 days
DSC_ID_MAX = 36  # [C] AMSPEC DataSourceConfiguration.configurationId maxLength 36
DATA_SOURCE_NAME_MAX = 64  # [C] AMSPEC DataSource.name maxLength 64
DSC_DESCRIPTION_MAX = 256  # [C] AMSPEC DataSource/DataPoint.description maxLength 256
DATA_POINT_ID_MAX = 36  # [C] AMSPEC DataPoint.id maxLength 36
DATA_POINT_NAME_MAX = 64  # [C] AMSPEC DataPoint.name maxLength 64
DATA_POINT_UNIT_MAX = 32  # [C] AMSPEC DataPoint.unit maxLength 32
DATA_POINT_TYPES = ("INT", "LONG", "DOUBLE", "BOOLEAN", "STRING", "BIG_STRING", "TIMESTAMP")  # [C] AMSPEC + SDK/MCSPEC
DSC_MAX_DATA_SOURCES = 1000  # [?] not published; a bound so one body cannot hold a worker
DSC_MAX_DATA_POINTS = 10_000  # [?] not published; total data points of one configuration
AGENT_TOKEN_SECONDS = 3600  # [C] TEST agent-3: expires_in == 3600 for agent tokens
AGENT_TOKEN_SCOPES = ("mdsp:core:DefaultAgent",)  # [C] TEST agent-3 decoded agent token scope
AGENT_SECRET_SECONDS = 7 * 24 * 3600  # [?] client_secret_expires_at horizon not published; 7 days
AGENT_ASSERTION_AUDIENCE = "southgate"  # [C] SDK aud ["southgate"], MCL aud "southgate"
AGENT_ASSERTION_SKEW_SECONDS = 0  # [?] allowed clock skew of a client assertion: none (strict)
AGENT_ASSERTION_MAX_LENGTH = 8192  # [?] a bound on a client assertion's text

# --- MindConnect API v3 (mindconnect-api.md 4, 5) -----------------------------------------------------
EXCHANGE_MAX_BYTES = 10 * 1024 * 1024  # [C] MCSPEC "Maximum size of exchange body is 10MBs" (413 payLoadTooLarge)
EXCHANGE_MAX_TUPLES = 1000  # [?] not published; a bound on the tuples of one multipart body
MAPPING_PROPERTY_MAX = 256  # [C] MCSPEC Mapping.propertySetName / propertyName maxLength 256
MAPPING_DEFAULT_PAGE_SIZE = 20  # [C] MCSPEC GET /dataPointMappings size default 20
MAPPING_MAX_PAGE_SIZE = 2000  # [?] not published; the SDK's GetDataMappings asks size=2000
DIAGNOSTIC_MAX_AGENTS = 5  # [C] MCSPEC "Maximum 5 agents per tenant can be activated"
DIAGNOSTIC_MESSAGE_MAX = 4096  # [C] MCSPEC DiagnosticInformation.message maxLength 4096
DIAGNOSTIC_KEPT_MESSAGES = 1000  # [?] retention not published; the newest messages of an agent that are kept
RECOVERABLE_DROP_REASON_MAX = 1024  # [C] MCSPEC RecoverableRecords.dropReason maxLength 1024
RECOVERABLE_KEPT_PER_AGENT = 100  # [?] retention not published; the newest records of an agent that are kept
RECOVERABLE_LINK_SECONDS = 900  # [?] a downloadLink's lifetime (MCSPEC: a pre-signed URL; its expiry unpublished)
RECOVERABLE_LINK_MAX = 4096  # [?] a bound on the signed token of a downloadLink
