"""Asset Management's tables: assets, aspect types and asset types (with each tenant's copy of the core types).

Every row carries its ``tenant_id``; services reach them only through :class:`emulator.store.TenantScope`.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from emulator.store.models import metadata, tenant_column

assets = Table(
    "assets", metadata,
    Column("asset_id", String(32), primary_key=True),
    tenant_column(),
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
    tenant_column(index=True),
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
    tenant_column(),
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

TABLES = (assets, asset_types, aspect_types)  # children before parents: the order a tenant's data is deleted in
