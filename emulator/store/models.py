"""SQLAlchemy models: the emulator's whole state.

Every table that holds tenant data has a ``tenant_id`` column and is listed in
``TENANT_TABLES``; :class:`emulator.store.scope.TenantScope` is the only way services reach them,
so no query can forget its tenant.
"""

from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1


class Base(DeclarativeBase):
    pass


class SchemaMeta(Base):
    """Key/value facts about the database itself; ``schema_version`` guards against old files."""

    __tablename__ = "schema_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class Tenant(Base):
    __tablename__ = "tenants"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[float] = mapped_column(Float)
    root_asset_id: Mapped[str] = mapped_column(String(32))
    default_timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")


class Client(Base):
    """An OAuth client of a tenant: a technical user (service credentials) or an app (token manager)."""

    __tablename__ = "clients"
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.name", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class SigningKey(Base):
    """An RSA key pair of the token service. The highest ``seq`` not retired signs new tokens."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    # Virtual time after which tokens signed with this key can no longer be valid; null while current.
    valid_until: Mapped[float | None] = mapped_column(Float, nullable=True)


class Asset(Base):
    __tablename__ = "assets"
    asset_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.name", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    type_id: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64))
    twin_type: Mapped[str] = mapped_column(String(16), default="performance")
    location: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    variables: Mapped[list] = mapped_column(JSON, default=list)
    aspects: Mapped[list] = mapped_column(JSON, default=list)
    etag: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    deleted: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        Index("ix_assets_tenant_name", "tenant_id", "name"),
        Index("ix_assets_tenant_parent", "tenant_id", "parent_id"),
    )


# Tables of tenant data, children before parents (the order a tenant's data is deleted in).
TENANT_TABLES = [Asset, Client]
