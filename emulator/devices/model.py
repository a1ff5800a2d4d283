"""The pump's asset model (``data/asset-model.json``, in the package) in a tenant, and the simulated pumps in the store.

The model is data: Asset Management v3 request bodies, created through the same services as
``PUT /aspecttypes/...`` and ``PUT /assettypes/...``, so they obey every rule an API client meets.
A pump is *simulated* when its type is ``{tenant}.Pump`` and its ``twinType`` is ``simulation``: the
feeder writes its data. A ``performance`` twin of the same type is left to its owner's writes, so a
test can have a pump whose data it writes itself next to simulated ones.

What drives a simulated pump is in its static variables: ``SimulationSeed`` (with the asset id, the
seed of its data), ``Scenario`` (a built-in scenario's name or a file path) and ``ScenarioStart``
(the instant the scenario's relative times count from).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from emulator import errors
from emulator.assets.models import aspect_types, asset_types, assets
from emulator.assets.service import effective_location
from emulator.assets.types import put_aspect_type, put_asset_type
from emulator.devices import data, scenarios
from emulator.devices.environment import Site
from emulator.devices.simulation import PumpSimulation
from emulator.store import TenantScope
from emulator.store.models import tenants
from emulator.times import parse_time

PUMP_TYPE = "Pump"


@lru_cache(maxsize=1)
def _model() -> dict:
    return json.loads(data.read_text("asset-model.json"))


def bodies(tenant: str) -> tuple[dict[str, dict], dict[str, dict]]:
    """(aspect types, asset types) as request bodies for ``tenant``, by name."""
    def fill(value):
        if isinstance(value, str):
            return value.replace("{tenant}", tenant)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    model = copy.deepcopy(_model())
    return fill(model["aspectTypes"]), fill(model["assetTypes"])


def install(scope: TenantScope, now: float) -> None:
    """Create the model's types the tenant does not have yet (idempotent). A type of the same name but
    another shape is refused: the pump could not write its data into it."""
    aspect_bodies, asset_bodies = bodies(scope.tenant)
    for name, body in aspect_bodies.items():
        type_id = f"{scope.tenant}.{name}"
        row = scope.get(aspect_types, type_id)
        if row is None:
            put_aspect_type(scope, type_id, body, None, "*", now)
            continue
        have = {v["name"]: v["dataType"] for v in row["variables"]}
        if row["category"] != "dynamic" or any(have.get(v["name"]) != v["dataType"] for v in body["variables"]):
            raise errors.Conflict(f"aspect type {type_id} exists with other variables than the pump's; "
                                  "use another tenant for the simulated pump")
    for name, body in asset_bodies.items():
        type_id = f"{scope.tenant}.{name}"
        if not _asset_type_exists(scope, type_id):
            put_asset_type(scope, type_id, body, None, "*", now)


def _asset_type_exists(scope: TenantScope, type_id: str) -> bool:
    return scope.conn.execute(scope.select(asset_types, asset_types.c.id).where(asset_types.c.id == type_id)
                              ).first() is not None


def standard_offset(zone: str) -> float:
    """Seconds the zone's standard time is ahead of UTC (its offset less daylight saving)."""
    tz = ZoneInfo(zone)
    moment = datetime(2024, 1, 15, 12, tzinfo=tz)
    return (moment.utcoffset() - (moment.dst() or timedelta(0))).total_seconds()


@dataclass(frozen=True)
class PumpAsset:
    """A simulated pump as the store holds it."""

    tenant: str
    asset_id: str
    name: str
    timezone: str
    latitude: float
    longitude: float
    seed: int
    scenario: str | None
    scenario_start: float  # epoch seconds

    def simulation(self, cadence: float) -> PumpSimulation:
        site = Site(latitude=self.latitude, longitude=self.longitude, utc_offset=standard_offset(self.timezone))
        scenario = scenarios.load(self.scenario, self.scenario_start) if self.scenario else None
        return PumpSimulation(self.asset_id, self.seed, cadence, site=site, scenario=scenario)


def _variables(row) -> dict:
    return {item["name"]: item["value"] for item in row["variables"] or []}


def pump_asset(scope: TenantScope, row) -> PumpAsset:
    values = _variables(row)
    where = effective_location(lambda key: scope.get(assets, key), row) or {}
    try:
        seed = int(values.get("SimulationSeed") or 0)
    except ValueError:
        seed = 0
    start = values.get("ScenarioStart")
    start_s = parse_time(start, zone_required=False) / 1000.0 if start else float(row["created_at"])
    return PumpAsset(tenant=scope.tenant, asset_id=row["asset_id"], name=row["name"], timezone=row["timezone"],
                     latitude=float(where.get("latitude") or 49.59), longitude=float(where.get("longitude") or 11.0),
                     seed=seed, scenario=values.get("Scenario") or None, scenario_start=start_s)


def simulated_pumps(conn) -> list[PumpAsset]:
    """Every simulated pump of every tenant, in a stable order."""
    rows = conn.execute(select(assets).where(assets.c.twin_type == "simulation", assets.c.type_id.like("%.Pump"))
                        .order_by(assets.c.tenant_id, assets.c.asset_id)).mappings().all()
    out = []
    for row in rows:
        if row["type_id"] != f"{row['tenant_id']}.{PUMP_TYPE}":
            continue
        out.append(pump_asset(TenantScope(conn, row["tenant_id"]), row))
    return out


def tenant_zone(conn, tenant: str) -> str | None:
    return conn.scalar(select(tenants.c.default_timezone).where(tenants.c.name == tenant))


def simulated_pumps_of(conn, tenant: str) -> list[str]:
    return list(conn.scalars(select(assets.c.asset_id).where(
        assets.c.tenant_id == tenant, assets.c.twin_type == "simulation", assets.c.type_id == f"{tenant}.{PUMP_TYPE}")))


def has_pump_type(conn, tenant: str) -> bool:
    return conn.execute(select(asset_types.c.id).where(asset_types.c.tenant_id == tenant,
                                                       asset_types.c.id == f"{tenant}.{PUMP_TYPE}")).first() is not None
