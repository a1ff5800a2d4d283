"""Event Management v3 (``/api/eventmanagement/v3``): event types with custom fields and inheritance from the
standard event type, events of the tenant's assets with filter, sort, paging, histories and ETags.
Contract: ../shared/reference/events-files-api.md section 1 (the Node SDK's EventManagementClient, its CLI and
tests, the documentation's samples).
"""

from __future__ import annotations

from emulator.apis import Api, Service

# [?] the scopes of Event Management are not in the reference: named like Asset Management's (mdsp.core.am.*)
READ, WRITE, DELETE = "mdsp.core.em.r", "mdsp.core.em.w", "mdsp.core.em.d"


def describe() -> Api:
    from emulator.events import models, routes, spec

    return Api(
        name="events", title="Event Management v3",
        prefixes=(("/api/eventmanagement/", "core"),),
        scopes={"r": READ, "w": WRITE, "d": DELETE},
        blueprints=(routes.bp,),
        spec=spec.fragment,
        tables=models.TABLES, asset_tables=models.ASSET_TABLES, schema_version=1,
        services=(Service("eventmanagement", "v3", ("/api/eventmanagement/v3/",)),),
        known_gaps=("Event Management: nothing is shared between tenants (includeShared=true answers the sharing "
                    "modes DEFAULT or none); expired events are hidden at the clock, not purged; jobs run at once.",),
    )
