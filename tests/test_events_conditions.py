"""Event Management's conditional reads, sharing and expiry over HTTP (events-files-api.md 1a-1c, the Node SDK's
EventManagementClient): ``If-None-Match`` answers 304 where an ETag is served, ``includeShared=true`` adds
``sharing``, and an event older than its type's ``ttl`` days (at the emulator's clock, moved through the control
plane) is no longer returned."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import test_events
from tests.support.tenants import tenant_session
from tests.test_events import EVENTS, STANDARD, TYPES, embedded, refused, stamp

asset = test_events.asset  # the fixture: an asset of the tenant
DAY = 86_400


@pytest.fixture
def advance(server, admin, tenant):
    """Moves the virtual clock (frozen at now for the test, real again after it) ahead by some seconds and answers
    a client with a token fetched then (a token expires at the emulator's clock too)."""
    sessions = []

    def move(seconds: int):
        assert admin.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200
        sessions.append(tenant_session(server.url, tenant))
        return sessions[-1]

    assert admin.put("/_emulator/clock", json={"mode": "frozen"}).status_code == 200
    try:
        yield move
    finally:
        admin.put("/_emulator/clock", json={"mode": "real"})
        for session in sessions:
            session.close()


def _event(api, asset_id, **fields) -> dict:
    resp = api.post(EVENTS, json={"entityId": asset_id, "timestamp": stamp(), "severity": 20, **fields})
    assert resp.status_code == 201, resp.text
    return resp.json()


# --- If-None-Match -----------------------------------------------------------------------------------------

def test_a_current_etag_answers_304_without_a_body(api, asset):
    event = _event(api, asset, description="dry")
    url = f"{EVENTS}/{event['id']}"
    first = api.get(url)
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    for tag in ('"1"', "1", 'W/"1"', '"7", "1"', "*"):  # quoted, as the SDK passes a number, weak, a list, any
        cached = api.get(url, headers={"If-None-Match": tag})
        assert cached.status_code == 304, (tag, cached.text)
        assert cached.content == b"" and cached.headers["ETag"] == '"1"'
    assert api.get(url, headers={"If-None-Match": '"2"'}).status_code == 200
    fixed = api.put(url, headers={"If-Match": "1"}, json={**{k: event[k] for k in ("entityId", "timestamp", "typeId")},
                                                          "severity": 30})
    assert fixed.status_code == 200, fixed.text
    changed = api.get(url, headers={"If-None-Match": '"1"'})  # the cached copy is stale now
    assert changed.status_code == 200 and changed.json()["severity"] == 30 and changed.headers["ETag"] == '"2"'
    refused(api.get(f"{EVENTS}/nosuchevent", headers={"If-None-Match": "*"}), 404, "nosuchevent")


def test_an_event_type_and_the_lists_are_cached_by_etag(api, tenant, asset):
    type_id = f"{tenant['name']}.Cached"
    made = api.post(TYPES, json={"id": type_id, "name": "Cached", "fields": []})
    assert made.status_code == 201, made.text
    one = api.get(f"{TYPES}/{type_id}")
    assert one.headers["ETag"] == '"0"'
    assert api.get(f"{TYPES}/{type_id}", headers={"If-None-Match": '"0"'}).status_code == 304
    params = {"filter": json.dumps({"entityId": asset})}
    _event(api, asset)
    page = api.get(EVENTS, params=params)
    tag = page.headers["ETag"]
    assert page.status_code == 200 and tag.startswith('"') and len(embedded(page.json())) == 1
    again = api.get(EVENTS, params=params, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    _event(api, asset, severity=40)  # the page changed: its tag too
    fresh = api.get(EVENTS, params=params, headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != tag and len(embedded(fresh.json())) == 2
    types = api.get(TYPES)
    assert api.get(TYPES, headers={"If-None-Match": types.headers["ETag"]}).status_code == 304


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip))
def test_any_if_none_match_answers_200_or_304_never_an_error(api, asset, header):
    """Whatever a client sends as If-None-Match: the event (200) or 304 when the header names its tag."""
    resp = api.get(f"{EVENTS}/{_cached_event(api, asset)}", headers={"If-None-Match": header})
    tags = [t.strip().removeprefix("W/").strip().strip('"') for t in header.split(",")]
    expected = 304 if header.strip() == "*" or "1" in tags else 200
    assert resp.status_code == expected, (header, resp.status_code, resp.text)


_CACHE: dict = {}


def _cached_event(api, asset_id) -> str:
    """One event per asset for the hypothesis test (its examples share the fixture's asset)."""
    if asset_id not in _CACHE:
        _CACHE[asset_id] = _event(api, asset_id)["id"]
    return _CACHE[asset_id]


# --- sharing -----------------------------------------------------------------------------------------------

def test_include_shared_adds_sharing_modes(api, tenant, asset):
    event = _event(api, asset)
    assert "sharing" not in event and "sharing" not in api.get(f"{EVENTS}/{event['id']}").json()
    shared = api.get(f"{EVENTS}/{event['id']}", params={"includeShared": "true"})
    assert shared.status_code == 200 and shared.json()["sharing"] == {"modes": []}  # the tenant's own: not shared
    listed = embedded(api.get(EVENTS, params={"includeShared": "true", "filter": json.dumps({"entityId": asset})})
                      .json())
    assert [e["sharing"] for e in listed] == [{"modes": []}]
    posted = api.post(EVENTS, params={"includeShared": "true"},
                      json={"entityId": asset, "timestamp": stamp(), "sharing": {"modes": ["SHARER"]}})
    assert posted.status_code == 201 and posted.json()["sharing"] == {"modes": []}  # not the client's to set
    types = {t["id"]: t for t in embedded(api.get(TYPES, params={"includeShared": "true"}).json(), "eventTypes")}
    assert types[STANDARD]["sharing"] == {"modes": ["DEFAULT"]}  # provided by default
    assert "sharing" not in embedded(api.get(TYPES).json(), "eventTypes")[0]
    refused(api.get(EVENTS, params={"includeShared": "maybe"}), 400, "includeShared")


# --- ttl ---------------------------------------------------------------------------------------------------

def test_an_event_expires_after_its_types_ttl_at_the_emulators_clock(api, tenant, asset, advance):
    short = f"{tenant['name']}.ShortLived"
    made = api.post(TYPES, json={"id": short, "name": "ShortLived", "ttl": 2, "fields": []})
    assert made.status_code == 201, made.text
    brief = _event(api, asset, typeId=short, description="brief")
    lasting = _event(api, asset, description="standard: 35 days")
    every = {"filter": json.dumps({"entityId": asset, "timestamp": {"after": "2000-01-01T00:00:00Z"}}),
             "history": "true"}

    def ids(client):
        resp = client.get(EVENTS, params=every)
        assert resp.status_code == 200, resp.text
        return {e["id"] for e in embedded(resp.json())}

    assert ids(api) == {brief["id"], lasting["id"]}
    client = advance(2 * DAY - 60)  # a minute before the ttl ends: still there
    assert ids(client) == {brief["id"], lasting["id"]}
    client = advance(120)
    assert ids(client) == {lasting["id"]}  # expired: not listed, not read, not corrected
    refused(client.get(f"{EVENTS}/{brief['id']}"), 404, brief["id"])
    refused(client.put(f"{EVENTS}/{brief['id']}", headers={"If-Match": "1"},
                       json={k: brief[k] for k in ("entityId", "timestamp", "typeId")}), 404, brief["id"])
    typed = client.get(EVENTS, params={"filter": json.dumps({"typeId": short})})
    assert embedded(typed.json()) == []

    longer = client.patch(f"{TYPES}/{short}", headers={"If-Match": "0"},
                          json={"op": "replace", "path": "/ttl", "value": 5})  # a longer ttl applies at once
    assert longer.status_code == 200, longer.text
    assert ids(client) == {brief["id"], lasting["id"]}
    client = advance(34 * DAY)
    assert ids(client) == set()  # 36 days: past the standard type's 35 as well
    assert client.get(f"{EVENTS}/{lasting['id']}").status_code == 404
