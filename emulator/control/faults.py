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


def _number(value, name: str, low: float, high: float, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise errors.BadRequest(f"{name} must be {'an integer' if integer else 'a number'}")
    if not low <= value <= high:
        raise errors.BadRequest(f"{name} must be between {low:g} and {high:g}")
    return value


def parse_rule(body, api_names: tuple[str, ...]) -> dict:
    """The validated spec of ``POST /_emulator/faults``; ``api_names``: what ``match.api`` may name."""
    if not isinstance(body, dict):
        raise errors.BadRequest("A fault rule is a JSON object")
    unknown = set(body) - {"match", "effect", "times", "after", "probability", "seed", "ttlSeconds"}
    if unknown:
        raise errors.BadRequest(f"Unknown fault rule properties: {', '.join(sorted(unknown))}")
    match = {} if body.get("match") is None else body["match"]
    effect = body.get("effect")
    if not isinstance(match, dict) or set(match) - {"method", "path", "api", "tenant"}:
        raise errors.BadRequest("match takes method, path (a glob), api and tenant")
    if match.get("method") is not None and match["method"] not in METHODS:
        raise errors.BadRequest(f"match.method must be one of {', '.join(METHODS)}")
    if match.get("api") is not None and match["api"] not in api_names:
        raise errors.BadRequest(f"match.api must be one of {', '.join(api_names)}")
    for key in ("path", "tenant"):
        if match.get(key) is not None and (not isinstance(match[key], str) or not match[key]):
            raise errors.BadRequest(f"match.{key} must be a non-empty string")
    if not isinstance(effect, dict) or not effect or set(effect) - {"status", "delayMs", "dropConnection", "body"}:
        raise errors.BadRequest("effect takes status, delayMs, dropConnection and body (at least one)")
    if effect.get("status") is not None:
        _number(effect["status"], "effect.status", 400, 599, integer=True)
    delay = effect.get("delayMs")
    if isinstance(delay, dict):  # one distribution, nothing else: the rule is stored and answered as given
        if set(delay) == {"uniform"} and isinstance(delay["uniform"], list) and len(delay["uniform"]) == 2:
            for i, bound in enumerate(delay["uniform"]):  # two bounds, in either order (random.uniform takes both)
                _number(bound, f"effect.delayMs.uniform[{i}]", 0, MAX_DELAY_MS)
        elif set(delay) == {"normal"} and isinstance(delay["normal"], dict) and set(delay["normal"]) <= {"mean", "sd"}:
            _number(delay["normal"].get("mean"), "effect.delayMs.normal.mean", 0, MAX_DELAY_MS)
            _number(delay["normal"].get("sd"), "effect.delayMs.normal.sd", 0, MAX_DELAY_MS)
        else:
            raise errors.BadRequest('effect.delayMs is a number, {"uniform": [min, max]} or '
                                    '{"normal": {"mean": ms, "sd": ms}}')
    elif delay is not None:
        _number(delay, "effect.delayMs", 0, MAX_DELAY_MS)
    if effect.get("dropConnection") is not None and not isinstance(effect["dropConnection"], bool):
        raise errors.BadRequest("effect.dropConnection must be true or false")
    if effect.get("body") is not None and not isinstance(effect["body"], dict | list):
        raise errors.BadRequest("effect.body must be a JSON object or array")
    times = body.get("times")
    return {
        "match": {k: match.get(k) for k in ("method", "path", "api", "tenant")},
        "effect": {k: effect.get(k) for k in ("status", "delayMs", "dropConnection", "body")},
        "times": None if times is None else _number(times, "times", 1, 10**9, integer=True),
        "after": _number(body.get("after", 0), "after", 0, 10**9, integer=True),
        "probability": _number(body.get("probability", 1.0), "probability", 0.0, 1.0),
        "seed": _number(body.get("seed", 0), "seed", -(2**63), 2**63 - 1, integer=True),
        "ttlSeconds": None if body.get("ttlSeconds") is None else _number(body["ttlSeconds"], "ttlSeconds", 0.001,
                                                                           10**9),
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
