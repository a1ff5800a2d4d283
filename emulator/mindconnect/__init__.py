"""MindConnect API v3 (``/api/mindconnect/v3``): data point mappings, the exchange endpoint (an agent's multipart
messages mapped into IoT Time Series), diagnostic activations with their messages, and record recovery (exchanges
that dropped values, kept to be downloaded, replayed or deleted). Contract and evidence:
shared/reference/mindconnect-api.md section 4 (MCSPEC: the official swagger v3.6.0; the Node SDK's agent code).
"""

from __future__ import annotations

from emulator.apis import Api, Service

# [?] MCSPEC names map.c/r/d, exc.w, da.*, di.r; one triple in Agent Management's form, as agents/ chose.
READ, WRITE, DELETE = "mdsp.core.mc.r", "mdsp.core.mc.w", "mdsp.core.mc.d"
AGENT_ROLE = "mdsp:core:DefaultAgent"


def agent_grants() -> tuple[str, ...]:
    """What an agent's token reaches besides Agent Management (whose routes keep it to its own configuration):
    this API (its routes keep it to its own mappings and activation), Asset Management reads (Siemens'
    sdk-with-agent-auth test lists assets and aspect types with it), Event Management writes and reads
    (``PostEvent``) and IoT File (``UploadFile``): mindconnect-api.md 6. Time series, aggregates and the rest: 403."""
    from emulator import assets, events, iotfiles

    return (READ, WRITE, DELETE, assets.READ, events.READ, events.WRITE, iotfiles.READ, iotfiles.WRITE)


def describe() -> tuple[Api, Api]:
    from emulator.mindconnect import links, models, routes, spec

    api = Api(
        name="mindconnect", title="MindConnect API v3",
        prefixes=(("/api/mindconnect/", "timeseries"),),  # errors {"id", "message"} (MCSPEC)
        scopes={"r": READ, "w": WRITE, "d": DELETE},
        roles={AGENT_ROLE: agent_grants(), "mdsp:core:mindconnect.admin": (READ, WRITE, DELETE)},
        blueprints=(routes.bp,),
        spec=spec.fragment,
        tables=models.TABLES, asset_tables=models.ASSET_TABLES, schema_version=2,  # 2: recoverable records
        services=(Service("mindconnect", "v3", ("/api/mindconnect/v3/",)),),
        known_gaps=("MindConnect API v3: event mappings are not emulated; the exchange takes time series items "
                    "only (events, files and configurations through it answer 400).",),
    )
    # A recoverable record's downloadLink: a pre-signed URL, fetched without a bearer token (the link's own signed
    # token authorizes); the longer prefix wins over the API's.
    download = Api(
        name="mindconnectlinks", title="MindConnect record downloads (pre-signed links)",
        prefixes=((links.PREFIX + "/", "timeseries"),), protected=False,
        blueprints=(links.bp,), spec=spec.links_fragment,
    )
    return api, download
