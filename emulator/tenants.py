"""Tenant lifecycle: create, list, reset and delete a tenant with everything every API keeps for it.

One server holds many tenants; the default one comes from the settings and is created on first
start. A tenant is born with the start state each API declares (``Api.seed_tenant``: Asset Management's core
types and root asset, whose id is derived from the seed and the tenant name, so the sandbox's root id is the
same on every machine), and loses every API's tables (``Api.tables``) when it is reset or deleted. This module
sits above the API packages and reads them only through the registry it is given.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from emulator import errors
from emulator.apis import Registry
from emulator.auth.clients import ClientSpec, add_client, hash_secret, verify_secret
from emulator.store import Store, TenantScope, model_changed_here, tenant_gate
from emulator.store import models as t
from emulator.store.engine import fast_execute, fast_execute_each, fast_rows, fast_scalar
from emulator.times import iso_seconds

DEFAULT_TIMEZONE = "Europe/Berlin"
# built once: every write, delete and reset takes this lock first, and building a statement cost more than running it
_LOCK = select(t.tenants).where(t.tenants.c.name == bindparam("name")).with_for_update()
_LOCK_NAME = "SELECT name FROM tenants WHERE name = ?"  # the lock of a removal, which needs no more of the row
_INSERT_TENANT = ("INSERT INTO tenants (name, created_at, root_asset_id, default_timezone, instance) "
                  "VALUES (?, ?, ?, ?, ?)")


def root_asset_id(seed: int, tenant: str) -> str:
    return hashlib.sha256(f"{seed}:{tenant}:root".encode()).hexdigest()[:32]


def new_instance() -> str:
    """A tenant instance: new when a tenant is created or its clients change (see ``tenants.instance``)."""
    return uuid.uuid4().hex


class Tenants:
    """The lifecycle verbs over one store, for the APIs of one registry."""

    def __init__(self, store: Store, registry: Registry):
        self.store = store
        self.registry = registry
        self.tables = registry.tenant_tables(t.CORE_TENANT_TABLES)
        # a removal's statements, the tenant's row last: every per-test tenant runs them
        self._removal = [f"DELETE FROM {table.name} WHERE tenant_id = ?" for table in self.tables]
        self._removal.append("DELETE FROM tenants WHERE name = ?")

    def create(self, name: str, clients: list[ClientSpec], *, now: float, seed: int,
               timezone: str = DEFAULT_TIMEZONE, before=None, instance: str | None = None) -> dict:
        """Create a tenant, its clients and every API's start state in one transaction. ``before``: called with
        the transaction's connection first (the control plane removes a test run's earlier tenants there);
        ``instance``: the new tenant's (:func:`new_instance` unless given: a token signed meanwhile is bound to
        it)."""
        root_id = root_asset_id(seed, name)
        try:
            with self.store.transaction(write=True) as conn:  # through the driver: every test's tenant is made here
                if before is not None:
                    before(conn)
                if fast_scalar(conn, "SELECT name FROM tenants WHERE name = ?", name) is not None:
                    raise errors.Conflict(f"tenant {name!r} already exists")
                ids = [c.client_id for c in clients]
                marks = ", ".join("?" * len(ids))
                taken = fast_rows(conn, f"SELECT client_id FROM clients WHERE client_id IN ({marks}) ORDER BY 1", *ids)
                if taken:
                    raise errors.Conflict(f"clientId {taken[0][0]!r} is already used by a tenant")
                row = {"name": name, "created_at": now, "root_asset_id": root_id, "default_timezone": timezone,
                       "instance": instance or new_instance()}
                fast_execute(conn, _INSERT_TENANT, *row.values())
                scope = TenantScope(conn, name)
                for c in clients:
                    add_client(scope, c, now)
                self._seed(scope, row, now)
        except IntegrityError:
            raise errors.Conflict(f"tenant {name!r} or one of its clientIds already exists") from None
        return {"name": name, "rootAssetId": root_id, "instance": row["instance"],
                "clients": [{"clientId": c.client_id, "clientSecret": c.client_secret, "scopes": list(c.scopes)}
                            for c in clients]}

    def _seed(self, scope: TenantScope, row, now: float) -> None:
        for api in self.registry.apis:
            if api.seed_tenant is not None:
                api.seed_tenant(scope, row, now)

    def ensure(self, name: str, client: ClientSpec, *, now: float, seed: int) -> None:
        """Create the default tenant on first start; keep its client's secret in step with the settings."""
        with self.store.transaction(write=True) as conn:
            tenant = conn.scalar(select(t.tenants.c.name).where(t.tenants.c.name == name))
            owner = conn.scalar(select(t.clients.c.tenant_id).where(t.clients.c.client_id == client.client_id))
            if tenant is not None:
                scope = TenantScope(conn, name)
                if owner == name:
                    known = conn.scalar(select(t.clients.c.secret_hash)
                                        .where(t.clients.c.client_id == client.client_id))
                    if not verify_secret(client.client_secret, known):  # a new secret: earlier tokens are revoked
                        scope.update(t.clients, t.clients.c.client_id == client.client_id,
                                     secret_hash=hash_secret(client.client_secret))
                        conn.execute(update(t.tenants).where(t.tenants.c.name == name).values(instance=new_instance()))
                elif owner is None:
                    add_client(scope, client, now)
                else:
                    raise errors.Conflict(f"client {client.client_id!r} belongs to tenant {owner!r}")
                return
        with contextlib.suppress(errors.Conflict):  # another worker created it at the same moment
            self.create(name, [client], now=now, seed=seed)

    def list(self) -> list[dict]:
        with self.store.transaction() as conn:
            tenants = conn.execute(select(t.tenants).order_by(t.tenants.c.name)).mappings().all()
            clients = conn.execute(select(t.clients).order_by(t.clients.c.client_id)).mappings().all()
        by_tenant: dict[str, list] = {}
        for c in clients:
            by_tenant.setdefault(c["tenant_id"], []).append({"clientId": c["client_id"], "scopes": c["scopes"]})
        return [{"name": row["name"], "rootAssetId": row["root_asset_id"], "createdAt": iso_seconds(row["created_at"]),
                 "clients": by_tenant.get(row["name"], [])} for row in tenants]

    def lock(self, conn, name: str, *, row: bool = True):
        """The tenant's row (with ``row=False`` its name alone, through the driver), locked for the rest of the
        caller's transaction (PostgreSQL: FOR UPDATE; SQLite's write transactions are serial already): taken first,
        before any of its data, as every writer takes it first (emulator.context), so a delete or reset under writes
        never deadlocks and leaves no orphan. The tenant's gate comes first, alone: writers that came after it wait
        for it (emulator.store.scope.tenant_gate)."""
        tenant_gate(conn, name, exclusive=True)
        if not row:
            return fast_scalar(conn, _LOCK_NAME + (" FOR UPDATE" if conn.dialect.name == "postgresql" else ""), name)
        return conn.execute(_LOCK, {"name": name}).mappings().first()

    def remove(self, conn, name: str) -> bool:
        """Delete a tenant and all its data, in the caller's transaction; False when there is no such tenant."""
        if self.lock(conn, name, row=False) is None:
            return False
        fast_execute_each(conn, self._removal, name)
        return True

    def reset(self, conn, names: list[str] | None, *, keep: str, now: float) -> None:
        """Back to the start state, in the caller's transaction: the named tenants keep their clients and
        lose their data; with no names, every tenant but ``keep`` is removed and ``keep`` is reset."""
        if names is None:
            for name in conn.scalars(select(t.tenants.c.name).where(t.tenants.c.name != keep)
                                     .order_by(t.tenants.c.name)).all():  # one lock order
                self.remove(conn, name)
            names = [keep]
        for name in names:
            row = self.lock(conn, name)
            if row is None:
                raise errors.NotFound(f"tenant {name!r} does not exist")
            scope = TenantScope(conn, name)
            model_changed_here(scope)  # from here on: what this transaction derives from its types is not kept
            for table in self.tables:
                if table is not t.clients:
                    scope.delete(table)
            self._seed(scope, row, now)
            conn.execute(update(t.tenants).where(t.tenants.c.name == name)
                         .values(model_version=t.tenants.c.model_version + 1))
