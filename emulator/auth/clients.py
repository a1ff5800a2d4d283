"""OAuth clients of a tenant (technical users and apps): their specification, secrets and authentication.

A client belongs to one tenant; client ids are unique across the server, which is how the token endpoint
finds the tenant (the real service reads it from a host name the emulator does not have).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
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
    generated: bool = False  # the secret is the emulator's, 192 random bits: nothing to stretch


HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 1000  # salted and stretched, yet a tenant with a client is still made in a few milliseconds
# Stretching makes guessing a weak secret from a leaked hash slow; a generated secret (192 random bits) cannot be
# guessed, so its hash takes one iteration (a fifth of a millisecond less per test's tenant).
GENERATED_ITERATIONS = 1


# Secrets this process has hashed or verified, by their stored hash (a digest of the secret, never the secret): a
# token request for a client made or checked here a moment ago (every test's fresh tenant) costs no second PBKDF2.
# A hash changes with the secret, so a new secret is never taken for the old one.
_KNOWN: OrderedDict[str, bytes] = OrderedDict()
_KNOWN_MAX = 10_000
_known_lock = threading.Lock()


def _remember(stored: str, secret: str) -> None:
    with _known_lock:
        _KNOWN[stored] = hashlib.sha256(secret.encode("utf-8")).digest()
        while len(_KNOWN) > _KNOWN_MAX:
            _KNOWN.popitem(last=False)


def _derive(secret: str, salt: str, iterations: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt.encode("ascii"), iterations).hex()
    return f"{HASH_SCHEME}${iterations}${salt}${digest}"


def hash_secret(secret: str, salt: str | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """``pbkdf2_sha256$iterations$salt$hash``: a store that leaks gives no secret back, and two clients with
    the same secret do not share a hash."""
    stored = _derive(secret, salt or secrets.token_hex(16), iterations)
    _remember(stored, secret)
    return stored


def verify_secret(secret: str, stored: str | None) -> bool:
    """Does ``secret`` match the stored hash? Compared in constant time; a malformed hash matches nothing."""
    with _known_lock:
        known = _KNOWN.get(stored or "")
    if known is not None:
        return hmac.compare_digest(hashlib.sha256(secret.encode("utf-8")).digest(), known)
    scheme, _, rest = (stored or "").partition("$")
    iterations, _, rest = rest.partition("$")
    salt, _, _ = rest.partition("$")
    if scheme != HASH_SCHEME or not iterations.isdigit() or not 1 <= int(iterations) <= 1_000_000 or not salt:
        return False
    if not hmac.compare_digest(_derive(secret, salt, int(iterations)), stored):
        return False
    _remember(stored, secret)
    return True


def parse_client_specs(tenant: str, raw, *, default_scopes: tuple[str, ...]) -> list[ClientSpec]:
    """The ``clients`` of a tenant request (their forms and known scopes checked: the control plane's contract,
    TenantInput); generate what is omitted (all scopes by default). Each clientId once."""
    specs = []
    for item in [{}] if raw is None else raw:
        client_id = item["clientId"] if item.get("clientId") is not None else f"{tenant}-{secrets.token_hex(4)}"
        given = item.get("clientSecret")
        secret = given if given is not None else secrets.token_urlsafe(24)
        specs.append(ClientSpec(client_id, secret, tuple(item.get("scopes", default_scopes)), given is None))
    if len({s.client_id for s in specs}) != len(specs):
        raise errors.InvalidBody("clients: the same clientId appears twice")
    return specs


def add_client(scope: TenantScope, client: ClientSpec, now: float) -> None:
    iterations = GENERATED_ITERATIONS if client.generated else HASH_ITERATIONS
    scope.insert(clients, client_id=client.client_id, secret_hash=hash_secret(client.client_secret,
                                                                              iterations=iterations),
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
