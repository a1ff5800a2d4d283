"""Events the simulated pumps raise (the emulator's own feature): when an effect of a pump's scenario starts,
the pump raises an event of the type ``{tenant}.SimulatedPumpEvent`` (``phase`` START), and a follow-up of the
same ``correlationId`` (``phase`` END, information) when it ends: a history of two events.

Deterministic like the data: an event's id and correlation id derive from the pump, the effect and its start,
its timestamp is the effect's start (or end) from the scenario, and raising it again is a no-op, so the feeder,
its backfill and ``pump()`` raise the same events whenever they write the data that shows the effect.
An event is raised once the pump has sent a reading at or after its moment (a pump that is offline raises its
``device_offline`` event when it is back). Severities [?]: MCL's 2.0 convention (20 error, 30 warning, 40
information), chosen per effect below.
"""

from __future__ import annotations

import uuid

from emulator.events import types
from emulator.events.models import event_types, events
from emulator.store import TenantScope
from emulator.times import iso

TYPE_NAME = "SimulatedPumpEvent"
NAMESPACE = uuid.UUID("6f1d4c2e-8a51-4c8e-9a0e-2f5b7f3c1d90")  # the emulator's: ids of raised events
SEVERITY = {"cavitation": 30, "seal_wear": 30, "dry_running": 20, "blocked_discharge": 20, "sensor_stuck": 30,
            "sensor_drift": 30, "sensor_dropout": 20, "device_offline": 20}  # [?]
ENDED = 40  # the follow-up: information
FIELDS = [{"name": "effect", "type": "STRING", "filterable": True, "required": False, "updatable": False},
          {"name": "phase", "type": "ENUM", "values": ["START", "END"], "filterable": True, "required": False,
           "updatable": False}]


def type_id(tenant: str) -> str:
    return f"{tenant}.{TYPE_NAME}"


def _ensure_type(scope: TenantScope, now: float) -> str:
    tid = type_id(scope.tenant)
    if scope.get(event_types, tid) is None:
        scope.insert(event_types, type_id=tid, name=TYPE_NAME, parent_id=types.STANDARD, ttl=35, scope="LOCAL",
                     fields=FIELDS, etag=0, created_at=now)
    return tid


def raise_due(scope: TenantScope, asset_id: str, pump_name: str, effects, seen_ms: int, now: float) -> int:
    """The START and END events of ``effects`` (scenario events: effect, start, end in epoch seconds) whose
    moment is at or before ``seen_ms`` (the latest reading the pump has sent); how many were new."""
    due = []
    for effect in effects:
        start_ms = int(effect.start * 1000)
        if start_ms > seen_ms:
            continue
        correlation = str(uuid.uuid5(NAMESPACE, f"{asset_id}/{effect.effect}/{start_ms}"))
        due.append((effect.effect, "START", start_ms, correlation, SEVERITY.get(effect.effect, 30)))
        if effect.end != float("inf") and int(effect.end * 1000) <= seen_ms:
            due.append((effect.effect, "END", int(effect.end * 1000), correlation, ENDED))
    if not due:
        return 0
    tid = _ensure_type(scope, now)
    new = 0
    for name, phase, ms, correlation, severity in due:
        event_id = str(uuid.uuid5(NAMESPACE, f"{correlation}/{phase}"))
        if scope.get(events, event_id) is not None:
            continue
        text = name.replace("_", " ")
        description = f"{pump_name}: {text} started" if phase == "START" else f"{pump_name}: {text} ended"
        scope.insert(events, event_id=event_id, asset_id=asset_id, type_id=tid, correlation_id=correlation, ts=ms,
                     timestamp=iso(ms), etag=1, seq=ms / 1000.0,
                     values={"description": description, "severity": severity, "code": f"PUMP_{name.upper()}",
                             "source": "pump simulation", "acknowledged": False, "effect": name,
                             "phase": phase})
        new += 1
    return new


def withdraw(scope: TenantScope, asset_id: str, after_ms: int, upto_ms: int) -> int:
    """The pump's raised events in ``(after_ms, upto_ms]`` (the clock went back before them)."""
    return scope.delete(events, events.c.asset_id == asset_id, events.c.type_id == type_id(scope.tenant),
                        events.c.ts > after_ms, events.c.ts <= upto_ms)
