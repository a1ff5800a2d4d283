"""Random sequences of writes and deletes, read back through HTTP, against a plain dict of records.

Why: records are stored in time blocks (``emulator/timeseries/blocks.py``): up to 256 records or 64 K characters a
block, merged and cut again on every write, trimmed on every delete. Each of those is a way to lose, repeat or
reorder a record where a block ends: an append that fills the last block, an overwrite or insert in the middle of
full blocks, a delete whose range starts or ends inside a block, a big record that makes a block close early. The
histories here are long enough to span many blocks (hundreds to thousands of records), and after every step the
whole series is read in pages by ``Link`` (ascending and descending, page sizes that do not divide a block), then a
random range and the latest record.

The reference is the documented semantics only (mindsphere-api.md 3): a record at an existing ``_time`` replaces
the whole record, ``DELETE`` removes ``(from, to]``, reads give ``(from, to]`` in time order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, TIMESERIES

ORIGIN = datetime(2025, 3, 1, tzinfo=UTC)
ASPECT = "Log"
SPAN = 6000  # record times are whole seconds in [0, SPAN): writes land before, between, after and on old ones


def stamp(second: int) -> str:
    return (ORIGIN + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def define(api, tenant) -> str:
    name = tenant["name"]
    assert api.put(f"{ASPECT_TYPES}/{name}.{ASPECT}", json={"name": ASPECT, "category": "dynamic", "variables": [
        {"name": "level", "dataType": "INT"}, {"name": "note", "dataType": "BIG_STRING"}]}).status_code in (200, 201)
    assert api.put(f"{ASSET_TYPES}/{name}.Logger", json={"name": "Logger", "parentTypeId": "core.basicasset",
                   "aspects": [{"name": ASPECT, "aspectTypeId": f"{name}.{ASPECT}"}]}).status_code in (200, 201)
    return f"{name}.Logger"


@st.composite
def writes(draw) -> tuple:
    """A batch: a run of consecutive seconds (an append or an overwrite of a stretch) or scattered ones (inserts into
    full blocks); a few records carry a big note (a block closes early on characters)."""
    size = draw(st.sampled_from([1, 7, 255, 256, 257, 600, 1500]))
    if draw(st.booleans()):
        first = draw(st.integers(0, SPAN - 1))
        seconds = list(range(first, min(first + size, SPAN)))
    else:
        seconds = sorted(set(draw(st.lists(st.integers(0, SPAN - 1), min_size=1, max_size=size))))
    big = draw(st.sets(st.sampled_from(seconds), max_size=3))
    return ("put", seconds, big, draw(st.integers(0, 10**6)))


@st.composite
def deletes(draw) -> tuple:
    after = draw(st.integers(-1, SPAN))
    return ("delete", after, draw(st.integers(after, min(after + draw(st.sampled_from([1, 30, 300, 3000])), SPAN))))


def read_paged(api, asset_id: str, after: int, upto: int, limit: int, descending: bool) -> list[dict]:
    url = f"{TIMESERIES}/{asset_id}/{ASPECT}"
    params = {"from": stamp(after), "to": stamp(upto), "limit": limit, "sort": "desc" if descending else "asc"}
    out: list[dict] = []
    while url is not None:
        resp = api.get(url, params=params)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        out += page
        link = resp.headers.get("Link")
        assert link is None or len(page) == limit, f"a page of {len(page)} with a next link"
        url, params = (link[1:link.index(">")], None) if link else (None, None)
    return out


def test_blocks_keep_every_record_through_writes_and_deletes(api, tenant):
    type_id = define(api, tenant)

    @settings(max_examples=12, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(steps=st.lists(st.one_of(writes(), writes(), deletes()), min_size=1, max_size=6),
           window=st.tuples(st.integers(-1, SPAN), st.integers(0, 2500)), limit=st.sampled_from([1, 97, 300, 2000]))
    def check(steps, window, limit):
        resp = api.post(ASSETS, json={"name": "L", "typeId": type_id, "parentId": tenant["rootAssetId"]})
        asset_id = resp.json()["assetId"]
        url = f"{TIMESERIES}/{asset_id}/{ASPECT}"
        stored: dict[int, dict] = {}
        for step in steps:
            if step[0] == "put":
                _, seconds, big, salt = step
                batch = [{"_time": stamp(s), "level": (s * 31 + salt) % 1000,
                          **({"note": f"{salt}-" + "x" * 40_000} if s in big else {})} for s in seconds]
                for i in range(0, len(batch), 500):  # within the 1 MB of a write
                    assert api.put(url, json=batch[i:i + 500]).status_code == 204
                stored.update({s: r for s, r in zip(seconds, batch, strict=True)})
            else:
                _, after, upto = step
                assert api.delete(url, params={"from": stamp(after), "to": stamp(upto)}).status_code == 204
                for s in [s for s in stored if after < s <= upto]:
                    del stored[s]
        event(f"records at the end: {'> 1000' if len(stored) > 1000 else '> 256' if len(stored) > 256 else '<= 256'}")
        every = [stored[s] for s in sorted(stored)]
        assert read_paged(api, asset_id, -1, SPAN, 2000, False) == every
        assert read_paged(api, asset_id, -1, SPAN, limit, True) == every[::-1]
        after, length = window
        upto = min(after + length, SPAN)
        inside = [stored[s] for s in sorted(stored) if after < s <= upto]
        assert read_paged(api, asset_id, after, upto, limit, False) == inside
        latest = api.get(url).json()
        assert latest == every[-1:]

    check()
