"""OAuth clients of a tenant (technical users and apps): their specification, secrets and authentication.

A client belongs to one tenant; client ids are unique across the server, which is how the token endpoint
finds the tenant (the real service reads it from a host name the emulator does not have).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from emulator import errors
from emulator.store import Store, TenantScope
from emulator.store.models import clients


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_client_specs(tenant: str, raw, *, default_scopes: tuple[str, ...]) -> list[ClientSpec]:
    """The ``clients`` of a tenant request (their forms and known scopes checked: the control plane's contract,
    TenantInput); generate what is omitted (all scopes by default). Each clientId once."""
    specs = []
    for item in [{}] if raw is None else raw:
        client_id = item["clientId"] if item.get("clientId") is not None else f"{tenant}-{secrets.token_hex(4)}"
        secret = item["clientSecret"] if item.get("clientSecret") is not None else secrets.token_urlsafe(24)
        specs.append(ClientSpec(client_id, secret, tuple(item.get("scopes", default_scopes))))
    if len({s.client_id for s in specs}) != len(specs):
        raise errors.InvalidBody("clients: the same clientId appears twice")
    return specs


def add_client(scope: TenantScope, client: ClientSpec, now: float) -> None:
    scope.insert(clients, client_id=client.client_id, secret_hash=hash_secret(client.client_secret),
                 scopes=list(client.scopes), created_at=now)


def authenticate(store: Store, client_id: str, secret: str):
    """The client row with these credentials, or None (compared in constant time)."""
    with store.transaction() as conn:
        client = conn.execute(select(clients).where(clients.c.client_id == client_id)).mappings().first()
    if client is None or not hmac.compare_digest(client["secret_hash"], hash_secret(secret)):
        return None
    return client
