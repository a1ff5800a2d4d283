"""What a worker keeps of a tenant's model (its catalogue of types, its file assignments, its published contracts) is
keyed by the tenant's model version, which every change of the model moves. A transaction that changed the model
and then read it (the answer of a type's PUT does) must not keep what it read under the version it wrote: rolled
back, that version number would later be another change's, and the worker would answer with the types of a change
that never happened. Through the store and the types' own functions, on a SQLite file."""

from __future__ import annotations

from emulator.app import create_app
from emulator.assets import types
from emulator.runtime import KEY
from emulator.settings import Settings
from emulator.store import TenantScope

TENANT = "emutenant"


def _aspect(name: str) -> dict:
    return {"name": name, "category": "dynamic", "variables": [{"name": "level", "dataType": "DOUBLE"}]}


def test_a_model_read_in_a_change_that_was_rolled_back_is_not_kept(tmp_path):
    app = create_app(Settings(data_dir=str(tmp_path)))
    rt = app.extensions[KEY]

    def scope(conn) -> TenantScope:
        return TenantScope(conn, TENANT, rt.derived_cache)

    with rt.store.transaction() as conn:
        types.catalog(scope(conn))  # the committed model, kept

    conn = rt.store.begin(write=True)
    types.put_aspect_type(scope(conn), f"{TENANT}.Ghost", _aspect("Ghost"), None, None, 0.0)
    assert f"{TENANT}.Ghost" in types.catalog(scope(conn)).aspect_types  # the change sees itself
    rt.store.end(conn, commit=False)  # and is rolled back

    with rt.store.transaction(write=True) as conn:  # another change: the same version number as the one rolled back
        types.put_aspect_type(scope(conn), f"{TENANT}.Real", _aspect("Real"), None, None, 0.0)
        own = types.catalog(scope(conn)).aspect_types  # what its answer shows: its own change, not the other's
        assert f"{TENANT}.Real" in own and f"{TENANT}.Ghost" not in own
    with rt.store.transaction() as conn:
        seen = types.catalog(scope(conn)).aspect_types
    assert f"{TENANT}.Real" in seen and f"{TENANT}.Ghost" not in seen
    rt.store.dispose()
