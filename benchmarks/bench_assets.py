"""Asset Management over 10,000 assets: a single GET and a filtered list page, each against a static
Flask response of the same bytes served the same way. Goals (issue [assets]): <= 1.5x and <= 3x.

The filtered page is what an app asks most: one site's pumps whose name starts with a prefix, page
3 of 10 sorted by name descending (99 matches among 10,000 assets)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import requests
from sqlalchemy import insert

from benchmarks.harness import Row, compare, gunicorn, timed_requests
from emulator.app import init_state
from emulator.assets.models import assets
from emulator.clock import Clock
from emulator.settings import Settings
from emulator.store import Store
from emulator.store.models import tenants

N_ASSETS = 10_000
N = 300


SITES = 100


def seed(settings: Settings) -> list[str]:
    """10,000 assets: 100 sites under the root with 99 pumps each, written straight into the store
    (setup, not measured). Returns the site ids."""
    store = Store(settings.effective_database_url)
    init_state(settings, store, Clock())
    now = time.time()

    def row(name, parent, type_id, location=None):
        return {"asset_id": uuid.uuid4().hex, "tenant_id": settings.tenant, "name": name, "external_id": None,
                "description": None, "parent_id": parent, "type_id": type_id, "timezone": "Europe/Berlin",
                "twin_type": "performance", "location": location, "variables": [], "aspects": [], "etag": 0,
                "created_at": now}

    with store.transaction(write=True) as conn:
        root = conn.execute(tenants.select().where(tenants.c.name == settings.tenant)).mappings().one()
        sites = [row(f"Site {s:03d}", root["root_asset_id"], "core.basicsite", {"country": "Germany"})
                 for s in range(SITES)]
        pumps = [row(f"Pump {s:03d}-{p:02d}", site["asset_id"], "core.basicasset")
                 for s, site in enumerate(sites) for p in range(N_ASSETS // SITES - 1)]
        conn.execute(insert(assets), sites + pumps)
    store.dispose()
    return [site["asset_id"] for site in sites]


def measure(url: str, floor_url: str, path: str, headers: dict) -> tuple[float, float]:
    timed_requests(url, "GET", path, 30, headers)
    timed_requests(floor_url, "GET", path, 30, headers)
    return compare(lambda: statistics.median(timed_requests(url, "GET", path, N, headers)),
                   lambda: statistics.median(timed_requests(floor_url, "GET", path, N, headers)))


def run() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp)
        sites = seed(settings)
        with gunicorn("benchmarks.apps:emulator_app()", {"MDSP_EMU_DATA_DIR": tmp}) as url:
            token = requests.post(url + "/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=(settings.client_id, settings.client_secret), timeout=30).json()["access_token"]
            headers = {"Authorization": "Bearer " + token}
            listing = "/api/assetmanagement/v3/assets?size=1&filter=" + quote(json.dumps({"name": "Pump 047-11"}))
            one = requests.get(url + listing, headers=headers, timeout=30).json()["_embedded"]["assets"][0]
            single = f"/api/assetmanagement/v3/assets/{one['assetId']}"
            page = "/api/assetmanagement/v3/assets?size=10&page=3&sort=name,desc&filter=" + quote(
                json.dumps({"parentId": sites[42], "name": {"startsWith": "Pump"}}))
            for name, path, goal in (("GET /assets/{id} (10k assets)", single, "<= 1.5"),
                                     ("GET /assets children filter, page of 10 (10k)", page, "<= 3")):
                body = requests.get(url + path, headers=headers, timeout=30)
                assert body.status_code == 200, body.text
                static = Path(tmp) / "static.json"
                static.write_bytes(body.content)
                with gunicorn("benchmarks.apps:static_app()", {"BENCH_STATIC_BODY": str(static)}) as floor_url:
                    ours, floor = measure(url, floor_url, path, headers)
                rows.append(Row(name, "static Flask, same bytes", floor, ours, goal))
    return rows
