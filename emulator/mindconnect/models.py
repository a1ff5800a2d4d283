"""MindConnect API v3's tables: each row carries its ``tenant_id`` and is reached only through ``TenantScope``.

A mapping remembers the eTag of its agent's data source configuration at its creation: the real service deletes
every mapping without ``keepMapping`` when that configuration is updated (MCSPEC, "Data Point Mappings"), and
Agent Management sits below this package, so such a mapping counts as deleted once the eTag moved on (and is
purged at the agent's next mapping change) rather than being deleted from there.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, LargeBinary, String, Table

from emulator import limits
from emulator.store.models import metadata, tenant_column

mappings = Table(
    "mc_mappings", metadata,
    Column("mapping_id", String(36), primary_key=True),
    tenant_column(),
    Column("agent_id", String(36), nullable=False),
    Column("data_point_id", String(36), nullable=False),
    Column("entity_id", String(36), nullable=False),
    Column("property_set_name", String(limits.MAPPING_PROPERTY_MAX), nullable=False),
    Column("property_name", String(limits.MAPPING_PROPERTY_MAX), nullable=False),
    Column("keep_mapping", Boolean, nullable=False),
    Column("dsc_etag", Integer, nullable=False),  # the configuration's eTag when the mapping was made
    Column("created_at", Float, nullable=False),
    Index("ix_mc_mappings_agent", "tenant_id", "agent_id", "data_point_id"),
)

activations = Table(
    "mc_diagnostic_activations", metadata,
    Column("activation_id", String(36), primary_key=True),
    tenant_column(),
    Column("agent_id", String(36), nullable=False),
    Column("status", String(8), nullable=False),  # ACTIVE | INACTIVE
    Index("ux_mc_activations_agent", "tenant_id", "agent_id", unique=True),
)

messages = Table(
    "mc_diagnostic_messages", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    tenant_column(),
    Column("agent_id", String(36), nullable=False),
    Column("correlation_id", String(36), nullable=False),
    Column("severity", String(8), nullable=False),  # INFO | WARN | ERROR
    Column("source", String(32), nullable=False),
    Column("state", String(16), nullable=False),  # ACCEPTED | DROPPED | FINISHED ...
    Column("message", String(limits.DIAGNOSTIC_MESSAGE_MAX), nullable=False),
    Column("timestamp", Float, nullable=False),
    Index("ix_mc_messages_agent", "tenant_id", "agent_id", "seq"),
)

recoverable = Table(  # an exchange that dropped values, kept whole so that it can be downloaded and replayed
    "mc_recoverable_records", metadata,
    Column("record_id", String(36), primary_key=True),
    tenant_column(),
    Column("asset_id", String(36), nullable=False),  # the agent's id, which is its asset's: deleted with the asset
    Column("correlation_id", String(36), nullable=False),
    Column("request_time", Float, nullable=False),  # the virtual clock's, at the exchange
    Column("drop_reason", String(limits.RECOVERABLE_DROP_REASON_MAX), nullable=False),
    Column("content_type", String, nullable=False),  # the exchange's Content-Type, boundary and all
    Column("payload", LargeBinary, nullable=False),  # the exchange's body, byte for byte
    Index("ix_mc_recoverable_agent", "tenant_id", "asset_id", "request_time"),
)

TABLES = (recoverable, messages, activations, mappings)  # children before parents: the order a tenant's data goes
ASSET_TABLES = (recoverable,)
