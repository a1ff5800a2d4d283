"""Simulated devices over HTTP, as control-plane routes (the admin token guards them), kept with the devices they
make so that the control package does not depend on them:

* ``POST /_emulator/tenants/{name}/pumps``: one simulated pump with its history in one call (the pytest plugin's
  ``pump()``);
* ``POST /_emulator/tenants/{name}/fleet``: the fleet ``mindsphere-emulator seed --url`` builds (enterprise, sites,
  pump stations, pumps), the same as ``seed`` builds in a store, so the command can act on a running server.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from emulator import errors, limits
from emulator.assets import validation
from emulator.control.guard import check_browser_reach, require_admin_token
from emulator.devices import feeder, fleet, scenarios
from emulator.httpio import json_object
from emulator.runtime import runtime

bp = Blueprint("pumps", __name__, url_prefix="/_emulator")
bp.before_request(check_browser_reach)
bp.before_request(require_admin_token)

PUMP_FIELDS = {"name": str, "historyHours": (int, float), "seed": int, "scenario": str, "parentId": str,
               "cadence": (int, float)}
FLEET_FIELDS = {"pumps": int, "seed": int, "scenarios": list}


def _typed_body(fields: dict) -> dict:
    """The JSON object body, each property one of ``fields`` and of its type."""
    body = json_object()
    for key, value in body.items():
        kinds = fields.get(key)
        if kinds is None:
            raise errors.BadRequest(f"Unknown property {key!r} (allowed: {', '.join(fields)})")
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise errors.BadRequest(f"{key} has the wrong type")
    return body


def _builtin_scenario(name) -> None:
    """Over HTTP only the built-in scenarios: a path would let a request read any file of the server."""
    if name not in scenarios.builtin_names():
        raise errors.BadRequest(f"scenario must be one of {', '.join(scenarios.builtin_names())}; scenario files "
                                "are for the seed command on a store (--data-dir, --database-url)")


@bp.post("/tenants/<name>/pumps")
def add_pump(name: str):
    """A simulated pump in the tenant with ``historyHours`` of data written at once (the pytest plugin's
    ``pump()``): ``{"name", "historyHours" (0-168, default 1), "seed", "scenario", "parentId", "cadence"}``.
    A running feeder (``serve --pump``) keeps it fed live."""
    body = _typed_body(PUMP_FIELDS)
    pump_name = body.get("name", "Pump")
    hours = body.get("historyHours", 1.0)
    cadence = body.get("cadence", runtime().settings.pump_cadence)
    validation.required_str({"name": pump_name}, "name", limits.ASSET_NAME_MAX)  # the pump is an asset: its rule
    if not 0 <= hours <= 168:
        raise errors.BadRequest("historyHours must be between 0 and 168 (7 days)")
    if not 1 <= cadence <= 3600:
        raise errors.BadRequest("cadence must be between 1 and 3600 seconds")
    if body.get("scenario") is not None:
        _builtin_scenario(body["scenario"])
    mdsp = runtime()
    mdsp.control.sync()
    now = mdsp.clock.time()
    try:
        asset_id = fleet.add_pump(mdsp.store, name, pump_name, body.get("seed", mdsp.settings.seed), now,
                                  body.get("scenario"), body.get("parentId"))
    except scenarios.ScenarioError as exc:
        raise errors.BadRequest(str(exc)) from None
    records = feeder.history(mdsp.store, name, asset_id, float(hours), float(cadence), int(now * 1000))
    return jsonify({"assetId": asset_id, "name": pump_name, "historyHours": hours, "records": records}), 201


@bp.post("/tenants/<name>/fleet")
def seed_fleet(name: str):
    """``{"pumps": N (1-10000), "seed" (default: the server's), "scenarios": [built-in names, the k-th for the k-th
    pump]}``: what ``mindsphere-emulator seed`` builds, or what of it the tenant lacks (ids derive from seed, tenant
    and position, so asking again adds nothing). A running feeder picks the new pumps up and writes their history.
    Answers 200 with what was created."""
    body = _typed_body(FLEET_FIELDS)
    if "pumps" not in body:
        raise errors.BadRequest("pumps is required: how many pumps the fleet has")
    chosen = body.get("scenarios", [])
    for scenario in chosen:
        if not isinstance(scenario, str):
            raise errors.BadRequest("scenarios must be a list of built-in scenario names")
        _builtin_scenario(scenario)
    mdsp = runtime()
    mdsp.control.sync()  # the virtual clock: scenario times count from its now
    seed = body.get("seed", mdsp.settings.seed)
    try:
        made = fleet.seed_fleet(mdsp.store, name, body["pumps"], seed, mdsp.clock.time(), chosen)
    except ValueError as exc:  # pumps out of range, or a scenario that cannot be used
        raise errors.BadRequest(str(exc)) from None
    return jsonify({"tenant": name, "seed": seed, "pumps": body["pumps"], "created": made})
