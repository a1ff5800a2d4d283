"""IoT Time Series v3: records of an asset's dynamic aspects (mindsphere-api.md 3), and the rollups every write
keeps in step (what TS Aggregates reads)."""

from __future__ import annotations

from emulator.apis import Api, Service


def describe() -> Api:
    from emulator.timeseries import models, routes, spec

    return Api(
        name="timeseries", title="IoT Time Series v3",
        prefixes=(("/api/iottimeseries/", "timeseries"),),
        scopes={"r": "iot.tim.r", "w": "iot.tim.w", "d": "iot.tim.d"},  # [C] mindsphere-api.md 1b
        roles={"mdsp:core:iot.timAdmin": ("iot.tim.r", "iot.tim.w", "iot.tim.d"),
               "mdsp:core:iot.timUser": ("iot.tim.r",)},
        blueprints=(routes.bp,), spec=spec.fragment,
        # schema 3: blocks; 4: rollups packed; 5: pending; 6: rollups without rowid
        tables=models.TABLES, asset_tables=models.TABLES, schema_version=6,
        services=(Service("iottimeseries", "v3", ("/api/iottimeseries/v3/",)),),
        known_gaps=("IoT Time Series: PATCH (merge into records) and simulation twins' millisecond aggregates are "
                    "not emulated.",),
    )
