"""Fault rules: make a matching request fail on purpose (a status in the API's own envelope, a delay,
a dropped connection), on a schedule (``times``, ``after``, ``probability`` with a ``seed``,
``ttlSeconds``).

A fault acts before the route runs, so a request failed by a fault wrote nothing. Whether the n-th
matching request fires is decided from the rule's counters in the store and, for ``probability``,
from a generator seeded with ``seed`` and n: the same rule fails the same requests on every run.
"""

from __future__ import annotations

import fnmatch
import random
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import insert, update

from emulator import errors
from emulator.store.models import fault_rules
from emulator.times import iso

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_DELAY_MS = 60_000


@dataclass(frozen=True)
class FaultRule:
    id: str
    tenant: str | None
    spec: dict
    expires_at: float | None
    method: str | None = None
    api: str | None = None
    path: re.Pattern | None = None  # the glob, compiled once: every request checks every rule
    created_at: float = 0.0

    @classmethod
    def from_row(cls, row) -> FaultRule:
        match = row["spec"]["match"]
        glob = match.get("path")
        return cls(row["id"], row["tenant"], row["spec"], row["expires_at"], match.get("method"), match.get("api"),
                   re.compile(fnmatch.translate(glob)) if glob else None, row["created_at"])

    def matches(self, method: str, path: str, api: str, tenant: str | None, now: float) -> bool:
        """A tenant's rule without ``api`` spares its token requests (a test injecting faults into its APIs still
        gets its token); ``api: token`` reaches them, and so does a rule of every tenant."""
        return ((self.tenant is None or self.tenant == tenant)
                and (self.api == api if self.api is not None else api != "token" or self.tenant is None)
                and (self.method is None or self.method == method)
                and (self.path is None or self.path.match(path) is not None)
                and (self.expires_at is None or now < self.expires_at))

    def fires(self, nth: int, fired: int) -> bool:
        """Does the ``nth`` matching request (1-based) fire, ``fired`` having fired before it?"""
        spec = self.spec
        if nth <= spec["after"]:
            return False
        if spec["times"] is not None and fired >= spec["times"]:
            return False
        if spec["probability"] >= 1.0:
            return True
        return random.Random(f"{spec['seed']}:{nth}").random() < spec["probability"]  # the same on every run

    def delay_ms(self, nth: int) -> float:
        delay = self.spec["effect"].get("delayMs") or 0
        if isinstance(delay, dict):
            rng = random.Random(f"{self.spec['seed']}:delay:{nth}")
            if "uniform" in delay:
                low, high = delay["uniform"]
                return rng.uniform(low, high)
            return max(0.0, rng.gauss(delay["normal"]["mean"], delay["normal"]["sd"]))
        return float(delay)

    def public(self, matched: int, fired: int) -> dict:
        expires = None if self.expires_at is None else iso(int(self.expires_at * 1000))
        return {"id": self.id, **self.spec, "tenant": self.tenant, "expiresAt": expires, "matched": matched,
                "fired": fired}


def parse_rule(body: dict) -> dict:
    """The spec of a fault rule, every property present (``POST /_emulator/faults``; the rule checked against the
    control plane's contract, FaultRuleInput: its properties, statuses, delays and schedule bounds)."""
    match = body.get("match") or {}
    effect = body["effect"]
    return {
        "match": {k: match.get(k) for k in ("method", "path", "api", "tenant")},
        "effect": {k: effect.get(k) for k in ("status", "delayMs", "dropConnection", "body")},
        "times": body.get("times"),
        "after": body.get("after", 0),
        "probability": body.get("probability", 1.0),
        "seed": body.get("seed", 0),
        "ttlSeconds": body.get("ttlSeconds"),
    }


def insert_rule(conn, spec: dict, now: float) -> FaultRule:
    rule_id = uuid.uuid4().hex
    expires = now + spec["ttlSeconds"] if spec["ttlSeconds"] is not None else None
    tenant = spec["match"]["tenant"]
    conn.execute(insert(fault_rules).values(id=rule_id, tenant=tenant, spec=spec, matched=0, fired=0, created_at=now,
                                            expires_at=expires))
    return FaultRule.from_row({"id": rule_id, "tenant": tenant, "spec": spec, "expires_at": expires, "created_at": now})


def count_match(conn, rule: FaultRule) -> tuple[int, bool]:
    """Count one matching request (in the caller's write transaction); (its number, does it fire)."""
    nth, fired = conn.execute(update(fault_rules).where(fault_rules.c.id == rule.id)
                              .values(matched=fault_rules.c.matched + 1)
                              .returning(fault_rules.c.matched, fault_rules.c.fired)).one()
    fire = rule.fires(nth, fired)
    if fire:
        conn.execute(update(fault_rules).where(fault_rules.c.id == rule.id).values(fired=fault_rules.c.fired + 1))
    return nth, fire


def status_error(status: int, rule_id: str) -> errors.ApiError:
    """The error a fault answers with, in the called API's envelope (rendered by errors.render)."""
    cls = errors.by_status(status)
    code = None if cls is not errors.ApiError else "internalServerError" if status >= 500 else "invalidParameter"
    headers = {"Retry-After": "1"} if status == 429 else {}
    return cls(f"Injected fault {rule_id}: the emulator was told to answer {status}", status=status, code=code,
               headers=headers)
