"""The built-in ``core.`` asset types and the root asset every tenant starts with.

Ids and case: MindSphere's own samples write them in lower case (``core.basicsite``,
``core.basicdevice``: mindsphere-api.md 2d) while Siemens' SDK sends ``core.BasicAsset``; the
emulator keeps the lower-case ids and resolves ``core.`` ids case-insensitively [?].
"""

from __future__ import annotations

from sqlalchemy import insert

from emulator import limits
from emulator.assets.models import asset_types, assets
from emulator.store import TenantScope

CORE_PREFIX = "core."
CORE_TENANT = "core"

# id -> (name, parent, instantiable, description)
CORE_TYPES: dict[str, tuple[str, str | None, bool, str]] = {
    "core.basicasset": ("BasicAsset", None, True, "The base of every asset type"),
    "core.basicenterprise": ("BasicEnterprise", "core.basicasset", False, "The type of a tenant's root asset"),
    "core.basicsite": ("BasicSite", "core.basicasset", True, "A site such as a plant"),
    "core.basicarea": ("BasicArea", "core.basicasset", True, "An area of a site"),
    "core.basicdevice": ("BasicDevice", "core.basicasset", True, "A device"),
    "core.basicagent": ("BasicAgent", "core.basicdevice", False, "A MindConnect agent (agent management only)"),
}


def canonical(type_id: str) -> str:
    """``core.BasicAsset`` -> ``core.basicasset``; tenant type ids are kept as they are."""
    if type_id[:5].lower() == CORE_PREFIX and type_id.lower() in CORE_TYPES:
        return type_id.lower()
    return type_id


def seed(scope: TenantScope, now: float) -> None:
    """The tenant's copies of the core types, in one statement (every test's fresh tenant pays for it)."""
    scope.conn.execute(_INSERT, [
        {"tenant_id": scope.tenant, "id": type_id, "name": name, "description": description, "parent_type_id": parent,
         "instantiable": instantiable, "scope": "public", "builtin": True, "variables": [], "aspects": [], "etag": 0,
         "created_at": now}
        for type_id, (name, parent, instantiable, description) in CORE_TYPES.items()])


_INSERT = insert(asset_types)


def start_state(scope: TenantScope, tenant: dict, now: float) -> None:
    """A new (or reset) tenant's Asset Management: the core asset types and the root asset, named after the
    tenant, in its default time zone."""
    seed(scope, now)
    scope.insert(assets, asset_id=tenant["root_asset_id"], name=scope.tenant, type_id=limits.ROOT_ASSET_TYPE_ID,
                 timezone=tenant["default_timezone"], twin_type="performance", variables=[], aspects=[], etag=0,
                 created_at=now)
