"""Event Management's tables: each row carries its ``tenant_id`` and is reached only through ``TenantScope``."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, String, Table

from emulator.store.models import metadata, tenant_column

event_types = Table(
    "em_event_types", metadata,
    Column("type_id", String(128), primary_key=True),
    tenant_column(),
    Column("name", String(128), nullable=False),
    Column("parent_id", String(128), nullable=False),
    Column("ttl", Integer, nullable=False),
    Column("scope", String(16), nullable=False),
    Column("fields", JSON, nullable=False),  # its own fields only; the ancestors' are inherited when read
    Column("etag", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

events = Table(
    "em_events", metadata,
    Column("event_id", String(36), primary_key=True),
    tenant_column(),
    Column("asset_id", String(32), nullable=False),  # the event's entityId: deleted with its asset
    Column("type_id", String(128), nullable=False),
    Column("correlation_id", String(255)),
    Column("ts", BigInteger, nullable=False),  # epoch milliseconds of ``timestamp``
    Column("timestamp", String(40), nullable=False),  # in UTC with milliseconds, as answered
    Column("values", JSON, nullable=False),  # the standard and custom fields
    Column("etag", Integer, nullable=False),
    Column("seq", Float, nullable=False),  # creation time: orders a history's events of one timestamp
    Index("ix_em_events_tenant_ts", "tenant_id", "ts"),
    Index("ix_em_events_tenant_type", "tenant_id", "type_id"),
)

jobs = Table(  # createEventsJobs and deleteEventsJobs: run at once, kept to be read for 2 hours
    "em_jobs", metadata,
    Column("job_id", String(36), primary_key=True),
    tenant_column(),
    Column("kind", String(8), nullable=False),  # create | delete
    Column("state", String(24), nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

TABLES = (jobs, events, event_types)  # children before parents: the order a tenant's data is deleted in
ASSET_TABLES = (events,)
