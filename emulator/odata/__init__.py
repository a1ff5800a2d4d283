"""Data Hub: the contracts Asset Manager publishes (administered under ``/_emulator/contracts`` with the tenant's
token) and the read-only OData v4 service of each under ``/odata/{contract}/``."""

from __future__ import annotations

from emulator.apis import Api, Service


def describe() -> tuple[Api, ...]:
    from emulator.odata import models, routes, spec
    from emulator.timeseries import settle

    service = Api(
        name="odata", title="Data Hub",
        prefixes=(("/odata/", "odata"),),
        scopes={"r": "mdsp.datahub.r"},
        blueprints=(routes.bp,), spec=spec.service_fragment,
        before_read=settle.before_read,  # its aggregates entity sets read the rollups
        services=(Service("datahub", "OData 4.0",
                          ("/odata/{contract}/", "/_emulator/contracts", "/_emulator/datahub/catalog")),),
        known_gaps=("Data Hub: OData $batch, CSDL JSON, property paths (Set(key)/property) and IEEE754Compatible "
                    "are not served.",),
    )
    contracts = Api(
        name="contracts", title="Data Hub",
        prefixes=(("/_emulator/contracts", "core"),),  # tenant data: the tenant's token, Asset Manager's scopes
        scopes={"r": "mdsp.core.am.r", "w": "mdsp.core.am.w", "d": "mdsp.core.am.d"},
        blueprints=(routes.admin_bp,), spec=spec.contracts_fragment,
        tables=models.TABLES, schema_version=1,
    )
    return service, contracts
