"""The control plane in a browser's reach ([trust] item 7). With no admin token (the default) an empty cross-site
form post to ``/_emulator/reset`` wiped every tenant, and a foreign ``Host`` was served, so DNS rebinding read every
tenant's snapshot and journal. Both failed on the emulator before the control plane's guard; the Chromium test
makes the attack as a browser makes it."""

from __future__ import annotations

import http.server
import threading

import requests

from emulator.settings import Settings
from emulator.testing import LiveServer
from tests.support.browser import CHROMIUM, require_chromium
from tests.support.paths import TENANTS


def _tenant_names(url: str) -> list[str]:
    return [t["name"] for t in requests.get(url + TENANTS, timeout=30).json()["tenants"]]


def test_a_cross_site_post_changes_nothing(server, admin, tenant):
    before = _tenant_names(server.url)
    assert tenant["name"] in before
    for headers, data in (({"Origin": "http://evil.example"}, None),  # fetch(..., {mode: "no-cors"})
                          ({"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
                           ""),
                          ({"Content-Type": "text/plain"}, "{}")):  # no Origin (an old browser): not JSON
        resp = requests.post(server.url + "/_emulator/reset", headers=headers, data=data, timeout=30)
        assert resp.status_code in (403, 415), resp.text
        assert set(resp.json()["errors"][0]) == {"code", "logref", "message"}
    same_origin = requests.post(server.url + "/_emulator/faults", headers={"Origin": server.url}, timeout=30,
                                json={"match": {"tenant": tenant["name"]}, "effect": {"status": 500}, "times": 1})
    assert same_origin.status_code == 201  # the dashboard's own requests carry its origin
    admin.delete("/_emulator/faults", params={"tenant": tenant["name"]})
    assert _tenant_names(server.url) == before


def test_a_foreign_host_name_is_not_served_unless_allowed(server, tenant):
    port = server.url.rsplit(":", 1)[1]
    for path in (f"/_emulator/snapshots/{tenant['name']}", "/_emulator/journal", "/_emulator/ui/"):
        rebound = requests.get(server.url + path, headers={"Host": f"attacker.example:{port}"}, timeout=30)
        assert rebound.status_code == 421, (path, rebound.status_code)
        assert tenant["name"] not in rebound.text
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert requests.get(server.url + "/_emulator/journal", headers={"Host": host}, timeout=30).status_code == 200
    with LiveServer(Settings(database_url="sqlite://", allowed_hosts="emulator, ci-backend")) as named:
        served = requests.get(named.url + "/_emulator/journal", headers={"Host": "ci-backend:8080"}, timeout=30)
        assert served.status_code == 200
        other = requests.get(named.url + "/_emulator/journal", headers={"Host": "elsewhere:8080"}, timeout=30)
        assert other.status_code == 421


def test_a_cross_site_form_in_chromium_resets_nothing(server, tenant):
    """A page of another origin posts an empty form to /_emulator/reset, as the reported attack did."""
    sync_playwright = require_chromium()
    page_html = (f'<form id="f" method="post" action="{server.url}/_emulator/reset"></form>'
                 '<script>document.getElementById("f").submit()</script>').encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page_html)

        def log_message(self, *args):
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Evil)  # another origin: another address
    threading.Thread(target=site.serve_forever, daemon=True).start()
    before = _tenant_names(server.url)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        with page.expect_response(lambda r: "/_emulator/reset" in r.url, timeout=30_000) as answered:
            page.goto(f"http://127.0.0.2:{site.server_address[1]}/")
        assert answered.value.status in (403, 415)
        browser.close()
    finally:
        playwright.stop()
        site.shutdown()
    assert _tenant_names(server.url) == before and tenant["name"] in before
