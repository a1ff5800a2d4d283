"""A seeded fleet: enterprise -> sites (water works) -> areas (pump stations) -> simulated pumps.

``mindsphere-emulator seed --pumps N --seed S`` builds it in the database; the default tenant of
``serve --pump`` gets one pump the same way. Names and places come from Faker seeded per site, and
asset ids are derived from (seed, tenant, position), so the same seed gives the same fleet on every
machine, and seeding more pumps later keeps the first ones (and their data) as they were.

Places are Faker's towns on land, each with its IANA time zone, so the time zone fits the location
(zones at :15 or :45 offsets, which MindSphere does not take, are skipped). Locations are set on the
sites; pump stations and pumps inherit them, as Asset Management does for an unset location.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker
from faker.providers.geo import Provider as GeoProvider
from sqlalchemy import select

from emulator import errors
from emulator.assets.models import assets
from emulator.assets.service import create_asset
from emulator.assets.validation import timezone as check_timezone
from emulator.devices import data, model, scenarios
from emulator.devices.simulation import PumpSimulation
from emulator.store import Store, TenantScope
from emulator.store.models import tenants
from emulator.times import iso

PUMPS_PER_SITE = 3
MAX_PUMPS = 10_000  # one fleet: past this a typo (--pumps 100000) would write for hours


@dataclass(frozen=True)
class Place:
    locality: str
    country_code: str
    latitude: float
    longitude: float
    timezone: str


DEFAULT_PLACE = Place("Erlangen", "DE", 49.59099, 11.00783, "Europe/Berlin")


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    return json.loads(data.read_text("countries.json"))["countries"]


@lru_cache(maxsize=1)
def _places() -> tuple[Place, ...]:
    out = []
    for lat, lon, locality, code, zone in GeoProvider.land_coords:
        try:
            check_timezone(zone)
        except errors.ApiError:
            continue
        out.append(Place(locality, code, float(lat), float(lon), zone))
    return tuple(out)


def derived_id(seed: int, tenant: str, *path) -> str:
    """An asset id (32 hex characters) from the seed, the tenant and the asset's place in the fleet."""
    return hashlib.sha256(f"{seed}:{tenant}:{'/'.join(map(str, path))}".encode()).hexdigest()[:32]


def _faker(seed: int, *path) -> Faker:
    fake = Faker("en_US")
    fake.seed_instance(int(hashlib.sha256(f"{seed}:{'/'.join(map(str, path))}".encode()).hexdigest()[:15], 16))
    return fake


def scenario_value(name_or_path: str) -> str:
    """What a pump's ``Scenario`` variable holds: a built-in name as it is, a file as its absolute path.
    The file is read now, so a bad one fails the command rather than the feeder later."""
    source = scenarios.resolve(name_or_path)
    scenarios.parse(scenarios.read(source), 0.0, source.name)
    value = source.name if source.builtin else str(source.path.resolve())
    if len(value) > 255:
        raise scenarios.ScenarioError(f"scenario path {value!r} is longer than 255 characters; move the file")
    return value


def seed_fleet(store: Store, tenant: str, pumps: int, seed: int, now: float, scenario_files: list[str] = (),
               place: Place | None = None) -> dict:
    """Build (or complete) the fleet in ``tenant``; ``scenario_files[i]`` drives pump ``i``. Returns what exists."""
    if isinstance(pumps, bool) or not isinstance(pumps, int) or not 1 <= pumps <= MAX_PUMPS:
        raise ValueError(f"pumps must be between 1 and {MAX_PUMPS}, not {pumps}")
    chosen = [scenario_value(s) for s in scenario_files]
    created = {"sites": 0, "areas": 0, "pumps": 0}
    with store.transaction(write=True) as conn:
        root = conn.scalar(select(tenants.c.root_asset_id).where(tenants.c.name == tenant))
        if root is None:
            raise errors.NotFound(f"tenant {tenant!r} does not exist")
        scope = TenantScope(conn, tenant)
        model.install(scope, now)
        taken = _pump_names(scope)
        sites = math.ceil(pumps / PUMPS_PER_SITE)
        for j in range(sites):
            fake = _faker(seed, tenant, "site", j)
            where = place or fake.random_element(_places())
            site_id, area_id = derived_id(seed, tenant, "site", j), derived_id(seed, tenant, "site", j, "area")
            if scope.get(assets, site_id) is None:
                create_asset(scope, {
                    "name": f"{where.locality} water works", "typeId": f"{tenant}.Site", "parentId": root,
                    "timezone": where.timezone, "description": f"Water works of {fake.company()}",
                    "location": {"country": _countries().get(where.country_code, where.country_code),
                                 "locality": where.locality, "latitude": where.latitude,
                                 "longitude": where.longitude}}, default_timezone=where.timezone, now=now,
                    asset_id=site_id)
                created["sites"] += 1
            if scope.get(assets, area_id) is None:
                create_asset(scope, {"name": f"{fake.street_name()} pump station", "typeId": f"{tenant}.Area",
                                     "parentId": site_id, "timezone": where.timezone},
                             default_timezone=where.timezone, now=now, asset_id=area_id)
                created["areas"] += 1
            for i in range(j * PUMPS_PER_SITE, min(pumps, (j + 1) * PUMPS_PER_SITE)):
                pump_id = derived_id(seed, tenant, "pump", i)
                if scope.get(assets, pump_id) is not None:
                    continue
                name = _free_name(101 + i, taken)
                taken.add(name)
                _create_pump(scope, pump_id, name, area_id, where.timezone, seed, now,
                             chosen[i] if i < len(chosen) else None)
                created["pumps"] += 1
    return created


