"""``POST /_emulator/tenants/{name}/pumps``: a simulated pump with its history in one call (the pytest plugin's
``pump()``). A control-plane route (the admin token guards it), kept with the devices it makes so that the control
package does not depend on them."""

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


@bp.post("/tenants/<name>/pumps")
def add_pump(name: str):
    """A simulated pump in the tenant with ``historyHours`` of data written at once (the pytest plugin's
    ``pump()``): ``{"name", "historyHours" (0-168, default 1), "seed", "scenario", "parentId", "cadence"}``.
    A running feeder (``serve --pump``) keeps it fed live."""
    body = json_object()
    for key, value in body.items():
        kinds = PUMP_FIELDS.get(key)
        if kinds is None:
            raise errors.BadRequest(f"Unknown property {key!r} (allowed: {', '.join(PUMP_FIELDS)})")
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise errors.BadRequest(f"{key} has the wrong type")
    pump_name = body.get("name", "Pump")
    hours = body.get("historyHours", 1.0)
    cadence = body.get("cadence", runtime().settings.pump_cadence)
    validation.required_str({"name": pump_name}, "name", limits.ASSET_NAME_MAX)  # the pump is an asset: its rule
    if not 0 <= hours <= 168:
        raise errors.BadRequest("historyHours must be between 0 and 168 (7 days)")
    if not 1 <= cadence <= 3600:
        raise errors.BadRequest("cadence must be between 1 and 3600 seconds")
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
