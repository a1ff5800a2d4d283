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
from emulator.store.models import clients, tenants


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 1000  # salted and stretched, yet a tenant with a client is still made in a few milliseconds


def hash_secret(secret: str, salt: str | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """``pbkdf2_sha256$iterations$salt$hash``: a store that leaks gives no secret back, and two clients with
    the same secret do not share a hash."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt.encode("ascii"), iterations).hex()
    return f"{HASH_SCHEME}${iterations}${salt}${digest}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Does ``secret`` match the stored hash? Compared in constant time; a malformed hash matches nothing."""
    scheme, _, rest = (stored or "").partition("$")
    iterations, _, rest = rest.partition("$")
    salt, _, _ = rest.partition("$")
    if scheme != HASH_SCHEME or not iterations.isdigit() or not 1 <= int(iterations) <= 1_000_000 or not salt:
        return False
    return hmac.compare_digest(hash_secret(secret, salt, int(iterations)), stored)


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


_CLIENT = select(clients, tenants.c.instance).join(tenants, tenants.c.name == clients.c.tenant_id)
_NO_CLIENT = hash_secret("", "0" * 32)  # an unknown client costs the same hash as a known one


def authenticate(store: Store, client_id: str, secret: str):
    """The client row with these credentials and its tenant's ``instance``, or None (compared in constant time)."""
    with store.transaction() as conn:
        client = conn.execute(_CLIENT.where(clients.c.client_id == client_id)).mappings().first()
    if not verify_secret(secret, client["secret_hash"] if client is not None else _NO_CLIENT) or client is None:
        return None
    return client
