"""WSGI apps the benchmarks serve with gunicorn: the emulator, and a static floor."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, Response

from emulator.server import freeze_heap, serving_app, waitress_worker_class
from emulator.settings import from_sources

logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under load is the point
WaitressWorker = waitress_worker_class()  # what serve's workers are: a floor served the same way


def emulator_app():
    """The emulator, configured from MDSP_EMU_* and made as ``serve`` makes it (its heap frozen once made)."""
    app = serving_app(from_sources({}))
    freeze_heap()
    return app


def static_app():
    """The floor: Flask answering a fixed body (read once from BENCH_STATIC_BODY) at every path."""
    body = Path(os.environ["BENCH_STATIC_BODY"]).read_bytes()
    app = Flask("floor", static_folder=None)

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def fixed(path):
        return Response(body, mimetype="application/json")

    return app
