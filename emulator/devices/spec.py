"""The contract of ``POST /_emulator/tenants/{name}/pumps`` (an OpenAPI fragment), beside its route.

A control-plane operation (the admin token guards it; core error envelope), kept with the devices it makes:
the document shows it among the control plane's, and its body is validated from it
(:mod:`emulator.validation`): the pump's name (an asset's name), the bounds of ``historyHours`` and
``cadence``, unknown properties. Which scenarios are built in and whether ``parentId`` exists are checked in
the route.
"""

from __future__ import annotations

from emulator import limits
from emulator.assets.spec import asset_name
from emulator.control.spec import control_operations
from emulator.settings import PUMP_CADENCE_SECONDS
from emulator.spec import integer, json_body, make_fragment, number, obj, ok, path, string

MAX_HISTORY_HOURS = 168  # seven days of history at most, written in one request


def fragment(admin_token: bool = False) -> dict:
    op = control_operations(admin_token)
    return make_fragment({
        "/_emulator/tenants/{name}/pumps": {"post": op(
            "pumps.add_pump", "A simulated pump in the tenant, with `historyHours` of data written at once "
            "(the pytest plugin's `pump()`); its id derives from seed, tenant and name",
            {"201": ok("The pump and how many records were written", obj({
                "assetId": string(), "name": string(), "historyHours": number(), "records": integer()}, "all"))},
            400, 404, 409, 413, 415,
            params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")],
            body=json_body(obj({"name": asset_name(default="Pump", description="As an asset's name"),
                                "historyHours": number(minimum=0, maximum=MAX_HISTORY_HOURS), "seed": integer(),
                                "scenario": string(description="A built-in scenario's name or the path of a "
                                                               "scenario file on the server"),
                                "parentId": string(description="An existing asset (default: the root)"),
                                "cadence": number(minimum=PUMP_CADENCE_SECONDS[0], maximum=PUMP_CADENCE_SECONDS[1])}),
                           required=False))},
    })
