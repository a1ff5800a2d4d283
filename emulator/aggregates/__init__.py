"""IoT TS Aggregates v3 and v4: statistics of numeric variables per interval, from the time series' rollups."""

from __future__ import annotations

from emulator.apis import Api, Service


def describe() -> Api:
    from emulator.aggregates import routes, spec
    from emulator.timeseries import settle

    return Api(
        name="aggregates", title="TS Aggregates",
        # v4 answers in the core envelope; v3, an older API, in the time series one
        prefixes=(("/api/iottsaggregates/", "core"), ("/api/iottsaggregates/v3/", "timeseries")),
        scopes={"r": "iot.tsa.r"},
        roles={"mdsp:core:iot.tsaUser": ("iot.tsa.r",)},
        blueprints=(routes.bp,), spec=spec.fragment,
        before_read=settle.before_read,  # the rollups it reads take in the writes first
        services=(Service("iottsaggregates", "v4, v3",
                          ("/api/iottsaggregates/v4/aggregates", "/api/iottsaggregates/v3/aggregates/")),),
    )
