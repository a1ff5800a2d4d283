"""The dashboard lists an asset's events beside its charts: the simulated pump's own events, and events a client
posts through Event Management, newest first, a page at a time, with time, severity, description and whether
they are acknowledged; as text (never markup) and without the events that expired after their type's ttl. Read
over HTTP as a browser reads the server-rendered HTML (the browser test is in test_dashboard.py)."""

from __future__ import annotations

import html as htmllib
import re

from emulator.devices import feeder, model
from tests.support.paths import DASHBOARD, EVENTS
from tests.test_dashboard import HOSTILE, assert_html, make_pump, server_now_ms, stamp

HOUR = 3_600_000
ROW = re.compile(r'<tr data-event="([^"]+)" data-severity="([^"]*)">\s*<td class="when"><time datetime="([^"]+)">'
                 r'[^<]*</time></td>\s*<td class="severity[^"]*">(.*?)</td>\s*<td>(.*?)</td>\s*<td>(\w*)</td>',
                 re.DOTALL)


def listed(page: str) -> list[dict]:
    """The rows of the page's event list, in their order: id, severity, timestamp, description, acknowledged."""
    section = re.search(r'<section class="events" id="events".*?</section>', page, re.DOTALL)
    text = section.group(0) if section else page  # a fragment is the list alone
    return [{"id": m[0], "severity": int(m[1]) if m[1] else None, "timestamp": m[2],
             "severityText": re.sub(r"<[^>]+>", "", m[3]).strip(),
             "description": htmllib.unescape(re.sub(r"\s*<code>.*?</code>", "", m[4]).strip()),
             "acknowledged": m[5]} for m in ROW.findall(text)]


def test_the_pump_page_lists_the_events_its_scenario_raised(server, admin, tenant):
    t = tenant["name"]
    made = admin.post(f"/_emulator/tenants/{t}/pumps",
                      json={"name": "P-7", "historyHours": 0, "scenario": "cavitation", "cadence": 60})
    assert made.status_code == 201, made.text
    store = server.app.extensions["mdsp"].store
    with store.transaction() as conn:
        (pump,) = [p for p in model.simulated_pumps(conn) if p.asset_id == made.json()["assetId"]]
    start = int(pump.scenario_start * 1000)
    page = assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/assets/{pump.asset_id}"))
    assert listed(page) == [] and "No events of P-7" in page  # nothing raised before the effect's start

    feeder.history(store, t, pump.asset_id, 6, 60, start + 6 * HOUR)  # cavitation: +2 h for 3 h
    page = assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/assets/{pump.asset_id}"))
    rows = listed(page)
    assert [(r["description"], r["severity"], r["severityText"], r["acknowledged"]) for r in rows] == [
        ("P-7: cavitation ended", 40, "40 information", "no"),
        ("P-7: cavitation started", 30, "30 warning", "no")]  # newest first
    assert [r["timestamp"] for r in rows] == [stamp(start + 5 * HOUR), stamp(start + 2 * HOUR)]
    assert "All 2 events of P-7, newest first" in page
    charts, events = page.index('<div id="charts"'), page.index('<section class="events" id="events"')
    assert page.index('<div class="asset-body">') < charts < events  # one block: the charts, then beside them the list
    fragment = assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/assets/{pump.asset_id}/events"))
    assert listed(fragment) == rows


def test_events_are_listed_a_page_at_a_time_as_text(admin, api, tenant):
    t = tenant["name"]
    asset_id = make_pump(api, tenant)
    now = server_now_ms(admin)
    posted = []
    for k in range(23):  # minute k before now: k = 0 is the newest
        body = {"entityId": asset_id, "timestamp": stamp(now - k * 60_000), "severity": (20, 30, 40)[k % 3],
                "description": HOSTILE if k == 4 else f"event {k}", "acknowledged": k % 2 == 0}
        resp = api.post(EVENTS, json=body)
        assert resp.status_code == 201, resp.text
        posted.append(resp.json())
    old = api.post(EVENTS, json={"entityId": asset_id, "timestamp": stamp(now - 36 * 24 * HOUR), "severity": 20,
                                 "description": "expired"})  # the standard type's ttl is 35 days
    assert old.status_code == 201, old.text
    base = f"{DASHBOARD}/tenants/{t}/assets/{asset_id}"

    first = assert_html(admin.get(base))
    rows = listed(first)
    assert [r["id"] for r in rows] == [e["id"] for e in posted[:20]]
    assert rows[4]["description"] == HOSTILE and HOSTILE not in first  # escaped, shown as text
    assert [r["acknowledged"] for r in rows[:3]] == ["yes", "no", "yes"]
    assert [r["severityText"] for r in rows[:3]] == ["20 error", "30 warning", "40 information"]
    assert "Events 1 to 20 of 23" in first and "Page 1 of 2" in first and "expired" not in first
    older = re.search(r'<a rel="next" href="([^"]+)">Older events</a>', first)
    assert older and htmllib.unescape(older.group(1)) == f"{base}?events=1#events"

    second = assert_html(admin.get(f"{base}?events=1"))
    assert [r["id"] for r in listed(second)] == [e["id"] for e in posted[20:]]
    assert 'rel="prev"' in second and 'rel="next"' not in second and "Events 21 to 23 of 23" in second
    refresh = re.search(r'<div id="event-list" data-refresh="([^"]+)"', second)
    assert refresh and htmllib.unescape(refresh.group(1)).endswith(f"/assets/{asset_id}/events?range=hour&events=1")
    beyond = assert_html(admin.get(f"{base}/events?events=5"))
    assert listed(beyond) == [] and "No events on page 6" in beyond

    event = posted[1]  # acknowledged, as a client corrects it
    fixed = api.put(f"{EVENTS}/{event['id']}", headers={"If-Match": str(event["etag"])},
                    json={**{k: v for k, v in event.items() if k not in ("etag", "_links", "id")},
                          "acknowledged": True})
    assert fixed.status_code == 200, fixed.text
    assert listed(assert_html(admin.get(f"{base}/events")))[1]["acknowledged"] == "yes"

    for bad in ("x", "-1", "9999999"):
        assert "events must be a page number" in assert_html(admin.get(f"{base}?events={bad}"), 400)
    assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/assets/{'0' * 32}/events"), 404)
