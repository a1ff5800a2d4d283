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
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 8  # of the core tables; each API versions its own (emulator.apis.Api.schema_version)
INDEXES = 1  # their generation: one more when an index is added, so a database made before gets it as it starts

metadata = MetaData()


def tenant_column(index: bool = False) -> Column:
    """The ``tenant_id`` of a table of tenant data: every row names its tenant and goes when the tenant goes."""
    return Column("tenant_id", ForeignKey("tenants.name", ondelete="CASCADE"), nullable=False, index=index)

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
    # A new value each time a tenant of this name is created, or its clients are replaced (snapshot import) or
    # change their secret: tokens are bound to it (rev_sig), and per-process caches are keyed by it, so nothing
    # of a deleted tenant's reaches its successor of the same name.
    Column("instance", String(32), nullable=False),
    # +1 on every change of the tenant's aspect or asset types: the key of the per-process type cache.
    Column("model_version", Integer, nullable=False, server_default="0"),
)

# An OAuth client of a tenant: a technical user (service credentials) or an app (token manager).
clients = Table(
    "clients", metadata,
    Column("client_id", String(128), primary_key=True),
    tenant_column(index=True),
    Column("secret_hash", String(160), nullable=False),  # emulator.auth.clients.hash_secret
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

# The core's tables of tenant data, children before parents (the order a tenant's data is deleted in); each API's
# own come from its descriptor (emulator.apis.Api.tables), deleted before these.
CORE_TENANT_TABLES = [rate_windows, clients]
