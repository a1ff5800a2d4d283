"""``POST /_emulator/tenants/{name}/pumps``: a simulated pump with its history in one call (the pytest plugin's
``pump()``). A control-plane route (the admin token guards it), kept with the devices it makes so that the control
package does not depend on them; its body's structure is its contract's (``spec.py``), checked before it runs."""

from __future__ import annotations

from flask import Blueprint, jsonify

from emulator import errors
from emulator.control.guard import require_admin_token
from emulator.devices import feeder, fleet, scenarios
from emulator.httpio import json_object
from emulator.runtime import runtime

bp = Blueprint("pumps", __name__, url_prefix="/_emulator")
bp.before_request(require_admin_token)

@bp.post("/tenants/<name>/pumps")
def add_pump(name: str):
    """A simulated pump in the tenant with ``historyHours`` of data written at once (the pytest plugin's
    ``pump()``): ``{"name", "historyHours" (0-168, default 1), "seed", "scenario", "parentId", "cadence"}``.
    A running feeder (``serve --pump``) keeps it fed live."""
    body = json_object()
    pump_name = body.get("name", "Pump")
    hours = body.get("historyHours", 1.0)
    cadence = body.get("cadence", runtime().settings.pump_cadence)
    if body.get("scenario") is not None and body["scenario"] not in scenarios.builtin_names():
        # over HTTP only the built-in scenarios: a path would let a request read any file of the server
        raise errors.BadRequest(f"scenario must be one of {', '.join(scenarios.builtin_names())}; scenario files "
                                "are for the seed command")
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
