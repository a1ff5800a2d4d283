"""The running emulator's parts, typed: what ``create_app`` builds once and every request reads.

Why a class rather than a dict of named parts: a misspelt key was a ``KeyError`` at run time, found by a test
if one covered that line; an attribute is found by the linter and the reader. The app keeps its one
:class:`Runtime` in ``app.extensions``; :func:`runtime` returns it inside a request (or an app context).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:  # the parts' modules import this one (through context); only their types are needed here
    from emulator.apis import Registry
    from emulator.auth.keys import KeyRing
    from emulator.auth.tokens import TokenService
    from emulator.clock import Clock
    from emulator.context import TenantCache
    from emulator.control.journal import Journal
    from emulator.control.plane import ControlPlane
    from emulator.settings import Settings
    from emulator.store import Store

KEY = "mdsp"


@dataclass
class Runtime:
    settings: Settings
    store: Store
    clock: Clock
    registry: Registry
    keyring: KeyRing
    tokens: TokenService
    control: ControlPlane
    journal: Journal
    tenant_cache: TenantCache
    rate_limit: dict | None = None  # the --rate-limit setting's default quota
    derived_cache: dict = field(default_factory=dict)  # per tenant, keyed by version: emulator.assets.types.catalog


# The request's runtime, bound by the request chain's first step and unbound at its teardown: Flask's
# ``current_app`` proxy cost more than a context variable, and a request asks for its runtime a dozen times.
_bound: ContextVar[Runtime | None] = ContextVar("mdsp_runtime", default=None)


def bind(rt: Runtime | None) -> None:
    """The runtime :func:`runtime` answers in this thread's request until ``bind(None)``."""
    _bound.set(rt)


def runtime() -> Runtime:
    found = _bound.get()
    return found if found is not None else current_app.extensions[KEY]
