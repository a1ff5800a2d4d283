"""What a small read asks of the store, statement by statement ([performance]): served, each statement costs a
request a round of the interpreter's lock, so the everyday reads run as few as their answers need.

* The tenant's model key (the version of its types, which keys the catalogue a worker keeps) comes with the
  request's first read of the asset instead of a query of its own.
* A GET of an asset (or a page of assets) asked again while nothing was committed is answered with what was
  rendered for it (emulator.answers) without a statement: the writers' count (emulator.store.writers) tells that
  nothing was committed; SQLite's ``PRAGMA data_version`` is asked once a second (a writer outside the emulator),
  or every time where commits are not counted.
* A Data Hub time series set asked again while nothing was committed does not probe every asset of its type for
  records again (``blocks.typed_holding``, kept as answers are).
* And never a stale answer: a change committed by the same connection, by another thread's or by another worker's
  shows in the next read, whichever connection reads it (records of an asset that had none, in a Data Hub set);
  a type changed between two reads shows in the second; the links follow the host the client called.

Served over a SQLite file (the in-thread server with one thread, so that one connection serves every request, or
``serve`` with two workers); the statements are the driver's own, traced on every connection the store opens.
"""

from __future__ import annotations

import sqlite3
import struct
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from emulator.runtime import KEY
from emulator.settings import Settings
from emulator.store.engine import RECHECK_SECONDS
from emulator.testing import ApiSession, LiveServer, ServerProcess, fetch_token
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, CONTRACTS, ODATA, TIMESERIES

MODEL_KEY_ALONE = "SELECT (SELECT instance"  # the model key's query of its own (emulator.store.scope)
PROBE = "(SELECT b.t_last FROM ts_blocks b"  # a Data Hub set's probe of its assets for records (blocks.typed_holding)
TANK_SET = f"{ODATA}/tanks/TS_Tank_Levels_Tank"


@contextmanager
def _traced_server(tmp_path):
    """(the live server, an api session, the statements run since the list was last cleared, the tenant) of a
    one-thread server over a SQLite file."""
    settings = Settings(data_dir=str(tmp_path), pump=False)
    with LiveServer(settings, threads=1) as live:
        store = live.app.extensions[KEY].store
        statements: list[str] = []

        @event.listens_for(store.engine, "connect")
        def _trace(dbapi_conn, _record):
            dbapi_conn.set_trace_callback(statements.append)

        store.dispose()  # every connection from here on is a traced one
        with ApiSession(live.url, fetch_token(live.url, settings.client_id, settings.client_secret)) as api:
            yield live, api, statements, settings.tenant


@pytest.fixture
def traced(tmp_path):
    """(api session, the statements run since the list was last cleared, the tenant) of a one-thread server."""
    with _traced_server(tmp_path) as (_live, api, statements, tenant):
        yield api, statements, tenant


def _reads(statements: list[str]) -> list[str]:
    """The queries (the journal's writer thread may add its INSERTs meanwhile)."""
    return [s for s in statements if s.startswith("SELECT")]


def _of_assets(statements: list[str]) -> list[str]:
    return [s for s in _reads(statements) if "FROM assets" in s]


def _tank(api, tenant: str) -> str:
    variables = [{"name": "level", "dataType": "DOUBLE"}]
    assert api.put(f"{ASPECT_TYPES}/{tenant}.Tank", json={"name": "Tank", "category": "dynamic",
                                                            "variables": variables}).status_code == 201
    assert api.put(f"{ASSET_TYPES}/{tenant}.Tank", json={
        "name": "Tank", "parentTypeId": "core.basicasset",
        "aspects": [{"name": "Levels", "aspectTypeId": f"{tenant}.Tank"}]}).status_code == 201
    root = api.get(f"{ASSETS}/root").json()["assetId"]
    resp = api.post(ASSETS, json={"name": "T1", "typeId": f"{tenant}.Tank", "parentId": root})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def _tank_sibling(api, tenant: str) -> str:
    """A second asset of the Tank type made by :func:`_tank`."""
    root = api.get(f"{ASSETS}/root").json()["assetId"]
    resp = api.post(ASSETS, json={"name": "T2", "typeId": f"{tenant}.Tank", "parentId": root})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def _publish_tanks(api) -> None:
    """A Data Hub contract over the Tank type of :func:`_tank`, published: its set ``TS_Tank_Levels_Tank``."""
    tenant = api.get(f"{ASSETS}/root").json()["name"]
    made = api.post(CONTRACTS, json={"name": "tanks", "assetTypeIds": [f"{tenant}.Tank"],
                                     "publisherEmail": "maker@example.com"})
    assert made.status_code == 201, made.text
    assert api.post(f"{CONTRACTS}/tanks/publish").status_code == 200


