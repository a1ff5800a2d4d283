"""The registry line of each emulated API: the one place that names them all.

``create_app`` and the commands build their :class:`emulator.apis.Registry` from :func:`load`; everything else
(the request chain, scope checks, capabilities, the schema, tenant lifecycle, the OpenAPI document) reads that
registry. A new API (``make new-api NAME=...``) adds its line to ``PACKAGES``.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from emulator.apis import Registry

PACKAGES = (
    "emulator.auth",
    "emulator.assets",
    "emulator.timeseries",
    "emulator.aggregates",
    "emulator.odata",
    "emulator.control",
    "emulator.devices",
    "emulator.events",
    "emulator.iotfiles",
    "emulator.agents",
    "emulator.mindconnect",
)


@lru_cache(maxsize=1)
def load() -> Registry:
    """Each package's ``describe()`` (one descriptor, or a tuple of them), in ``PACKAGES`` order."""
    apis = []
    for name in PACKAGES:
        described = importlib.import_module(name).describe()
        apis.extend(described if isinstance(described, tuple) else (described,))
    return Registry(tuple(apis))


def api_of(path: str):
    """The API a path belongs to, in the registry of this installation (for tools and tests outside a request)."""
    return load().api_of(path)
