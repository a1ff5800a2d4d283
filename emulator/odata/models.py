"""Data Hub's table: the contracts Asset Manager saves and publishes."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, PrimaryKeyConstraint, String, Table, Text

from emulator.store.models import metadata, tenant_column

# Data Hub contracts (what Asset Manager's contract wizard saves): ``model`` is the service model built
# from the asset types when the contract was saved, so the downloaded CSDL and the served $metadata
# stay one document whatever happens to the types later.
contracts = Table(
    "contracts", metadata,
    tenant_column(),
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

TABLES = (contracts,)