def _pump_names(scope: TenantScope) -> set[str]:
    """The names of the tenant's pumps (its ``{tenant}.Pump`` assets, simulated or not)."""
    rows = scope.all(scope.select(assets, assets.c.name).where(assets.c.type_id == f"{scope.tenant}.{model.PUMP_TYPE}"))
    return {row["name"] for row in rows}


def _free_name(number: int, taken: set[str]) -> str:
    """``P-{number}``, or the next number no pump of the tenant has: a fleet of another seed (or the sandbox's
    P-101) already holds the low ones, and two pumps of one name cannot be told apart in an app or a chart."""
    while f"P-{number}" in taken:
        number += 1
    return f"P-{number}"


def _create_pump(scope: TenantScope, pump_id: str, name: str, parent_id: str, zone: str, seed: int, now: float,
                 scenario: str | None) -> None:
    spec = PumpSimulation(pump_id, seed).spec
    variables = [{"name": "RatedFlow", "value": f"{spec.bep_flow:.1f}"},
                 {"name": "RatedHead", "value": f"{spec.rated_head:.1f}"},
                 {"name": "RatedPower", "value": f"{spec.rated_power:.1f}"},
                 {"name": "SimulationSeed", "value": str(seed)},
                 {"name": "ScenarioStart", "value": iso(int(now * 1000))}]
    if scenario is not None:
        variables.append({"name": "Scenario", "value": scenario})
    create_asset(scope, {"name": name, "typeId": f"{scope.tenant}.Pump", "parentId": parent_id, "timezone": zone,
                         "twinType": "simulation", "externalId": f"{scope.tenant}-{name}", "variables": variables,
                         "description": f"Centrifugal pump, {spec.bep_flow:.0f} l/s at {spec.rated_head:.0f} m"},
                 default_timezone=zone, now=now, asset_id=pump_id)


def add_pump(store: Store, tenant: str, name: str, seed: int, now: float, scenario: str | None = None,
             parent_id: str | None = None) -> str:
    """One simulated pump (the model installed first if missing) under ``parent_id`` or the root; its id is
    derived from (seed, tenant, name), so the same call gives the same pump and the same data."""
    chosen = scenario_value(scenario) if scenario else None
    pump_id = derived_id(seed, tenant, "named", name)
    with store.transaction(write=True) as conn:
        row = conn.execute(select(tenants).where(tenants.c.name == tenant)).mappings().first()
        if row is None:
            raise errors.NotFound(f"tenant {tenant!r} does not exist")
        scope = TenantScope(conn, tenant)
        if scope.get(assets, pump_id) is not None:
            raise errors.Conflict(f"a pump named {name!r} with seed {seed} already exists: {pump_id}")
        model.install(scope, now)
        parent = scope.get(assets, parent_id or row["root_asset_id"])
        if parent is None:
            raise errors.NotFound(f"parent asset {parent_id!r} does not exist")
        _create_pump(scope, pump_id, name, parent["asset_id"], parent["timezone"], seed, now, chosen)
    return pump_id


def ensure_default_pump(store: Store, tenant: str, seed: int, now: float) -> bool:
    """One pump for the sandbox's default tenant on first start (when the tenant has no Pump type yet).
    Returns whether it was created."""
    with store.transaction() as conn:
        have = model.simulated_pumps_of(conn, tenant) or model.has_pump_type(conn, tenant)
    if have:
        return False
    seed_fleet(store, tenant, 1, seed, now, place=DEFAULT_PLACE)
    return True
