"""The schema: SQLAlchemy Core tables, the emulator's whole state.

The data plane runs on Core (a ``Connection`` per request) rather than the ORM: a request does a
handful of small statements, and on these machines the ORM session's per-statement overhead was
larger than the rest of the request together (see benchmarks/bench_auth_get.py).

Every table that holds tenant data has a ``tenant_id`` column and is listed in ``TENANT_TABLES``;
:class:`emulator.store.scope.TenantScope` is the only way services reach them, so no query can
forget its tenant.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 7

metadata = MetaData()

schema_meta = Table(
    "schema_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

tenants = Table(
    "tenants", metadata,
    Column("name", String(20), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("root_asset_id", String(32), nullable=False),
    Column("default_timezone", String(64), nullable=False),
    # +1 on every change of the tenant's aspect or asset types: the key of the per-process type cache.
    Column("model_version", Integer, nullable=False, server_default="0"),
)

# An OAuth client of a tenant: a technical user (service credentials) or an app (token manager).
clients = Table(
    "clients", metadata,
    Column("client_id", String(128), primary_key=True),
    Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

# RSA key pairs of the token service. The highest seq with valid_until null signs new tokens;
# valid_until is the virtual time after which no token signed with a retired key can be valid.
signing_keys = Table(
    "signing_keys", metadata,
    Column("kid", String(64), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("private_pem", Text, nullable=False),
    Column("public_pem", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("valid_until", Float, nullable=True),
)

assets = Table(
    "assets", metadata,
    Column("asset_id", String(32), primary_key=True),
    Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("external_id", String(255)),
    Column("description", Text),
    Column("parent_id", String(32)),
    Column("type_id", String(128), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("twin_type", String(16), nullable=False),
    Column("location", JSON),
    Column("variables", JSON, nullable=False),
    Column("aspects", JSON, nullable=False),
    Column("etag", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("deleted", Float),
    Index("ix_assets_tenant_name", "tenant_id", "name"),
    Index("ix_assets_tenant_parent", "tenant_id", "parent_id", "name"),  # children by name: tree views
    Index("ix_assets_tenant_type", "tenant_id", "type_id"),
)

# Aspect types: ids are "{tenant}.{Name}", so unique across the server.
aspect_types = Table(
    "aspect_types", metadata,
    Column("id", String(128), primary_key=True),
    Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("category", String(16), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("description", Text),
    Column("variables", JSON, nullable=False),
    Column("etag", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Asset types, including each tenant's copy of the built-in core types (builtin = true), so that
# inheritance, filters and paging are all plain SQL over one table.
asset_types = Table(
    "asset_types", metadata,
    Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False),
    Column("id", String(128), nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", Text),
    Column("parent_type_id", String(128)),
    Column("instantiable", Boolean, nullable=False),
    Column("scope", String(16), nullable=False),
    Column("builtin", Boolean, nullable=False),
    Column("variables", JSON, nullable=False),
    Column("aspects", JSON, nullable=False),  # [{"name", "aspectTypeId"}]
    Column("etag", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("ix_asset_types_parent", "tenant_id", "parent_type_id"),
)

# Time series records: one row per asset, aspect and millisecond. ``body`` is the record exactly as
# GET answers it (JSON text with its "_time"), so a 2000-record read is a join of stored strings.
ts_records = Table(
    "ts_records", metadata,
    Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("asset_id", String(32), nullable=False),
    Column("aspect", String(64), nullable=False),
    Column("t", BigInteger, nullable=False),  # epoch milliseconds, UTC
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("asset_id", "aspect", "t"),
)

# Pre-computed aggregates of numeric variables, like MindSphere's 2-minute, 1-hour and 1-day ones, kept
# up to date on every write and delete. ``m2`` is the sum of squared deviations from the mean (Welford),
# which combines across buckets without the cancellation a sum of squares suffers.
ts_rollups = Table(
    "ts_rollups", metadata,
    Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("asset_id", String(32), nullable=False),
    Column("aspect", String(64), nullable=False),
    Column("variable", String(64), nullable=False),
    Column("size", Integer, nullable=False),  # bucket length in seconds: 120, 3600 or 86400 (local days)
    Column("start", BigInteger, nullable=False),  # bucket start, epoch ms
    Column("countgood", Integer, nullable=False),
    Column("countuncertain", Integer, nullable=False),
    Column("countbad", Integer, nullable=False),
    Column("sum", Float, nullable=False),
    Column("m2", Float, nullable=False),
    Column("minvalue", Float, nullable=False),
    Column("mintime", BigInteger, nullable=False),
    Column("maxvalue", Float, nullable=False),
    Column("maxtime", BigInteger, nullable=False),
    Column("firstvalue", Float, nullable=False),
    Column("firsttime", BigInteger, nullable=False),
    Column("lastvalue", Float, nullable=False),
    Column("lasttime", BigInteger, nullable=False),
    PrimaryKeyConstraint("asset_id", "aspect", "variable", "size", "start"),
)

# The control plane's shared state (one row): every worker compares ``version`` on each request and
# reloads the clock and the fault rules when it moved, so all workers act alike.
control = Table(
    "control", metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("clock", JSON, nullable=False),
    Column("quotas", JSON, nullable=False, default=list),  # [{"tenant", "api", "requests", "perSeconds"}]
)

# Requests counted per tenant, API and fixed window of the virtual clock, for the rate limits.
rate_windows = Table(
    "rate_windows", metadata,
    Column("tenant_id", String(20), nullable=False),
    Column("api", String(16), nullable=False),
    Column("window", BigInteger, nullable=False),  # window start, epoch seconds
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "api", "window"),
)

# Fault rules. ``matched``/``fired`` are counted in the store, atomically, so "times: 2" fails exactly
# two requests however many workers serve them.
fault_rules = Table(
    "fault_rules", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(20), index=True),  # null: every tenant
    Column("spec", JSON, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("fired", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
)

# The request journal, a ring buffer: entries beyond the cap are trimmed, oldest first.
journal = Table(
    "journal", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("tenant", String(20), index=True),
    Column("method", String(10), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("fault", String(64)),
    Column("request_body", Text),  # the first --journal-bodies characters, when that setting is on
    Column("response_body", Text),
)

# Data Hub contracts (what Asset Manager's contract wizard saves): ``model`` is the service model built
# from the asset types when the contract was saved, so the downloaded CSDL and the served $metadata
# stay one document whatever happens to the types later.
contracts = Table(
    "contracts", metadata,
    Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("version", String(64), nullable=False),
    Column("environment", String(32), nullable=False),
    Column("description", Text),
    Column("application_name", String(128), nullable=False),
    Column("publisher_email", String(254)),
    Column("asset_type_ids", JSON, nullable=False),
    Column("model", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("published_at", Float),
    PrimaryKeyConstraint("tenant_id", "name"),
)

# Tables of tenant data, children before parents (the order a tenant's data is deleted in).
TENANT_TABLES = [rate_windows, contracts, ts_rollups, ts_records, assets, asset_types, aspect_types, clients]
