"""The built-in ``core.`` asset types and the root asset every tenant starts with.

Ids and case: MindSphere's own samples write them in lower case (``core.basicsite``,
``core.basicdevice``: mindsphere-api.md 2d) while Siemens' SDK sends ``core.BasicAsset``; the
emulator keeps the lower-case ids and resolves ``core.`` ids case-insensitively [?].
"""

from __future__ import annotations

from emulator import limits
from emulator.assets.models import asset_types, assets
from emulator.store import TenantScope

CORE_PREFIX = "core."
CORE_TENANT = "core"

# id -> (name, parent, instantiable, description). Parents and variables as real tenants show them
# (research sdk-parity.md 3): core.basicsite/basicarea/basicenterprise sit under core.basichierarchy
# [C] (Siemens' dataModelHandler export of a real tenant); core.mclib is the type the SDK and the mc CLI
# give agent assets [C] (mc-create-agent.ts:54), under core.basicagent [?]. core.basicasset stays
# instantiable here (the docs' sample says false) because the emulator's users make plain assets of it.
CORE_TYPES: dict[str, tuple[str, str | None, bool, str]] = {
    "core.basicasset": ("BasicAsset", None, True, "Base type for the Asset Management Service."),
    "core.basichierarchy": ("BasicHierarchy", "core.basicasset", False, "The base of the hierarchy types"),
    "core.basicenterprise": ("BasicEnterprise", "core.basichierarchy", False, "The type of a tenant's root asset"),
    "core.basicsite": ("BasicSite", "core.basichierarchy", True, "A site such as a plant"),
    "core.basicarea": ("BasicArea", "core.basichierarchy", True, "An area of a site"),
    "core.basicdevice": ("BasicDevice", "core.basicasset", True, "A device"),
    "core.basicagent": ("BasicAgent", "core.basicdevice", False, "A MindConnect agent (agent management only)"),
    "core.mclib": ("MindConnectLib", "core.basicagent", True, "A MindConnect Lib agent"),
}


def _variable(name: str, data_type: str, length: int | None, default: str | None) -> dict:
    return {"name": name, "dataType": data_type, "unit": None, "searchable": True, "length": length,
            "defaultValue": default}


# The core types' own variables. externalId and hierarchyModel [C]: the API's basic types page (STRING 255,
# searchable, default null). tenantFlag [D]: a real root asset answers {"name": "tenantFlag", "value": "true"};
# its data type and default are [?] (BOOLEAN, "true"). core.basicdevice's own variable is unknown: Siemens'
# SDK test counts 3 exploded variables on a child of it with one own (assetypes.spec.ts:130,142), so the
# chain has 2, but no source names the second; the emulator adds none rather than invent one (README).
CORE_VARIABLES: dict[str, list[dict]] = {
    "core.basicasset": [_variable("externalId", "STRING", 255, None)],
    "core.basichierarchy": [_variable("hierarchyModel", "STRING", 255, None)],
    "core.basicenterprise": [{**_variable("tenantFlag", "BOOLEAN", None, "true"), "searchable": False}],
}


def canonical(type_id: str) -> str:
    """``core.BasicAsset`` -> ``core.basicasset``; tenant type ids are kept as they are."""
    if type_id[:5].lower() == CORE_PREFIX and type_id.lower() in CORE_TYPES:
        return type_id.lower()
    return type_id


def seed(scope: TenantScope, now: float) -> None:
    """The tenant's copies of the core types, in one statement (every test's fresh tenant pays for it)."""
    scope.insert_many(asset_types, [
        {"id": type_id, "name": name, "description": description, "parent_type_id": parent,
         "instantiable": instantiable, "scope": "public", "builtin": True,
         "variables": CORE_VARIABLES.get(type_id, []), "aspects": [], "etag": 0,
         "created_at": now}
        for type_id, (name, parent, instantiable, description) in CORE_TYPES.items()])



def start_state(scope: TenantScope, tenant: dict, now: float) -> None:
    """A new (or reset) tenant's Asset Management: the core asset types and the root asset, named after the
    tenant, in its default time zone."""
    seed(scope, now)
    scope.insert(assets, asset_id=tenant["root_asset_id"], name=scope.tenant, type_id=limits.ROOT_ASSET_TYPE_ID,
                 timezone=tenant["default_timezone"], twin_type="performance", variables=[], aspects=[], etag=0,
                 created_at=now)
