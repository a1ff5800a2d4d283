"""Asset Management's tables: assets, aspect types and asset types (with each tenant's copy of the core types).

Every row carries its ``tenant_id``; services reach them only through :class:`emulator.store.TenantScope`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

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
    # a type's live assets in id order: a Data Hub set's page is read from the index alone, not sorted (added to a
    # database made before it by Store.init_schema)
    Index("ix_assets_tenant_type_live", "tenant_id", "type_id", "deleted", "asset_id"),
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

# Files of Asset Management (``/files``, research sdk-parity.md 4): the bytes as uploaded and their metadata;
# "uploaded files are only visible for the uploader tenant".
files = Table(
    "am_files", metadata,
    Column("id", String(32), primary_key=True),
    tenant_column(),
    Column("name", String(255), nullable=False),
    Column("original_file_name", String(255)),
    Column("description", String(255)),
    Column("scope", String(16), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("content", Text, nullable=False),  # base64 of the bytes: snapshots are JSON
    Column("uploaded", Float, nullable=False),
    Column("last_modified", Float, nullable=False),
    Column("etag", Integer, nullable=False),
    Index("ix_am_files_tenant_name", "tenant_id", "name"),
)

# File assignments (``.../fileAssignments/{key}``): a key of an asset ("asset") or an asset type ("type")
# names a file; a type's assignments are inherited by its subtypes and assets, key by key.
file_assignments = Table(
    "am_file_assignments", metadata,
    tenant_column(),
    Column("holder", String(8), nullable=False),
    Column("holder_id", String(128), nullable=False),
    Column("key", String(128), nullable=False),
    Column("file_id", String(32), nullable=False),
    PrimaryKeyConstraint("tenant_id", "holder", "holder_id", "key"),
    Index("ix_am_file_assignments_file", "tenant_id", "file_id"),
)

# children before parents: the order a tenant's data is deleted in
TABLES = (file_assignments, assets, asset_types, aspect_types, files)
