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
AM_MAX_PAGE_SIZE = 200  # [C] AMOV: limited to 200 since 2024

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

# --- Requests ----------------------------------------------------------------------------------------
MAX_JSON_DEPTH = 64  # [?] nesting of a JSON body; MindSphere's is not published, none of its shapes nests past ~6
MAX_REQUEST_BYTES = 16 * 1024 * 1024  # [?] gateway limit not published; APIs apply their own below it
TS_MAX_PUT_BYTES = 1024 * 1024  # [C] JAVA1: maximum size of a write payload is 1 MB


def as_table() -> dict:
    """All public constants of this module, for the capabilities endpoint."""
    return {name: value for name, value in globals().items() if name.isupper()}
