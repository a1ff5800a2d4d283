"""The token service's RSA keys: created once, kept in the store, rotated on demand.

Keys live in the database so that tokens survive a restart and every worker process signs and
verifies with the same keys. ``/token_keys`` lists the current key first (Siemens' SDK only looks
at ``keys[0]``), then retired keys until the last token they signed has expired.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from emulator import limits
from emulator.store.engine import Store, fast_rows
from emulator.store.models import signing_keys


@dataclass
class LoadedKey:
    kid: str
    seq: int
    public_pem: str
    private_pem: str
    valid_until: float | None
    _public: object = None
    _private: object = None

    @property
    def public_key(self):
        if self._public is None:
            self._public = serialization.load_pem_public_key(self.public_pem.encode())
        return self._public

    @property
    def private_key(self):
        if self._private is None:
            self._private = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        return self._private

    def jwk(self) -> dict:
        numbers = self.public_key.public_numbers()
        return {"kty": "RSA", "alg": limits.TOKEN_ALGORITHM, "use": "sig", "kid": self.kid,
                "n": _b64int(numbers.n), "e": _b64int(numbers.e), "value": self.public_pem}


def _b64int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _new_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=limits.RSA_KEY_BITS)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


_KEY_STATE = "SELECT kid, valid_until FROM signing_keys ORDER BY seq DESC"  # what a rotation changes


class PendingPair:
    """The first key pair, generated in a thread while the rest of the server starts (OpenSSL releases the GIL
    while it searches primes): the 30-150 ms of a first start's key (every in-memory test server's) overlap the
    schema and the routes instead of following them."""

    def __init__(self):
        self._pair: tuple[str, str] | None = None
        self._thread = threading.Thread(target=self._make, name="mdsp-first-key", daemon=True)
        self._thread.start()

    def _make(self) -> None:
        self._pair = _new_pair()

    def get(self) -> tuple[str, str]:
        self._thread.join()
        return self._pair or _new_pair()  # the thread failed: make it here, and fail here if it must


class KeyRing:
    def __init__(self, store: Store, token_lifetime: int):
        self.store = store
        self.token_lifetime = token_lifetime
        self._lock = threading.Lock()
        self._keys: dict[str, LoadedKey] = {}
        self._order: list[str] = []  # kids, newest first
        self._stale = True  # read the keys again before the next signature (another process rotated them)

    def ensure(self, now: float, pending: PendingPair | None = None) -> None:
        """Create the first key (``key-id-1``, as real tokens carry) if the store has none: ``pending``'s, when one
        is being made already."""
        with self.store.transaction() as conn:
            have = conn.scalar(select(func.count()).select_from(signing_keys))
        if not have:
            private, public = pending.get() if pending is not None else _new_pair()
            try:
                with self.store.transaction(write=True) as conn:
                    conn.execute(insert(signing_keys).values(kid=limits.FIRST_KEY_ID, seq=1, private_pem=private,
                                                             public_pem=public, created_at=now, valid_until=None))
            except IntegrityError:
                pass  # another process made it first
        self.reload()

    def reload(self, conn=None) -> None:
        """Read the keys again; ``conn``: a transaction already open (a request's), else one of its own."""
        if conn is not None:  # an in-memory store has one connection: a second transaction would fail
            rows = conn.execute(select(signing_keys).order_by(signing_keys.c.seq.desc())).all()
        else:
            with self.store.transaction() as own:
                rows = own.execute(select(signing_keys).order_by(signing_keys.c.seq.desc())).all()
        with self._lock:
            keys = {}
            for r in rows:
                old = self._keys.get(r.kid)
                if old is not None:
                    old.valid_until = r.valid_until
                    keys[r.kid] = old
                else:
                    keys[r.kid] = LoadedKey(r.kid, r.seq, r.public_pem, r.private_pem, r.valid_until)
            self._keys = keys
            self._order = [r.kid for r in rows]
            self._stale = False

    def forget(self) -> None:
        """The keys may have changed elsewhere (a rotation bumps the control plane's version, which every process
        sees on its next request): read them again before the next signature."""
        self._stale = True

    def current(self) -> LoadedKey:
        """The key that signs now: looked at again only after :meth:`forget` (a read per token cost more than the
        signature), and read whole only when a key came or went."""
        if self._stale:
            with self.store.transaction() as own:
                state = fast_rows(own, _KEY_STATE)
                if [kid for kid, _ in state] != self._order:
                    self.reload(own)
                else:
                    with self._lock:
                        for kid, valid_until in state:
                            self._keys[kid].valid_until = valid_until
                        self._stale = False
        with self._lock:
            for kid in self._order:
                if self._keys[kid].valid_until is None:
                    return self._keys[kid]
        raise RuntimeError("the token service has no current signing key")

    def find(self, kid: str, conn=None) -> LoadedKey | None:
        key = self._keys.get(kid)
        if key is None:
            self.reload(conn)  # another worker may have rotated
            key = self._keys.get(kid)
        return key

    def published(self, now: float) -> list[dict]:
        """The JWKs of ``/token_keys``: current key first, then retired keys still in use."""
        current = self.current()
        with self._lock:
            others = [self._keys[k] for k in self._order if k != current.kid]
        return [current.jwk()] + [k.jwk() for k in others if k.valid_until is not None and k.valid_until > now]

    def rotate(self, now: float, announce=None) -> LoadedKey:
        """A new current key; the old one stays listed until its last token expires. ``announce(conn)`` runs in the
        same write transaction (the control plane's version bump, which makes every other process read the keys
        again): the new key and the news of it commit together."""
        private, public = _new_pair()
        with self.store.transaction(write=True) as conn:
            seq = (conn.scalar(select(func.max(signing_keys.c.seq))) or 0) + 1
            conn.execute(update(signing_keys).where(signing_keys.c.valid_until.is_(None))
                         .values(valid_until=now + self.token_lifetime))
            conn.execute(insert(signing_keys).values(kid=f"key-id-{seq}", seq=seq, private_pem=private,
                                                     public_pem=public, created_at=now, valid_until=None))
            if announce is not None:
                announce(conn)
        self.forget()
        return self.current()
