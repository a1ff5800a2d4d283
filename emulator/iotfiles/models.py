"""IoT File Service's table: each row carries its ``tenant_id`` and is reached only through ``TenantScope``."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, String, Table

from emulator.store.models import metadata, tenant_column

files = Table(
    "iot_files", metadata,
    Column("file_id", String(32), primary_key=True),
    tenant_column(),
    Column("asset_id", String(32), nullable=False),  # the entity the file belongs to: deleted with it
    Column("path", String(1024), nullable=False),  # the directory, with a trailing slash ("" at the root)
    Column("name", String(1024), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("type", String(1024), nullable=False),
    Column("description", String(1024)),
    Column("timestamp", String(40)),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("updated_by", String(255), nullable=False),
    Column("etag", Integer, nullable=False),
    Index("ix_iot_files_entity_path", "tenant_id", "asset_id", "path", "name", unique=True),
)

uploads = Table(  # an unfinished multipart upload: what ?upload=start said
    "iot_file_uploads", metadata,
    Column("upload_id", String(32), primary_key=True),
    tenant_column(),
    Column("asset_id", String(32), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("name", String(1024), nullable=False),
    Column("type", String(1024), nullable=False),
    Column("description", String(1024)),
    Column("timestamp", String(40)),
    Column("if_match", Integer),
    Column("created", Float, nullable=False),
    Index("ix_iot_file_uploads_entity_path", "tenant_id", "asset_id", "path", "name", unique=True),
)

parts = Table(
    "iot_file_parts", metadata,
    Column("part_key", String(32), primary_key=True),
    tenant_column(),
    Column("asset_id", String(32), nullable=False),
    Column("upload_id", String(32), nullable=False),
    Column("part_no", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created", Float, nullable=False),
    Index("ix_iot_file_parts_upload", "tenant_id", "upload_id", "part_no", unique=True),
)

TABLES = (parts, uploads, files)  # children before parents
