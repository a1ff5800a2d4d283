"""IoT File Service v3 (``/api/iotfile/v3``): files of the tenant's assets under a path, single uploads with
integer etags, downloads, deletes and the search. Contract: ../shared/reference/events-files-api.md section 2.
"""

from __future__ import annotations

from emulator.apis import Api, Service

READ, WRITE, DELETE = "iot.fil.r", "iot.fil.w", "iot.fil.d"  # [C] FOV


def describe() -> Api:
    from emulator.iotfiles import models, routes, spec

    return Api(
        name="iotfiles", title="IoT File Service v3",
        prefixes=(("/api/iotfile/", "core"),),
        scopes={"r": READ, "w": WRITE, "d": DELETE},
        blueprints=(routes.bp,),
        spec=spec.fragment,
        tables=models.TABLES, asset_tables=models.TABLES, schema_version=1,
        services=(Service("iotfile", "v3", ("/api/iotfile/v3/",)),),
        known_gaps=("IoT File Service: If-None-Match, several ranges in one Range header and the purge of "
                    "unfinished uploads after 2 days are not emulated.",),
    )
