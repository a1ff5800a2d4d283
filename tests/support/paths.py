"""The API paths the test modules share, named once.

The test modules used to define these again each (``B``, ``AM``, ``TS``, ``ROOT``...), under other names for
the same path and, for the time series API, under one name for two paths. Here each is written once, so that a
test reads ``api.get(ROOT)`` and a path cannot drift between modules. Paths that are themselves the subject of
a test (a malformed or traversing path, a request line as an attacker writes it, a documented path template)
and the control plane's single-use paths (faults, clock, journal...) stay written out where they are used.
"""

from __future__ import annotations

# --- Asset Management (mdsp.core.am.*) --------------------------------------------------------------------
ASSET_MANAGEMENT = "/api/assetmanagement/v3"
ASSETS = f"{ASSET_MANAGEMENT}/assets"
ROOT = f"{ASSETS}/root"
ASPECT_TYPES = f"{ASSET_MANAGEMENT}/aspecttypes"
ASSET_TYPES = f"{ASSET_MANAGEMENT}/assettypes"

# --- IoT Time Series and its aggregates (iot.tim.*, iot.tsa.*) -------------------------------------------
TIMESERIES = "/api/iottimeseries/v3/timeseries"
AGGREGATES_V3 = "/api/iottsaggregates/v3/aggregates"
AGGREGATES_V4 = "/api/iottsaggregates/v4/aggregates"

# --- Data Hub: the OData services of published contracts (``/odata/<contract>/``) ------------------------
ODATA = "/odata"

# --- tokens --------------------------------------------------------------------------------------------------
TOKEN = "/oauth/token"  # the client credentials grant
TOKEN_KEYS = "/token_keys"  # the public keys that verify the tokens
TECHNICAL_TOKEN = "/api/technicaltokenmanager/v3/oauth/token"  # Technical Token Manager

# --- the emulator's own control plane ------------------------------------------------------------------------
CONTROL_PLANE = "/_emulator"
TENANTS = f"{CONTROL_PLANE}/tenants"
CONTRACTS = f"{CONTROL_PLANE}/contracts"  # Data Hub contracts, administered with the tenant's token
DASHBOARD = f"{CONTROL_PLANE}/ui"  # the sandbox dashboard: HTML pages for people, not an API
OPENAPI = f"{CONTROL_PLANE}/openapi.json"  # the OpenAPI document of every route above

# --- Event Management, IoT File Service, Agent Management ---------------------------------------------------
EVENT_MANAGEMENT = "/api/eventmanagement/v3"
EVENTS = f"{EVENT_MANAGEMENT}/events"
IOT_FILES = "/api/iotfile/v3/files"
AGENTS = "/api/agentmanagement/v3/agents"
MINDCONNECT = "/api/mindconnect/v3"
