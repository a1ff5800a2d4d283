"""Agent Management's tables: each row carries its ``tenant_id`` and is reached only through ``TenantScope``.

An agent's id is its asset's id (``entity_id``) and, once onboarded, its OAuth ``client_id``
(mindconnect-api.md 1, "One id, three names"); its data source configuration is one row beside it.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, Integer, String, Table

from emulator.store.models import metadata, tenant_column

agents = Table(
    "agents", metadata,
    Column("agent_id", String(36), primary_key=True),
    tenant_column(),
    Column("name", String(128), nullable=False),
    Column("security_profile", String(32), nullable=False),
    Column("entity_id", String(36), nullable=False),
    Column("etag", Integer, nullable=False),
    Column("boarding_status", String(16), nullable=False),  # NOT_ONBOARDED | ONBOARDING | ONBOARDED
    Column("iat_jti", String(32)),  # the current initial access token (None: none generated yet)
    Column("iat_expires", Float),
    Column("iat", String(4096)),
    Column("created_at", Float, nullable=False),
    Index("ux_agents_tenant_name", "tenant_id", "name", unique=True),
)

data_source_configurations = Table(
    "agents_dsc", metadata,
    Column("agent_id", String(36), ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
    tenant_column(),
    Column("id", String(36), nullable=False),
    Column("etag", Integer, nullable=False),
    Column("configuration_id", String(36)),
    Column("data_sources", JSON, nullable=False),
)


clients = Table(
    "agents_clients", metadata,
    Column("client_id", String(36), ForeignKey("agents.agent_id", ondelete="CASCADE"), primary_key=True),
    tenant_column(),
    Column("secret", String(128)),  # SHARED_SECRET: the HMAC key of its client assertions (None for RSA_3072)
    Column("jwks", JSON),  # RSA_3072: the registered public keys
    Column("secret_expires_at", Integer, nullable=False),
    Column("rat_jti", String(32), nullable=False),  # the registration access token issued last
    Column("rat_prev_jti", String(32)),  # the one presented in the latest rotation (still accepted)
    Column("token_issued_at", Float),  # the last agent token's issue time (GET .../status)
    Column("online_since", Float),
)

used_assertions = Table(
    "agents_assertions", metadata,
    Column("jti", String(128), primary_key=True),
    tenant_column(),
    Column("client_id", String(36), nullable=False),
    Column("expires_at", Float, nullable=False),
)

TABLES = (used_assertions, clients, data_source_configurations, agents)  # children first: the order of deletion
