"""The control plane under ``/_emulator/``: health, capabilities, tenants, keys, the clock, faults, rate limits,
the journal, reset, snapshots and the OpenAPI document."""

from __future__ import annotations

from emulator.apis import Api

MAX_DELETED = 100  # tenants one creation deletes first (the plugin's client hands over one a test): here, where the
# client reads it without importing the control plane's routes


def describe() -> Api:
    from emulator.control import openapi, routes, spec

    return Api(
        name="control", title="Control plane",
        prefixes=(("/_emulator/", "core"),),
        protected=False, data_plane=False,
        blueprints=(routes.bp, openapi.bp), spec=spec.fragment,
        known_gaps=("Control plane: a dropped connection is a response cut short, not a TCP reset.",
                    "Model locks and sharing (includeShared) are out of scope."),
    )
