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

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from emulator import errors, limits
from emulator.assets import core_types
from emulator.auth import scopes as scope_names
from emulator.store import models as t
from emulator.store.engine import Store
from emulator.store.scope import TenantScope
from emulator.timeseries.records import iso

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
        client_id = item["clientId"] if item.get("clientId") is not None else f"{tenant}-{secrets.token_hex(4)}"
        secret = item["clientSecret"] if item.get("clientSecret") is not None else secrets.token_urlsafe(24)
        wanted = item.get("scopes", list(scope_names.ALL_SCOPES))
        if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
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
    if not isinstance(name, str) or not re.fullmatch(limits.TENANT_NAME_PATTERN, name):
        raise errors.InvalidBody(
            "name must be a tenant name: 2-20 lowercase letters and digits, starting with a letter"
        )
    return name


def create_tenant(store: Store, name: str, clients: list[ClientSpec], *, now: float, seed: int,
                  timezone: str = "Europe/Berlin") -> dict:
    """Create a tenant, its clients and its root asset in one transaction."""
    root_id = root_asset_id(seed, name)
    try:
        with store.transaction(write=True) as conn:
            if conn.scalar(select(t.tenants.c.name).where(t.tenants.c.name == name)) is not None:
                raise errors.Conflict(f"tenant {name!r} already exists")
            ids = [c.client_id for c in clients]
            taken = conn.scalars(select(t.clients.c.client_id).where(t.clients.c.client_id.in_(ids))).all()
            if taken:
                raise errors.Conflict(f"clientId {taken[0]!r} is already used by a tenant")
            conn.execute(insert(t.tenants).values(name=name, created_at=now, root_asset_id=root_id,
                                                  default_timezone=timezone))
            scope = TenantScope(conn, name)
            for c in clients:
                _add_client(scope, c, now)
            _seed_start(scope, root_id, timezone, now)
    except IntegrityError:
        raise errors.Conflict(f"tenant {name!r} or one of its clientIds already exists") from None
    return {"name": name, "rootAssetId": root_id,
            "clients": [{"clientId": c.client_id, "clientSecret": c.client_secret, "scopes": list(c.scopes)}
                        for c in clients]}


def _seed_start(scope: TenantScope, root_id: str, timezone: str, now: float) -> None:
    """A tenant's start state: the core asset types and the root asset."""
    core_types.seed(scope, now)
    scope.insert(t.assets, asset_id=root_id, name=scope.tenant, type_id=limits.ROOT_ASSET_TYPE_ID, timezone=timezone,
                 twin_type="performance", variables=[], aspects=[], etag=0, created_at=now)


def reset(conn, names: list[str] | None, *, keep: str, now: float) -> None:
    """Back to the start state, in the caller's transaction: the named tenants keep their clients and
    lose their data; with no names, every tenant but ``keep`` is removed and ``keep`` is reset."""
    if names is None:
        for name in conn.scalars(select(t.tenants.c.name).where(t.tenants.c.name != keep)).all():
            remove_tenant(conn, name)
        names = [keep]
    for name in names:
        row = conn.execute(select(t.tenants).where(t.tenants.c.name == name)).mappings().first()
        if row is None:
            raise errors.NotFound(f"tenant {name!r} does not exist")
        scope = TenantScope(conn, name)
        for table in t.TENANT_TABLES:
            if table is not t.clients:
                scope.delete(table)
        _seed_start(scope, row["root_asset_id"], row["default_timezone"], now)
        conn.execute(update(t.tenants).where(t.tenants.c.name == name)
                     .values(model_version=t.tenants.c.model_version + 1))


def remove_tenant(conn, name: str) -> None:
    """Delete a tenant and all its data, in the caller's transaction."""
    scope = TenantScope(conn, name)
    for table in t.TENANT_TABLES:
        scope.delete(table)
    conn.execute(delete(t.tenants).where(t.tenants.c.name == name))


def _add_client(scope: TenantScope, client: ClientSpec, now: float) -> None:
    scope.insert(t.clients, client_id=client.client_id, secret_hash=hash_secret(client.client_secret),
                 scopes=list(client.scopes), created_at=now)


def ensure_tenant(store: Store, name: str, client: ClientSpec, *, now: float, seed: int) -> None:
    """Create the default tenant on first start; keep its client's secret in step with the settings."""
    with store.transaction(write=True) as conn:
        tenant = conn.scalar(select(t.tenants.c.name).where(t.tenants.c.name == name))
        owner = conn.scalar(select(t.clients.c.tenant_id).where(t.clients.c.client_id == client.client_id))
        if tenant is not None:
            scope = TenantScope(conn, name)
            if owner == name:
                scope.update(t.clients, t.clients.c.client_id == client.client_id,
                             secret_hash=hash_secret(client.client_secret))
            elif owner is None:
                _add_client(scope, client, now)
            else:
                raise errors.Conflict(f"client {client.client_id!r} belongs to tenant {owner!r}")
            return
    with contextlib.suppress(errors.Conflict):  # another worker created it at the same moment
        create_tenant(store, name, [client], now=now, seed=seed)


def list_tenants(store: Store) -> list[dict]:
    with store.transaction() as conn:
        tenants = conn.execute(select(t.tenants).order_by(t.tenants.c.name)).mappings().all()
        clients = conn.execute(select(t.clients).order_by(t.clients.c.client_id)).mappings().all()
    by_tenant: dict[str, list] = {}
    for c in clients:
        by_tenant.setdefault(c["tenant_id"], []).append({"clientId": c["client_id"], "scopes": c["scopes"]})
    return [{"name": row["name"], "rootAssetId": row["root_asset_id"], "createdAt": iso(int(row["created_at"] * 1000)),
             "clients": by_tenant.get(row["name"], [])} for row in tenants]


def delete_tenant(store: Store, name: str) -> None:
    with store.transaction(write=True) as conn:
        if conn.scalar(select(t.tenants.c.name).where(t.tenants.c.name == name)) is None:
            raise errors.NotFound(f"tenant {name!r} does not exist")
        remove_tenant(conn, name)


def authenticate(store: Store, client_id: str, secret: str):
    """The client row with these credentials, or None (compared in constant time)."""
    with store.transaction() as conn:
        client = conn.execute(select(t.clients).where(t.clients.c.client_id == client_id)).mappings().first()
    if client is None or not hmac.compare_digest(client["secret_hash"], hash_secret(secret)):
        return None
    return client
