"""Asset Management v3: routes (HTTP) over service (domain) and resources (JSON shapes)."""

from __future__ import annotations

from emulator.apis import Api, Service

READ, WRITE, DELETE = "mdsp.core.am.r", "mdsp.core.am.w", "mdsp.core.am.d"


def describe() -> Api:
    from emulator.assets import core_types, models, routes, spec

    return Api(
        name="assets", title="Asset Management v3",
        prefixes=(("/api/assetmanagement/", "core"),),
        scopes={"r": READ, "w": WRITE, "d": DELETE},
        roles={"mdsp:core:assetmanagement.admin": (READ, WRITE, DELETE),  # [C] role names
               "mdsp:core:assetmanagement.standarduser": (READ, WRITE)},
        blueprints=(routes.bp,), spec=spec.fragment,
        tables=models.TABLES, schema_version=1,
        seed_tenant=core_types.start_state,
        services=(Service("assetmanagement", "v3", ("/api/assetmanagement/v3/",)),),
        known_gaps=("Asset Management: files, file assignments, model locks, sharing and PATCH .../variables are "
                    "not emulated.",),
    )
