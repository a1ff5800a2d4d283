"""Agent Management v3 (``/api/agentmanagement/v3``): agents bound to ``core.mclib`` assets, their boarding
configuration and status, offboarding, and their data source configuration. Contract and evidence:
shared/reference/mindconnect-api.md section 2 (AMSPEC: the official swagger v3.5.2)."""

from __future__ import annotations

from emulator.apis import Api, Service

# [?] the scope names are not in the sources read (AMSPEC names agm.c/r/u/d, obc.*, dsc.*): one triple, in the
# form of Asset Management's, which every client of the tenant holds by default.
READ, WRITE, DELETE = "mdsp.core.agm.r", "mdsp.core.agm.w", "mdsp.core.agm.d"


def describe() -> tuple[Api, Api]:
    from emulator.agents import models, oauth_routes, routes, spec

    management = Api(
        name="agents", title="Agent Management v3",
        prefixes=(("/api/agentmanagement/", "core"),),
        scopes={"r": READ, "w": WRITE, "d": DELETE},
        # an agent token's scope: the routes let it reach its own data source configuration only
        roles={"mdsp:core:agm.admin": (READ, WRITE, DELETE), "mdsp:core:DefaultAgent": (READ, WRITE)},
        blueprints=(routes.bp,),
        spec=spec.fragment,
        tables=models.TABLES, schema_version=1,
        services=(Service("agentmanagement", "v3", ("/api/agentmanagement/v3/",)),),
        known_gaps=("Agent Management: X.509 agents are not emulated.",),
    )
    # The agent's own OAuth: no tenant token (the IAT, the registration access token or a client assertion
    # authenticates), errors in the IAM shape; the longer prefixes win over Agent Management's.
    iam = Api(
        name="agentiam", title="Agent IAM (agent OAuth)",
        prefixes=(("/api/agentmanagement/v3/register", "oauth"), ("/api/agentmanagement/v3/oauth/", "oauth")),
        protected=False, blueprints=(oauth_routes.bp,), spec=spec.oauth_fragment,
    )
    return management, iam
