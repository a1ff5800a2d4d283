"""The contract of the devices' control-plane routes, ``POST /_emulator/tenants/{name}/pumps`` and ``.../fleet``
(an OpenAPI fragment), beside them.

A control-plane operation (the admin token guards it; core error envelope), kept with the devices it makes:
the document shows it among the control plane's, and its body is validated from it
(:mod:`emulator.validation`): the pump's name (an asset's name), the bounds of ``historyHours`` and
``cadence``, the fleet's size and its scenarios (the built-in ones, from the package's data), unknown
properties. Whether ``parentId`` exists is checked in the route.
"""

from __future__ import annotations

from emulator import limits
from emulator.assets.spec import asset_name
from emulator.control.spec import control_operations
from emulator.devices import data
from emulator.settings import PUMP_CADENCE_SECONDS
from emulator.spec import array, integer, json_body, make_fragment, number, obj, ok, path, string

MAX_HISTORY_HOURS = 168  # seven days of history at most, written in one request
MAX_FLEET_PUMPS = 10_000  # as the seed command


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
                                "scenario": string(description="A built-in scenario's name (scenario files are for "
                                                               "the seed command on a store; checked in the route)"),
                                "parentId": string(description="An existing asset (default: the root)"),
                                "cadence": number(minimum=PUMP_CADENCE_SECONDS[0], maximum=PUMP_CADENCE_SECONDS[1])}),
                           required=False))},
        "/_emulator/tenants/{name}/fleet": {"post": op(
            "pumps.seed_fleet", "The fleet `mindsphere-emulator seed` builds (enterprise, sites, pump stations, "
            "pumps), or what of it the tenant lacks; ids derive from seed, tenant and position",
            {"200": ok("What was created", obj({
                "tenant": string(), "seed": integer(), "pumps": integer(),
                "created": obj({"pumps": integer(minimum=0), "sites": integer(minimum=0),
                                "areas": integer(minimum=0)}, "all")}, "all"))},
            400, 404, 409, 413, 415,
            params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")],
            body=json_body(obj({"pumps": integer(minimum=1, maximum=MAX_FLEET_PUMPS),
                                "seed": integer(description="Default: the server's --seed"),
                                "scenarios": array(string(enum=list(data.scenario_names())),
                                                   description="Built-in scenarios: the k-th drives the k-th pump")},
                               ["pumps"])))},
    })
