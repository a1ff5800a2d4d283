"""Issue and verify access tokens: RS256 JWTs shaped like MindSphere's (mindsphere-api.md 1b).

Verification checks the header (only RS256, a known ``kid``), the signature, and the times against
the virtual clock. A signature is checked once per token: later requests with the same token hit a
bounded per-process cache and only have their times re-checked, so a verified request costs a
dictionary look-up, not an RSA operation.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jwt

from emulator import errors, limits
from emulator.auth import scopes as scope_names
from emulator.auth.keys import KeyRing
from emulator.clock import Clock


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature checked out: its claims and its scopes with role names expanded."""

    claims: dict
    scopes: frozenset[str]

    @property
    def tenant(self):
        return self.claims.get("ten")


def revocation_signature(client_id: str, instance: str) -> str:
    """UAA's ``rev_sig``: tokens whose signature no longer matches their client and tenant are revoked. Here it
    binds a token to its tenant's instance, so a re-created tenant, a snapshot import that replaces its clients,
    or a new client secret makes earlier tokens answer 401."""
    return hashlib.sha256(f"{client_id}:{instance}".encode()).hexdigest()[:8]


def _sign(key, claims: dict, headers: dict) -> str:
    return jwt.encode(claims, key.private_key, algorithm=limits.TOKEN_ALGORITHM, headers=headers)


_SIGNERS: dict[int, ThreadPoolExecutor] = {}


def _signer() -> ThreadPoolExecutor:
    """The process's signer thread (one per process id: a worker forked from ``serve``'s master makes its own,
    since the master's thread does not exist in the child)."""
    pid = os.getpid()
    signer = _SIGNERS.get(pid)
    if signer is None:
        signer = _SIGNERS.setdefault(pid, ThreadPoolExecutor(1, thread_name_prefix="mdsp-signer"))
    return signer


class TokenService:
    def __init__(self, keyring: KeyRing, clock: Clock, lifetime: int, cache_size: int = 10_000,
                 roles: Mapping[str, tuple[str, ...]] | None = None):
        self.keyring = keyring
        self.roles = roles or {}  # role name -> the scopes it grants (the APIs' descriptors)
        self.clock = clock
        self.lifetime = lifetime
        self.cache_size = cache_size
        self._cache: OrderedDict[str, VerifiedToken] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, *, client_id: str, tenant: str, instance: str, scopes: list[str], base_url: str,
              grant_type: str = "client_credentials", extra: dict | None = None) -> dict:
        """A token response body: ``access_token, token_type, expires_in, scope, jti``. ``instance``: the tenant's
        (``tenants.instance``), which the token's ``rev_sig`` binds it to."""
        key, claims, headers = self._prepared(client_id, tenant, instance, scopes, base_url, grant_type, extra)
        return self._finish(_sign(key, claims, headers), claims, scopes)

    def issue_soon(self, *, client_id: str, tenant: str, instance: str, scopes: list[str],
                   base_url: str) -> Callable[[], dict]:
        """What :meth:`issue` answers, signed on the process's signer thread while the caller goes on (OpenSSL
        releases the GIL while it signs): call the result for the body. A tenant's creation with its first token
        (every test's fixtures) writes the tenant meanwhile, so the signature (0.7 ms, a third of a test's
        fixtures) no longer follows the transaction. A result never called hands out nothing (the token of a
        creation that failed is dropped)."""
        key, claims, headers = self._prepared(client_id, tenant, instance, scopes, base_url, "client_credentials",
                                              None)
        signed = _signer().submit(_sign, key, claims, headers)
        return lambda: self._finish(signed.result(), claims, scopes)

    def _prepared(self, client_id, tenant, instance, scopes, base_url, grant_type, extra):
        """(the current key, the claims, the JWT's header) of a token to sign."""
        key = self.keyring.current()
        now = int(self.clock.time())
        jti = uuid.uuid4().hex
        issuer = base_url.rstrip("/") + "/oauth/token"
        claims = {
            "jti": jti, "sub": client_id, "authorities": list(scopes), "scope": list(scopes),
            "client_id": client_id, "cid": client_id, "azp": client_id, "grant_type": grant_type,
            "rev_sig": revocation_signature(client_id, instance), "iat": now, "exp": now + self.lifetime, "iss": issuer,
            "zid": tenant, "ten": tenant, "aud": scope_names.audiences(scopes) + [client_id],
            "schemas": ["urn:siemens:mindsphere:iam:v1"], "cat": "client-token:v1",
        }
        claims.update(extra or {})
        headers = {"kid": key.kid, "jku": base_url.rstrip("/") + "/token_keys", "typ": "JWT"}
        return key, claims, headers

    def _finish(self, token: str, claims: dict, scopes: list[str]) -> dict:
        """The response body of a signed token, which this service now knows as verified."""
        self._known(token, VerifiedToken(claims, scope_names.expand(claims["scope"], self.roles)))
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime,
                "scope": " ".join(scopes), "jti": claims["jti"]}

    def verify(self, token: str, conn=None) -> VerifiedToken:
        """A valid token's claims; raises :class:`errors.Unauthorized` otherwise. ``conn``: the request's open
        transaction, through which an unknown ``kid`` reloads the keys."""
        with self._lock:
            verified = self._cache.get(token)
            if verified is not None:
                self._cache.move_to_end(token)
        if verified is None:
            claims = self._verify_signature(token, conn)
            verified = VerifiedToken(claims, scope_names.expand(claims["scope"], self.roles))
            self._known(token, verified)
        claims = verified.claims
        now = self.clock.time()
        problem = "Access token expired" if claims["exp"] <= now else (
            "Access token is not valid yet" if "nbf" in claims and claims["nbf"] > now + 1 else None)
        if problem:
            err = errors.Unauthorized(problem)
            err.tenant = claims["ten"]  # signed, only out of time: the journal may name its tenant
            raise err
        return verified

    def _known(self, token: str, verified: VerifiedToken) -> None:
        """Remember a token's verified claims: one this service signed (its first request skips the signature
        check, as a test's first request after its token does) or one whose signature was checked."""
        with self._lock:
            self._cache[token] = verified
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _verify_signature(self, token: str, conn=None) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise errors.Unauthorized("Malformed access token") from None
        if header.get("alg") != limits.TOKEN_ALGORITHM:
            raise errors.Unauthorized(f"Unsupported token algorithm {header.get('alg')!r}")
        kid = header.get("kid")
        key = self.keyring.find(kid, conn) if isinstance(kid, str) else None
        if key is None:
            raise errors.Unauthorized("Access token was signed with an unknown key")
        try:
            claims = jwt.decode(token, key.public_key, algorithms=[limits.TOKEN_ALGORITHM],
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                         "verify_aud": False, "require": ["exp", "iat", "ten", "scope"]})
        except jwt.InvalidSignatureError:
            raise errors.Unauthorized("Access token signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise errors.Unauthorized(f"Invalid access token: {exc}") from None
        if not _valid_claims(claims):
            raise errors.Unauthorized("Invalid access token claims")
        return claims


def _time_claim(value) -> bool:
    """A finite number: JSON's NaN and Infinity, strings and booleans are not times."""
    return isinstance(value, int | float) and not isinstance(value, bool) and (
        isinstance(value, int) or math.isfinite(value))


def _valid_claims(claims: dict) -> bool:
    """``exp``, ``iat`` (and ``nbf`` when present) are times; ``scope`` is a list of strings."""
    scope = claims.get("scope")
    return (all(_time_claim(claims[name]) for name in ("exp", "iat", "nbf") if name in claims)
            and isinstance(scope, list) and all(isinstance(item, str) for item in scope))