def _levels(api, asset: str, *values: float) -> None:
    records = [{"_time": f"2025-01-01T00:00:0{k}.000Z", "level": v} for k, v in enumerate(values, 1)]
    assert api.put(f"{TIMESERIES}/{asset}/Levels", json=records).status_code == 204


def _describe(api, asset: str, text: str) -> None:
    etag = api.get(f"{ASSETS}/{asset}").headers["ETag"]
    resp = api.patch(f"{ASSETS}/{asset}", json={"description": text},
                     headers={"If-Match": etag, "Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text


def test_an_asset_read_brings_the_model_key_with_the_asset(traced):
    api, statements, tenant = traced
    asset = _tank(api, tenant)
    other = _tank_sibling(api, tenant)
    for path, queries in ((f"{ASSETS}/root", 1), (f"{ASSETS}/{asset}", 2)):  # a child's parent: its hierarchyPath
        assert api.get(path).status_code == 200  # the worker's caches (tenant, control, catalogue) filled
        _describe(api, other, path)  # a change elsewhere: what was kept of the path is not given again
        statements.clear()
        assert api.get(path).status_code == 200
        reads = _of_assets(statements)
        assert len(reads) == queries, reads
        assert "model_version" in reads[0], reads
        assert not [s for s in _reads(statements) if s.startswith(MODEL_KEY_ALONE)], statements


def test_a_time_series_read_and_write_read_the_model_key_with_the_asset(traced):
    api, statements, tenant = traced
    asset = _tank(api, tenant)
    series = f"{TIMESERIES}/{asset}/Levels"
    assert api.put(series, json=[{"_time": "2025-01-01T00:00:01.000Z", "level": 1.5}]).status_code == 204
    for method, kwargs in (("GET", {"params": {"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}}),
                           ("PUT", {"json": [{"_time": "2025-01-01T00:00:02.000Z", "level": 2.5}]})):
        statements.clear()
        assert api.request(method, series, **kwargs).status_code in (200, 204)
        reads = _reads(statements)
        assert not [s for s in reads if s.startswith(MODEL_KEY_ALONE)], reads
        assert [s for s in reads if "FROM assets" in s and "model_version" in s], reads


def _asked_again(api, statements: list[str], path: str, expected: tuple[str, ...] = ()):
    """``path`` asked again until the request ran just the ``expected`` statements of its own (at most three times:
    the journal's writer, committing its entries every quarter second, may move the store between two asks); the
    answer and the request's statements."""
    for _ in range(3):
        statements.clear()
        again = api.get(path)
        own = _own(statements)
        if own == list(expected):
            break
    return again, own


def _own(statements: list[str]) -> list[str]:
    """The statements besides the journal writer's (its BEGIN IMMEDIATE, INSERT, SELECT max, DELETE, COMMIT)."""
    return [s for s in statements if "journal" not in s and s not in ("BEGIN IMMEDIATE", "COMMIT")]


def test_an_asset_asked_again_is_answered_without_a_statement(traced):
    """Not even SQLite's "has anything changed?": the writers' count, in memory shared by every process, says so."""
    api, statements, tenant = traced
    asset = _tank(api, tenant)
    children = f"{ASSETS}?filter=" + '{"parentId":"' + api.get(f"{ASSETS}/root").json()["assetId"] + '"}&size=10'
    for path in (f"{ASSETS}/root", f"{ASSETS}/{asset}", children):
        first = api.get(path)
        again, own = _asked_again(api, statements, path)
        assert (again.status_code, again.content) == (200, first.content)
        assert again.headers.get("ETag") == first.headers.get("ETag")  # a page has none
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
        assert own == [], statements


def _count_file(tmp_path) -> str:
    return str(tmp_path / "emulator.sqlite3-writers")


def _set_count(tmp_path, value: int) -> None:
    with open(_count_file(tmp_path), "r+b") as f:
        f.write(struct.pack("<q", value))


def test_the_journals_commits_leave_the_kept_answers_kept(tmp_path):
    """The request journal's writer commits every quarter second under load; no kept answer reads the journal, so
    its commits are not counted: an answer kept before a flush is given after it without a statement (counted, they
    made every thread read its answers again four times a second)."""
    with _traced_server(tmp_path) as (live, api, statements, tenant):
        asset = _tank(api, tenant)
        path = f"{ASSETS}/{asset}"
        first = api.get(path)
        journal = live.app.extensions[KEY].journal
        journal.record({"time": 0.0, "tenant": tenant, "method": "GET", "path": path, "query": "", "status": 200,
                        "duration_ms": 1.0, "fault": None, "request_body": None, "response_body": None})
        statements.clear()
        journal.flush()  # an entry at least: a commit of the journal's writer after the answer was kept
        assert any("INSERT INTO journal" in s for s in statements), statements
        statements.clear()
        again = api.get(path)
        assert again.content == first.content
        assert _own(statements) == [], statements


def test_a_change_by_a_writer_outside_the_emulator_shows_within_a_second(tmp_path):
    """A ``sqlite3`` shell commits without moving the writers' count: SQLite's own version, asked again once a
    second, sees it. (The journal's writer is stopped first: its commits would move the count, and the change would
    show for that reason alone.)"""
    settings = Settings(data_dir=str(tmp_path), pump=False)
    with LiveServer(settings, threads=1) as live:
        live.app.extensions[KEY].journal.close()
        with ApiSession(live.url, fetch_token(live.url, settings.client_id, settings.client_secret)) as api:
            asset = _tank(api, settings.tenant)
            for _ in range(2):
                assert api.get(f"{ASSETS}/{asset}").json().get("description") in ("", None)  # kept
            outside = sqlite3.connect(tmp_path / "emulator.sqlite3")
            with outside:
                outside.execute("UPDATE assets SET description = 'from a shell' WHERE asset_id = ?", (asset,))
            outside.close()
            time.sleep(RECHECK_SECONDS + 0.1)
            assert api.get(f"{ASSETS}/{asset}").json()["description"] == "from a shell"


def test_a_commit_under_way_keeps_no_answer_until_the_next_writer_is_done(traced, tmp_path):
    """A count left odd (a writer killed between its two steps, here written as it would leave it): answers are read
    every time, none is kept; the next commit makes it even again, and answers are kept again."""
    api, statements, tenant = traced
    asset = _tank(api, tenant)
    path = f"{ASSETS}/{asset}"
    with open(_count_file(tmp_path), "rb") as f:
        count = struct.unpack("<q", f.read(8))[0]
    _set_count(tmp_path, count + 1 if count % 2 == 0 else count)
    for _ in range(2):  # the second is read again: the first was not kept
        statements.clear()
        assert api.get(path).status_code == 200
        assert _of_assets(statements), statements
    _describe(api, asset, "after the dead writer")
    assert api.get(path).json()["description"] == "after the dead writer"
    again, own = _asked_again(api, statements, path)
    assert again.json()["description"] == "after the dead writer"
    assert own == [], statements


def test_where_commits_are_not_counted_sqlite_is_asked_every_time(traced, tmp_path):
    """A count marked as not kept (a writer that could not take its turn marks it so): a kept answer asks SQLite's
    version on every request, as it did before there was a count, and still answers without reading the asset."""
    api, statements, tenant = traced
    asset = _tank(api, tenant)
    path = f"{ASSETS}/{asset}"
    _set_count(tmp_path, -1)
    first = api.get(path)
    again, own = _asked_again(api, statements, path, expected=("PRAGMA data_version",))
    assert again.content == first.content
    assert own == ["PRAGMA data_version"], statements  # and no read of the asset
    _describe(api, asset, "changed")  # seen at once: SQLite's version moved
    assert api.get(path).json()["description"] == "changed"


def test_a_data_hub_set_asked_again_does_not_probe_its_assets_again(traced):
    """The time series set's assets that hold records are found by probing each asset of the type (one statement);
    asked again while nothing was committed, the set reads the records of those found before, and after a write of
    records of another asset of the type it probes again and shows them."""
    api, statements, tenant = traced
    first, second = _tank(api, tenant), _tank_sibling(api, tenant)
    _levels(api, first, 1.0, 2.0)
    _publish_tanks(api)
    before = api.get(TANK_SET)
    assert [r["assetId"] for r in before.json()["value"]] == [first, first], before.text
    statements.clear()
    again = api.get(TANK_SET)
    assert again.content == before.content
    assert not [s for s in statements if PROBE in s], statements
    _levels(api, second, 3.0)
    statements.clear()
    after = api.get(TANK_SET).json()["value"]
    assert sorted(r["assetId"] for r in after) == sorted([first, first, second]), after
    assert [s for s in statements if PROBE in s], statements


def test_a_change_by_the_same_connection_shows_in_the_next_read(traced):
    api, _statements, tenant = traced
    asset = _tank(api, tenant)
    for n in range(3):
        assert api.get(f"{ASSETS}/{asset}").status_code == 200  # kept
        _describe(api, asset, f"round {n}")  # one thread: the very connection that kept it
        assert api.get(f"{ASSETS}/{asset}").json()["description"] == f"round {n}"


def test_a_type_changed_between_two_reads_shows_in_the_second(traced):
    api, _statements, tenant = traced
    asset = _tank(api, tenant)
    series = f"{TIMESERIES}/{asset}/Levels"
    resp = api.put(series, json=[{"_time": "2025-01-01T00:00:01.000Z", "level": 1.0, "volume": 2.0}])
    assert resp.status_code == 400, resp.text  # not a variable yet: the catalogue of this model, kept
    current = api.get(f"{ASPECT_TYPES}/{tenant}.Tank")
    variables = [{"name": "level", "dataType": "DOUBLE"}, {"name": "volume", "dataType": "DOUBLE"}]
    assert api.put(f"{ASPECT_TYPES}/{tenant}.Tank", headers={"If-Match": current.headers["ETag"]},
                   json={"name": "Tank", "category": "dynamic", "variables": variables}).status_code == 200
    resp = api.put(series, json=[{"_time": "2025-01-01T00:00:01.000Z", "level": 1.0, "volume": 2.0}])
    assert resp.status_code == 204, resp.text  # the new variable is known at once
    got = api.get(series, params={"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}).json()
    assert got == [{"_time": "2025-01-01T00:00:01.000Z", "level": 1.0, "volume": 2.0}]


def test_the_links_follow_the_host_the_client_called(traced):
    api, _statements, _tenant = traced
    here = api.get(f"{ASSETS}/root").json()["_links"]["self"]["href"]
    there = api.get(f"{ASSETS}/root", headers={"Host": "gateway.example:8443"}).json()["_links"]["self"]["href"]
    assert here.startswith(api.base_url) and there.startswith("http://gateway.example:8443/"), (here, there)
    assert api.get(f"{ASSETS}/root").json()["_links"]["self"]["href"] == here


def test_no_worker_answers_what_another_changed(tmp_path):
    """``serve`` with two workers of eight threads: after each change through one connection, six others (spread
    over the workers and their threads, each of which kept the previous answer) read the change at once."""
    settings = Settings(data_dir=str(tmp_path))
    with ServerProcess("--port", "0", "--workers", "2", "--data-dir", str(tmp_path)) as srv:
        token = fetch_token(srv.url, settings.client_id, settings.client_secret)
        writer = ApiSession(srv.url, token)
        readers = [ApiSession(srv.url, token) for _ in range(6)]
        try:
            asset = _tank(writer, settings.tenant)
            for n in range(15):
                for reader in readers:
                    for _ in range(3):  # kept by more than one thread
                        assert reader.get(f"{ASSETS}/{asset}").status_code == 200
                _describe(writer, asset, f"round {n}")
                seen = {reader.get(f"{ASSETS}/{asset}").json()["description"] for reader in readers}
                assert seen == {f"round {n}"}, (n, seen)
                listed = {a["description"] for reader in readers
                          for a in reader.get(ASSETS, params={"filter": f'{{"assetId":"{asset}"}}'}).json()[
                              "_embedded"]["assets"]}
                assert listed == {f"round {n}"}, (n, listed)
            second = _tank_sibling(writer, settings.tenant)  # a Data Hub set's assets holding records, kept
            _publish_tanks(writer)
            for n in range(1, 6):
                asset_of_round = asset if n % 2 else second
                _levels(writer, asset_of_round, *[float(n)] * n)
                for reader in readers:
                    for _ in range(2):
                        rows = reader.get(TANK_SET).json()["value"]
                        assert [r["level"] for r in rows if r["assetId"] == asset_of_round] == [float(n)] * n, (
                            n, rows)
        finally:
            for session in (writer, *readers):
                session.close()
