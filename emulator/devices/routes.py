"""Simulated devices over HTTP, as control-plane routes (the admin token guards them), kept with the devices they
make so that the control package does not depend on them (their bodies' structure is their contract's, ``spec.py``,
checked before they run):

* ``POST /_emulator/tenants/{name}/pumps``: one simulated pump with its history in one call (the pytest plugin's
  ``pump()``);
* ``POST /_emulator/tenants/{name}/fleet``: the fleet ``mindsphere-emulator seed --url`` builds (enterprise, sites,
  pump stations, pumps), the same as ``seed`` builds in a store, so the command can act on a running server.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from emulator import errors
from emulator.control.guard import check_browser_reach, require_admin_token
from emulator.devices import data
from emulator.httpio import json_object
from emulator.runtime import runtime

bp = Blueprint("pumps", __name__, url_prefix="/_emulator")
bp.before_request(check_browser_reach)
bp.before_request(require_admin_token)

@bp.post("/tenants/<name>/pumps")
def add_pump(name: str):
    """A simulated pump in the tenant with ``historyHours`` of data written at once (the pytest plugin's
    ``pump()``): ``{"name", "historyHours" (0-168, default 1), "seed", "scenario", "parentId", "cadence"}``.
    A running feeder (``serve --pump``) keeps it fed live."""
    body = json_object()  # its structure and bounds checked from the contract (spec.py)
    pump_name = body.get("name", "Pump")
    hours = body.get("historyHours", 1.0)
    cadence = body.get("cadence", runtime().settings.pump_cadence)
    if body.get("scenario") is not None and body["scenario"] not in data.scenario_names():
        # over HTTP only the built-in scenarios: a path would let a request read any file of the server
        raise errors.BadRequest(f"scenario must be one of {', '.join(data.scenario_names())}; scenario files "
                                "are for the seed command on a store (--data-dir, --database-url)")
    from emulator.devices import feeder, fleet, scenarios  # numpy and faker: loaded when a pump is made, not at start

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
    body = json_object()  # its structure and built-in scenarios checked from the contract (spec.py)
    chosen = body.get("scenarios", [])
    from emulator.devices import fleet  # numpy and faker: loaded when a fleet is made, not at start

    mdsp = runtime()
    mdsp.control.sync()  # the virtual clock: scenario times count from its now
    seed = body.get("seed", mdsp.settings.seed)
    try:
        made = fleet.seed_fleet(mdsp.store, name, body["pumps"], seed, mdsp.clock.time(), chosen)
    except ValueError as exc:  # pumps out of range, or a scenario that cannot be used
        raise errors.BadRequest(str(exc)) from None
    return jsonify({"tenant": name, "seed": seed, "pumps": body["pumps"], "created": made})
