"""OAuth scope arithmetic: role names expanded, audiences derived.

Which scope each API call needs, and which roles grant which scopes, is each API's own declaration (its
descriptor, :class:`emulator.apis.Api`). MindSphere service scopes follow ``{service}.{resource}.{r|w|d}``;
IoT Time Series declares ``iot.tim.r``, ``iot.tim.w``, ``iot.tim.d`` [C] (mindsphere-api.md 1b). The other
names are ours [?], chosen in the same pattern, and listed in the README's fidelity notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def expand(scopes: Iterable[str], roles: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """A token's scopes with role names replaced by the scopes they grant."""
    out: set[str] = set()
    for scope in scopes:
        out.add(scope)
        out.update(roles.get(scope, ()))
    return frozenset(out)


def audiences(scopes) -> list[str]:
    """UAA's ``aud`` claim: the resource part of each scope (``iot.tim.r`` -> ``iot.tim``)."""
    return sorted({s.rsplit(".", 1)[0] if "." in s else s for s in scopes})
