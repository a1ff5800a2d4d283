"""What an emulated API is (:class:`Api`, one descriptor per API package) and the :class:`Registry` of them.

Error rendering, scope checks, fault matching, rate limits, the journal, capabilities, the schema and the
OpenAPI document all ask the same questions ("which API is this path?", "which scope does this call need?",
"which tables hold a tenant's data?"), so each API answers them once, in the descriptor its package's
``__init__.py`` returns, and the rest of the emulator iterates the registry (``emulator.registry``). Adding
an API is a new folder and one line there.

This module imports no API package: it sits below them, so that they can describe themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

ENVELOPES = ("core", "timeseries", "oauth", "odata")
ACTIONS = {"GET": "r", "HEAD": "r", "OPTIONS": "r", "POST": "w", "PUT": "w", "PATCH": "w", "DELETE": "d"}


@dataclass(frozen=True)
class Service:
    """A MindSphere service as capabilities lists it: its name there, its version, its documented paths."""

    name: str
    version: str
    paths: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"name": self.name, "paths": list(self.paths), "version": self.version}


@dataclass(frozen=True)
class Api:
    """One emulated API. ``prefixes`` are ``(path prefix, envelope)`` pairs: the error shape a path of this API
    answers in (TS Aggregates v3 speaks the time series envelope, v4 the core one). A part without prefixes of its
    own (the simulated devices' control-plane route) answers under the API whose prefix its paths have."""

    name: str  # in fault rules, rate limits and the journal: token | assets | timeseries | ...
    title: str  # the OpenAPI tag
    prefixes: tuple[tuple[str, str], ...]
    protected: bool = True  # needs a bearer token of a tenant
    scopes: Mapping[str, str] = field(default_factory=dict)  # action (r, w, d) -> the scope it needs
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role name -> the scopes it grants
    blueprints: tuple[Any, ...] = ()
    spec: Callable[..., dict] | None = None  # (admin_token: bool) -> its OpenAPI fragment (emulator.spec)
    tables: tuple[Any, ...] = ()  # tenant data, children before parents (the order it is deleted in)
    asset_tables: tuple[Any, ...] = ()  # those of ``tables`` keyed by ``asset_id``: deleted with their asset
    schema_version: int = 1  # of ``tables``: a database written with another version is refused
    seed_tenant: Callable[..., None] | None = None  # (scope, tenant row): the start state of a new or reset tenant
    known_gaps: tuple[str, ...] = ()
    services: tuple[Service, ...] = ()  # as capabilities lists them
    data_plane: bool = True  # its requests pass the chain (auth, faults, rate limits, journal); the control plane's not
    before_read: Callable[[], None] | None = None  # the chain's last step for its reading requests, before the route

    @property
    def envelope(self) -> str:
        return self.prefixes[0][1]

    def required_scope(self, method: str) -> str | None:
        """The scope a call needs, or None when the API has none for it (checked elsewhere)."""
        action = ACTIONS.get(method.upper(), "w")
        return self.scopes.get(action) or self.scopes.get("r")

    def for_envelope(self, envelope: str) -> Api:
        return self if envelope == self.envelope else replace(self, prefixes=((self.prefixes[0][0], envelope),))


# Paths of no API: an unknown /api/ path still needs a token (and answers 404 in the core envelope).
_UNKNOWN_API = Api("other", "Unknown API", (("/api/", "core"),))
_OTHER = Api("other", "Not an API", (("/", "core"),), protected=False)


class Registry:
    """Every emulated API, in registry order, with the look-ups built once."""

    def __init__(self, apis: tuple[Api, ...]):
        names = [api.name for api in apis]
        if len(set(names)) != len(names):
            raise ValueError(f"two APIs share a name: {names}")
        self.apis = apis
        self.by_name = MappingProxyType({api.name: api for api in apis})
        table = [(prefix, api.for_envelope(envelope)) for api in apis for prefix, envelope in api.prefixes]
        table.append(("/api/", _UNKNOWN_API))
        self._table = sorted(table, key=lambda item: len(item[0]), reverse=True)  # longest prefix wins

    def api_of(self, path: str) -> Api:
        """The API a request path belongs to (with the envelope that path speaks)."""
        for prefix, api in self._table:
            if path.startswith(prefix):
                return api
        return _OTHER

    @property
    def names(self) -> tuple[str, ...]:
        """Names a fault rule or a rate limit may match: the APIs a tenant's requests reach."""
        return tuple(api.name for api in self.apis if api.data_plane)

    @property
    def all_scopes(self) -> tuple[str, ...]:
        """Every scope, in registry order, each once: a new client's default."""
        seen: dict[str, None] = {}
        for api in self.apis:
            for scope in api.scopes.values():
                seen.setdefault(scope, None)
        return tuple(seen)

    @property
    def roles(self) -> dict[str, tuple[str, ...]]:
        """Role name -> the scopes it grants; a role several APIs name (an agent's) grants all their scopes."""
        out: dict[str, tuple[str, ...]] = {}
        for api in self.apis:
            for role, scopes in api.roles.items():
                out[role] = tuple(dict.fromkeys(out.get(role, ()) + tuple(scopes)))
        return out

    @property
    def known_scopes(self) -> frozenset[str]:
        return frozenset(self.all_scopes) | frozenset(self.roles)

    def tenant_tables(self, core_tables) -> list:
        """Every table of tenant data, children before parents: the APIs' (last registered first), then the core's."""
        out = [table for api in reversed(self.apis) for table in api.tables]
        return out + [table for table in core_tables if table not in out]

    def asset_tables(self) -> tuple:
        """Every table whose rows belong to one asset (``asset_id``): they go when the asset goes."""
        return tuple(table for api in self.apis for table in api.asset_tables)

    def schema_parts(self) -> dict[str, tuple[int, tuple]]:
        """API name -> (schema version, tables) of every API that keeps tables."""
        return {api.name: (api.schema_version, api.tables) for api in self.apis if api.tables}

    def known_gaps(self) -> list[str]:
        return [gap for api in self.apis for gap in api.known_gaps]
