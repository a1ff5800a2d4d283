"""OAuth scopes: which scope each API call needs, and which scopes a client may hold.

MindSphere service scopes follow ``{service}.{resource}.{r|w|d}``; IoT Time Series declares
``iot.tim.r``, ``iot.tim.w``, ``iot.tim.d`` [C] (mindsphere-api.md 1b). The other names are ours
[?], chosen in the same pattern, and listed in the README's fidelity notes. The role names
``mdsp:core:assetmanagement.admin`` / ``.standarduser`` [C] and ``mdsp:core:iot.timAdmin`` /
``mdsp:core:iot.timUser`` are accepted too, standing for the scopes they grant.
"""

from __future__ import annotations

# api name -> {action: scope}; actions: r (GET, HEAD), w (POST, PUT, PATCH), d (DELETE)
API_SCOPES: dict[str, dict[str, str]] = {
    "assets": {"r": "mdsp.core.am.r", "w": "mdsp.core.am.w", "d": "mdsp.core.am.d"},
    "timeseries": {"r": "iot.tim.r", "w": "iot.tim.w", "d": "iot.tim.d"},
    "aggregates": {"r": "iot.tsa.r"},
    "odata": {"r": "mdsp.datahub.r"},
    "contracts": {"r": "mdsp.core.am.r", "w": "mdsp.core.am.w", "d": "mdsp.core.am.d"},  # Asset Manager's
}

ROLES: dict[str, tuple[str, ...]] = {
    "mdsp:core:assetmanagement.admin": ("mdsp.core.am.r", "mdsp.core.am.w", "mdsp.core.am.d"),
    "mdsp:core:assetmanagement.standarduser": ("mdsp.core.am.r", "mdsp.core.am.w"),
    "mdsp:core:iot.timAdmin": ("iot.tim.r", "iot.tim.w", "iot.tim.d"),
    "mdsp:core:iot.timUser": ("iot.tim.r",),
    "mdsp:core:iot.tsaUser": ("iot.tsa.r",),
}

ALL_SCOPES: tuple[str, ...] = tuple(s for api in API_SCOPES.values() for s in api.values())
KNOWN: frozenset[str] = frozenset(ALL_SCOPES) | frozenset(ROLES)

_ACTION = {"GET": "r", "HEAD": "r", "OPTIONS": "r", "POST": "w", "PUT": "w", "PATCH": "w", "DELETE": "d"}


def required_scope(api: str, method: str) -> str | None:
    """The scope a call needs, or None when the API has no scope for it (checked elsewhere)."""
    table = API_SCOPES.get(api)
    if table is None:
        return None
    action = _ACTION.get(method.upper(), "w")
    return table.get(action) or table.get("r")


def expand(scopes) -> frozenset[str]:
    """A token's scopes with role names replaced by the scopes they grant."""
    out: set[str] = set()
    for scope in scopes:
        out.add(scope)
        out.update(ROLES.get(scope, ()))
    return frozenset(out)


def unknown(scopes) -> list[str]:
    return [s for s in scopes if s not in KNOWN]


def audiences(scopes) -> list[str]:
    """UAA's ``aud`` claim: the resource part of each scope (``iot.tim.r`` -> ``iot.tim``)."""
    return sorted({s.rsplit(".", 1)[0] if "." in s else s for s in scopes})
