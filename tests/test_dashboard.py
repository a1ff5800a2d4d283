"""The sandbox dashboard at ``/_emulator/ui/``: its pages over HTTP, and the page in a real browser.

The HTTP tests read the server-rendered HTML with requests: pages and fragments answer, names are escaped,
unknown tenants and assets answer a 404 page, the actions make and remove fault rules and move the clock, and
an admin token guards it all. The browser test drives Debian's chromium headless through Playwright (no
browser download: ``/usr/bin/chromium``): the page loads without a console error, a chart draws the records
written, the asset's events are listed beside the charts, "Inject 500" makes the tenant's next API call fail,
clearing makes it work again, and the chart and the event list follow new records and events live. Without
chromium it skips locally and fails in CI (``CI`` set), as .ci/run installs it.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
import requests

from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer
from tests.support.browser import CHROMIUM, require_chromium
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, DASHBOARD, EVENTS, ROOT, TIMESERIES
from tests.support.tenants import temporary_tenant

HOSTILE = "<script>alert(1)</script>"


def make_pump(api, tenant, name: str = "P1") -> str:
    """A dynamic aspect type (a DOUBLE with a unit, an INT, a STRING) on an asset type, and one asset of it
    under the root; returns the asset's id."""
    t = tenant["name"]
    assert api.put(f"{ASPECT_TYPES}/{t}.Flow", json={"name": "Flow", "category": "dynamic", "variables": [
        {"name": "rate", "dataType": "DOUBLE", "unit": "l/s"}, {"name": "starts", "dataType": "INT"},
        {"name": "mode", "dataType": "STRING"}]}).status_code in (200, 201)
    assert api.put(f"{ASSET_TYPES}/{t}.Pump", json={"name": "Pump", "parentTypeId": "core.basicasset", "aspects": [
        {"name": "flow", "aspectTypeId": f"{t}.Flow"}]}).status_code in (200, 201)
    created = api.post(ASSETS, json={"name": name, "typeId": f"{t}.Pump", "parentId": tenant["rootAssetId"]})
    assert created.status_code == 201, created.text
    return created.json()["assetId"]


