"""An authenticated small GET (/assets/root) against a static Flask response of the same bytes.

Goal (issue [core]): ratio <= 1.5. Verified tokens are cached, so RSA work is not repeated.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import requests

from benchmarks.harness import Row, compare, gunicorn, timed_requests

N = 400


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"MDSP_EMU_DATA_DIR": tmp}
        with gunicorn("benchmarks.apps:emulator_app()", env) as url:
            token = requests.post(url + "/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=("emutenant-client", "emulator-secret"), timeout=30).json()["access_token"]
            headers = {"Authorization": "Bearer " + token}
            path = "/api/assetmanagement/v3/assets/root"
            body = requests.get(url + path, headers=headers, timeout=30).content
            static = Path(tmp) / "static.json"
            static.write_bytes(body)
            with gunicorn("benchmarks.apps:static_app()", {"BENCH_STATIC_BODY": str(static)}) as floor_url:
                timed_requests(url, "GET", path, 50, headers)  # warm up both
                timed_requests(floor_url, "GET", path, 50, headers)
                ours, floor = compare(
                    lambda: statistics.median(timed_requests(url, "GET", path, N, headers)),
                    lambda: statistics.median(timed_requests(floor_url, "GET", path, N, headers)),
                )
    return [Row("GET /assets/root (authenticated)", "static Flask, same bytes", floor, ours, "<= 1.5")]
