"""Tenants and their OAuth clients: create, list, delete, authenticate.

One server holds many tenants; the default one comes from the settings and is created on first
start. A tenant is born with a root asset whose id is derived from the seed and the tenant name,
so the sandbox's root id is the same on every machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from emulator import errors, limits
from emulator.auth import scopes as scope_names
from emulator.store.engine import Store
from emulator.store.models import TENANT_TABLES, Asset, Client, Tenant
from emulator.store.scope import TenantScope

CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def root_asset_id(seed: int, tenant: str) -> str:
    return hashlib.sha256(f"{seed}:{tenant}:root".encode()).hexdigest()[:32]


def parse_client_specs(tenant: str, raw) -> list[ClientSpec]:
    """Validate the ``clients`` of a tenant request; generate what is omitted."""
    if raw is None:
        raw = [{}]
    if not isinstance(raw, list) or not raw:
        raise errors.InvalidBody("clients must be a non-empty array of {clientId, clientSecret, scopes}")
    specs = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise errors.InvalidBody(f"clients[{i}] must be an object")
        client_id = item.get("clientId") or f"{tenant}-{secrets.token_hex(4)}"
        secret = item.get("clientSecret") or secrets.token_urlsafe(24)
        wanted = item.get("scopes", list(scope_names.ALL_SCOPES))
        if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
            raise errors.InvalidBody(f"clients[{i}].clientId must be 1-128 letters, digits or ._:@-")
        if not isinstance(secret, str) or not 1 <= len(secret) <= 256:
            raise errors.InvalidBody(f"clients[{i}].clientSecret must be a string of 1-256 characters")
        if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
            raise errors.InvalidBody(f"clients[{i}].scopes must be an array of strings")
        bad = scope_names.unknown(wanted)
        if bad:
            raise errors.InvalidBody(
                f"clients[{i}].scopes: unknown scope {bad[0]!r}; known: {', '.join(sorted(scope_names.KNOWN))}"
            )
        specs.append(ClientSpec(client_id, secret, tuple(wanted)))
    if len({s.client_id for s in specs}) != len(specs):
        raise errors.InvalidBody("clients: the same clientId appears twice")
    return specs


def validate_name(name) -> str:
    if not isinstance(name, str) or not re.match(limits.TENANT_NAME_PATTERN, name):
        raise errors.InvalidBody(
            "name must be a tenant name: 2-20 lowercase letters and digits, starting with a letter"
        )
    return name


def create_tenant(store: Store, name: str, clients: list[ClientSpec], *, now: float, seed: int,
                  timezone: str = "Europe/Berlin") -> dict:
    """Create a tenant, its clients and its root asset in one transaction."""
    root_id = root_asset_id(seed, name)
    try:
        with store.session(write=True) as s:
            if s.get(Tenant, name) is not None:
                raise errors.Conflict(f"tenant {name!r} already exists")
            taken = s.scalars(select(Client.client_id).where(Client.client_id.in_([c.client_id for c in clients])))
            taken = list(taken)
            if taken:
                raise errors.Conflict(f"clientId {taken[0]!r} is already used by a tenant")
            s.add(Tenant(name=name, created_at=now, root_asset_id=root_id, default_timezone=timezone))
            s.flush()
            scope = TenantScope(s, name)
            for c in clients:
                scope.add(Client(client_id=c.client_id, secret_hash=hash_secret(c.client_secret),
                                 scopes=list(c.scopes), created_at=now))
            scope.add(Asset(asset_id=root_id, name=name, type_id=limits.ROOT_ASSET_TYPE_ID, timezone=timezone,
                            twin_type="performance", variables=[], aspects=[], etag=0, created_at=now,
                            description=None, external_id=None, parent_id=None, location=None))
    except IntegrityError:
        raise errors.Conflict(f"tenant {name!r} or one of its clientIds already exists") from None
    return {"name": name, "rootAssetId": root_id,
            "clients": [{"clientId": c.client_id, "clientSecret": c.client_secret, "scopes": list(c.scopes)}
                        for c in clients]}


def ensure_tenant(store: Store, name: str, client: ClientSpec, *, now: float, seed: int) -> None:
    """Create the default tenant on first start; keep its client's secret in step with the settings."""
    with store.session(write=True) as s:
        tenant = s.get(Tenant, name)
        existing = s.get(Client, client.client_id)
        if tenant is not None and existing is not None and existing.tenant_id == name:
            existing.secret_hash = hash_secret(client.client_secret)
            return
        if tenant is not None:
            if existing is None:
                TenantScope(s, name).add(Client(client_id=client.client_id,
                                                secret_hash=hash_secret(client.client_secret),
                                                scopes=list(client.scopes), created_at=now))
                return
            raise errors.Conflict(f"client {client.client_id!r} belongs to tenant {existing.tenant_id!r}")
    with contextlib.suppress(errors.Conflict):  # another worker created it at the same moment
        create_tenant(store, name, [client], now=now, seed=seed)


def list_tenants(store: Store) -> list[dict]:
    with store.session() as s:
        tenants = s.scalars(select(Tenant).order_by(Tenant.name)).all()
        clients = s.scalars(select(Client).order_by(Client.client_id)).all()
    by_tenant: dict[str, list] = {}
    for c in clients:
        by_tenant.setdefault(c.tenant_id, []).append({"clientId": c.client_id, "scopes": c.scopes})
    return [{"name": t.name, "rootAssetId": t.root_asset_id, "createdAt": t.created_at,
             "clients": by_tenant.get(t.name, [])} for t in tenants]


def delete_tenant(store: Store, name: str) -> None:
    with store.session(write=True) as s:
        tenant = s.get(Tenant, name)
        if tenant is None:
            raise errors.NotFound(f"tenant {name!r} does not exist")
        scope = TenantScope(s, name)
        for model in TENANT_TABLES:
            scope.delete_all(model)
        s.delete(tenant)


def tenant_exists(store: Store, name: str) -> bool:
    with store.session() as s:
        return s.scalar(select(Tenant.name).where(Tenant.name == name)) is not None


def authenticate(store: Store, client_id: str, secret: str) -> Client | None:
    """The client with these credentials, or None (compared in constant time)."""
    with store.session() as s:
        client = s.get(Client, client_id)
    if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
        return None
    return client