def stamp(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def server_now_ms(session) -> int:
    """The emulator's virtual now (the dashboard charts the range that ends there)."""
    return int(datetime.fromisoformat(session.get("/_emulator/clock").json()["time"]).timestamp() * 1000)


def write_minutes(api, asset_id: str, now_ms: int, minutes: range) -> None:
    """One record a minute before ``now_ms`` for each of ``minutes`` (rate = the minute, as a float)."""
    records = [{"_time": stamp(now_ms - k * 60_000), "rate": float(k), "starts": k, "mode": "auto"} for k in minutes]
    resp = api.put(f"{TIMESERIES}/{asset_id}/flow", json=records)
    assert resp.status_code == 204, resp.text


def chart_points(html: str, variable: str, kind: str) -> list[str]:
    """The points of the polyline of one chart (``kind``: values or aggregates); [] when it has none."""
    figure = re.search(rf'<figure class="chart" data-variable="{variable}" data-kind="{kind}">(.*?)</figure>', html,
                       re.DOTALL)
    assert figure, f"no {kind} chart of {variable}"
    line = re.search(r'<polyline class="series" points="([^"]*)"', figure.group(1))
    return line.group(1).split() if line else []


def assert_html(resp, status: int = 200) -> str:
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    return resp.text


# --- pages over HTTP ---------------------------------------------------------------------------------------

def test_pages_and_fragments_answer_html(admin, api, tenant):
    asset_id = make_pump(api, tenant)
    t = tenant["name"]
    index = assert_html(admin.get(f"{DASHBOARD}/"))
    assert f'href="{DASHBOARD}/tenants/{t}/"' in index and '<link rel="icon" href="data:,">' in index
    page = assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/"))
    assert f'href="{DASHBOARD}/tenants/{t}/assets/{asset_id}"' in page  # the tree links the asset
    for landmark in ('<main id="main"', '<nav aria-label="Breadcrumb"', '<nav aria-labelledby="tree-h">',
                     'role="status"', '<label for="fault-api">', '<label for="clock-time">'):
        assert landmark in page, landmark
    chosen = assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/assets/{asset_id}"))
    assert 'aria-current="page">P1</a>' in chosen and "Aspect flow" in chosen
    for path in (f"/tenants/{t}/assets/{asset_id}/charts?range=day", f"/tenants/{t}/assets/{asset_id}?range=week",
                 f"/tenants/{t}/journal", f"/tenants/{t}/faults", "/clock"):
        assert_html(admin.get(DASHBOARD + path))
    for name, media in (("dashboard.css", "text/css"), ("dashboard.js", "text/javascript")):
        resp = admin.get(f"{DASHBOARD}/static/{name}")
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(media)


def test_a_chart_draws_each_record_and_the_aggregates(admin, api, tenant):
    asset_id = make_pump(api, tenant)
    write_minutes(api, asset_id, server_now_ms(admin), range(1, 13))
    html = assert_html(admin.get(f"{DASHBOARD}/tenants/{tenant['name']}/assets/{asset_id}/charts"))
    assert len(chart_points(html, "rate", "values")) == 12
    assert len(chart_points(html, "starts", "values")) == 12
    assert 6 <= len(chart_points(html, "rate", "aggregates")) <= 7  # 12 minutes in 2-minute intervals
    assert 'data-variable="mode"' not in html  # a STRING is listed with its latest value, not charted
    assert re.search(r'<th scope="row">mode</th><td class="num">auto</td>', html)
    assert "12 values from" in html and "maximum 12 l/s" in html
    for key in ("day", "week"):
        html = assert_html(admin.get(f"{DASHBOARD}/tenants/{tenant['name']}/assets/{asset_id}/charts?range={key}"))
        assert len(chart_points(html, "rate", "values")) == 12 and chart_points(html, "rate", "aggregates")
    empty = assert_html(admin.get(f"{DASHBOARD}/tenants/{tenant['name']}/assets/{tenant['rootAssetId']}/charts"))
    assert "no dynamic aspects" in empty


def test_hostile_names_are_shown_as_text(admin, api, tenant):
    asset_id = make_pump(api, tenant, name=HOSTILE)
    for path in (f"/tenants/{tenant['name']}/", f"/tenants/{tenant['name']}/assets/{asset_id}"):
        html = assert_html(admin.get(DASHBOARD + path))
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert len(re.findall(r"<script\b", html)) == 1  # only the dashboard's own script element


def test_unknown_tenant_asset_range_and_contract(admin, api, tenant):
    t = tenant["name"]
    for path in ("/tenants/nosuchtenant/", f"/tenants/{t}/assets/{'0' * 32}", f"/tenants/{t}/assets/{'0' * 32}/charts",
                 "/tenants/nosuchtenant/journal", "/tenants/nosuchtenant/faults",
                 f"/tenants/{t}/contracts/nothing/download"):
        html = assert_html(admin.get(DASHBOARD + path), 404)
        assert "404" in html and "Back to the tenants" in html
    assert "range must be one of hour, day, week" in assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/?range=year"), 400)
    with temporary_tenant(admin, "o" + t[1:]) as other:  # another tenant's asset is not found under this tenant
        assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/assets/{other['rootAssetId']}"), 404)


def test_fault_actions_fail_and_restore_the_tenants_calls(admin, api, tenant):
    t = tenant["name"]
    faults = f"{DASHBOARD}/tenants/{t}/faults"
    made = admin.post(faults, json={"status": "500", "api": "", "times": ""})
    assert made.status_code == 201, made.text
    rule = made.json()["rule"]
    assert rule["match"] == {"method": None, "path": None, "api": None, "tenant": t} and rule["times"] is None
    assert "answers 500 until cleared" in made.json()["message"]
    failed = api.get(ROOT)
    assert failed.status_code == 500 and "errors" in failed.json()
    assert api.get(f"{TIMESERIES}/{tenant['rootAssetId']}/x").status_code == 500
    listed = assert_html(admin.get(faults))
    assert f'data-rule="{rule["id"]}"' in listed and "until cleared" in listed
    journal = assert_html(admin.get(f"{DASHBOARD}/tenants/{t}/journal"))
    assert f"<code>{rule['id'][:8]}</code>" in journal and 'class="num failed">500<' in journal

    cleared = admin.delete(faults, json={})
    assert cleared.status_code == 200 and cleared.json()["removed"] == 1
    assert api.get(ROOT).status_code == 200

    once = admin.post(faults, json={"status": 429, "api": "assets", "times": "1"}).json()["rule"]
    assert api.get(f"{TIMESERIES}/{tenant['rootAssetId']}/x").status_code != 429  # another API
    limited = api.get(ROOT)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert api.get(ROOT).status_code == 200  # times: 1
    assert admin.delete(f"{faults}/{once['id']}", json={}).status_code == 200
    assert admin.delete(f"{faults}/{once['id']}", json={}).status_code == 404
    assert admin.get("/_emulator/faults", params={"tenant": t}).json()["faults"] == []


def test_actions_refuse_other_sites_forms_and_bad_values(admin, tenant):
    faults = f"{DASHBOARD}/tenants/{tenant['name']}/faults"
    form = admin.post(faults, data={"status": "500"})  # a form another site could post: no JSON, no action
    assert form.status_code == 415 and "errors" in form.json()
    foreign = admin.post(faults, json={"status": 500}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    for body in ({}, {"status": "abc"}, {"status": 200}, {"status": 500, "api": "nothing"},
                 {"status": 500, "times": 0}):
        refused = admin.post(faults, json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["errors"][0]["code"].startswith("mdsp.core.generic.")
    assert admin.post(f"{DASHBOARD}/tenants/nosuchtenant/faults", json={"status": 500}).status_code == 404
    assert admin.get("/_emulator/faults", params={"tenant": tenant["name"]}).json()["faults"] == []


def test_clock_actions(admin):
    try:
        frozen = admin.put(f"{DASHBOARD}/clock", json={"mode": "frozen", "time": "2030-01-01T00:00:00Z"})
        assert frozen.status_code == 200, frozen.text
        assert frozen.json()["clock"] == {"mode": "frozen", "time": "2030-01-01T00:00:00.000Z", "speed": 1.0}
        moved = admin.post(f"{DASHBOARD}/clock/advance", json={"seconds": "3600"})
        assert moved.json()["clock"]["time"] == "2030-01-01T01:00:00.000Z"
        assert admin.get("/_emulator/clock").json()["time"] == "2030-01-01T01:00:00.000Z"
        shown = assert_html(admin.get(f"{DASHBOARD}/clock"))
        assert "2030-01-01 01:00:00 UTC" in shown and "frozen" in shown
        assert admin.put(f"{DASHBOARD}/clock", json={"mode": "offset"}).status_code == 400
        assert admin.post(f"{DASHBOARD}/clock/advance", json={"seconds": "soon"}).status_code == 400
        real = admin.put(f"{DASHBOARD}/clock", json={"mode": "real"})
        assert real.json()["clock"]["mode"] == "real"
    finally:
        admin.put("/_emulator/clock", json={"mode": "real"})


def test_contract_download(admin, api, tenant):
    make_pump(api, tenant)
    created = api.post("/_emulator/contracts", json={"name": "plant.v1", "assetTypeIds": [f"{tenant['name']}.Pump"]})
    assert created.status_code == 201, created.text
    page = assert_html(admin.get(f"{DASHBOARD}/tenants/{tenant['name']}/"))
    link = f"{DASHBOARD}/tenants/{tenant['name']}/contracts/plant.v1/download"
    assert f'href="{link}" download' in page
    download = admin.get(link)
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("application/xml")
    assert download.headers["Content-Disposition"] == 'attachment; filename="plant.v1-1.0.0.xml"'
    assert download.content == api.get("/_emulator/contracts/plant.v1/download").content


# --- the admin token ---------------------------------------------------------------------------------------

ADMIN_TOKEN = "dashboard-admin-token"


@pytest.fixture(scope="module")
def guarded():
    with LiveServer(Settings(database_url="sqlite://", admin_token=ADMIN_TOKEN)) as live:
        yield live


def test_admin_token_guards_the_dashboard(guarded):
    with ApiSession(guarded.url) as browser:
        refused = browser.get(f"{DASHBOARD}/")
        assert "?token=" in assert_html(refused, 401)
        assert browser.get(f"{DASHBOARD}/tenants/emutenant/journal").status_code == 401
        assert browser.post(f"{DASHBOARD}/tenants/emutenant/faults", json={"status": 500}).status_code == 401
        assert browser.get(f"{DASHBOARD}/static/dashboard.css").status_code == 200  # no data: open
        assert browser.get(f"{DASHBOARD}/", params={"token": "wrong"}).status_code == 401
        assert browser.get(f"{DASHBOARD}/", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200

        entry = browser.get(f"{DASHBOARD}/tenants/emutenant/", params={"range": "day", "token": ADMIN_TOKEN},
                            allow_redirects=False)
        assert entry.status_code == 303
        assert entry.headers["Location"] == f"{DASHBOARD}/tenants/emutenant/?range=day"  # the token is dropped
        cookie = entry.headers["Set-Cookie"]
        assert ADMIN_TOKEN not in cookie
        assert all(part in cookie for part in ("HttpOnly", "SameSite=Strict", f"Path={DASHBOARD}"))
        assert_html(browser.get(entry.headers["Location"]))  # the cookie lets the browser in
        made = browser.post(f"{DASHBOARD}/tenants/emutenant/faults", json={"status": 500, "api": "odata"})
        assert made.status_code == 201
        assert browser.delete(f"{DASHBOARD}/tenants/emutenant/faults", json={}).json()["removed"] == 1
        assert browser.get("/_emulator/tenants").status_code == 401  # the control API still wants the header

    with ApiSession(guarded.url) as stranger:
        stranger.cookies.set("mdsp_emu_ui", "0" * 64, path=DASHBOARD)
        assert stranger.get(f"{DASHBOARD}/").status_code == 401


# --- in a real browser -------------------------------------------------------------------------------------

def test_dashboard_in_chromium(server, admin, api, tenant):
    sync_playwright = require_chromium()
    from playwright.sync_api import expect

    t = tenant["name"]
    asset_id = make_pump(api, tenant, name=HOSTILE)
    now = server_now_ms(admin)
    write_minutes(api, asset_id, now, range(1, 13))
    alarm = {"entityId": asset_id, "timestamp": stamp(now - 5 * 60_000), "severity": 20, "description": HOSTILE,
             "acknowledged": False}
    assert api.post(EVENTS, json=alarm).status_code == 201
    problems: list[str] = []

    playwright = sync_playwright().start()
    browser = None
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.set_default_timeout(10_000)
        page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
                if msg.type in ("error", "warning") else None)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} {req.failure}"))
        page.on("response", lambda resp: problems.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)

        page.goto(f"{server.url}{DASHBOARD}/tenants/{t}/assets/{asset_id}", wait_until="load")
        expect(page.get_by_role("heading", level=1)).to_contain_text(HOSTILE)  # shown as text, never run
        values = page.locator('figure[data-variable="rate"][data-kind="values"] polyline.series')
        assert len(values.get_attribute("points").split()) == 12
        assert page.locator('figure[data-variable="rate"][data-kind="aggregates"] polyline.series').count() == 1
        events = page.locator("#event-list tbody tr")  # the asset's events, beside its charts
        expect(events).to_have_count(1)
        expect(events.first).to_contain_text(HOSTILE)
        expect(events.first).to_contain_text("20 error")
        charts, listing = page.locator("#charts").bounding_box(), page.locator("#events").bounding_box()
        assert page.locator("#events").is_visible() and listing["width"] > 250
        assert listing["x"] >= charts["x"] + charts["width"] - 1  # to the right of the charts ...
        assert listing["y"] < charts["y"] + charts["height"]  # ... and level with them
        assert charts["y"] < listing["y"] + listing["height"]

        page.get_by_role("button", name="Inject 500").click()
        expect(page.locator("#status")).to_contain_text("answers 500")
        expect(page.locator("#fault-list tr[data-rule]")).to_have_count(1)
        failed = api.get(f"{ASSETS}/{asset_id}")
        assert failed.status_code == 500, failed.text

        clear = page.get_by_role("button", name=f"Clear the fault rules of {t}")
        clear.focus()  # by keyboard: the focused button takes Enter
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("Removed 1 fault rule")
        expect(page.locator("#fault-list tr[data-rule]")).to_have_count(0)
        assert api.get(f"{ASSETS}/{asset_id}").status_code == 200

        records = [{"_time": stamp(server_now_ms(admin) - s * 1000), "rate": 20.0 + s} for s in (30, 20, 10)]
        assert api.put(f"{TIMESERIES}/{asset_id}/flow", json=records).status_code == 204
        page.wait_for_function(  # the next poll redraws the chart with the new records
            "() => document.querySelector('figure[data-variable=\"rate\"][data-kind=\"values\"] polyline.series')"
            ".getAttribute('points').trim().split(/\\s+/).length === 15", timeout=12_000)
        newer = {**alarm, "timestamp": stamp(server_now_ms(admin)), "severity": 40, "description": "back to normal"}
        assert api.post(EVENTS, json=newer).status_code == 201
        expect(events).to_have_count(2, timeout=12_000)  # the next poll lists it, newest first
        expect(events.first).to_contain_text("back to normal")
        seen = list(problems)  # what the page reported while the test drove it
    finally:
        if browser is not None:
            browser.close()
        playwright.stop()
    assert seen == [], seen


def test_the_token_url_lets_a_browser_in(guarded):
    """With an admin token, ``?token=`` once sets the cookie the browser then uses on its own."""
    with requests.Session() as browser:
        browser.trust_env = False
        first = browser.get(f"{guarded.url}{DASHBOARD}/?token={ADMIN_TOKEN}")
        assert first.status_code == 200 and first.url == f"{guarded.url}{DASHBOARD}/"
        assert "emutenant" in first.text
        assert browser.get(f"{guarded.url}{DASHBOARD}/clock").status_code == 200


def test_values_charts_draw_the_whole_range_and_say_what_they_draw(admin, api, tenant):
    """A day (2879 records, one every 30 s) and 7 days (20159) hold more than one read's 2000 records: the values
    chart still spans the whole range (not the newest 2000 squeezed to the right), and its caption counts every
    record and says what the line is."""
    asset_id = make_pump(api, tenant)
    now = server_now_ms(admin)
    every_30_s = [{"_time": stamp(now - k * 30_000), "rate": float(k)} for k in range(1, 7 * 2880)]
    for lo in range(0, len(every_30_s), 10_000):
        assert api.put(f"{TIMESERIES}/{asset_id}/flow", json=every_30_s[lo:lo + 10_000]).status_code == 204
    for key, records in (("day", 2879), ("week", 7 * 2880 - 1)):
        html = assert_html(admin.get(f"{DASHBOARD}/tenants/{tenant['name']}/assets/{asset_id}/charts?range={key}"))
        xs = [float(point.split(",")[0]) for point in chart_points(html, "rate", "values")]
        assert min(xs) < LEFT_EDGE + 1 and max(xs) > RIGHT_EDGE - 1, (key, min(xs), max(xs))  # edge to edge
        assert f"{records} records in the range" in html
        assert f"{records} values from" in html and f"maximum {records} l/s" in html  # all of them, not 2000
        assert "newest" not in html  # nothing is left out of the chart
    assert "drawn from every record" in assert_html(
        admin.get(f"{DASHBOARD}/tenants/{tenant['name']}/assets/{asset_id}/charts?range=day"))
    assert "first, lowest, highest and last value of each 24-minute interval" in html  # 7 days: 20159 records


LEFT_EDGE, RIGHT_EDGE = 56, 480 - 12  # the plot's x range (emulator/dashboard/charts.py)
