"""The start-up floor of the emulator's stack, none of the emulator's code: what it cannot start faster than.

Run as a script, in the emulator's environment:

* ``python benchmarks/stack_floor.py serve PORT DATA_DIR``: imports what ``serve`` imports of its dependencies
  (Flask, SQLAlchemy with its SQLite dialect, PyJWT with cryptography, gunicorn and waitress), creates one table
  in a SQLite file of ``DATA_DIR``, and serves ``GET /_emulator/health`` from a Flask app under gunicorn's master
  with two forked workers, the app made before the fork as ``serve`` makes its own. ``bench_floor`` times it from
  exec to that route's first 200.
* ``python benchmarks/stack_floor.py thread``: what the pytest plugin's in-thread server imports of its
  dependencies (the same, requests instead of gunicorn), a table in an in-memory SQLite database, the app served
  by waitress in a thread; prints the seconds from after ``import pytest`` to the first 200, as ``bench_plugin``
  times the plugin's own.
"""

from __future__ import annotations

import sys
import time


def make_app(database_url: str):
    from flask import Flask
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine

    engine = create_engine(database_url)
    Table("things", metadata := MetaData(), Column("id", Integer, primary_key=True))
    metadata.create_all(engine)
    app = Flask("floor", static_folder=None)

    @app.get("/_emulator/health")
    def health():
        return {"status": "UP"}

    return app


def serve(port: int, data_dir: str) -> None:
    import jwt  # noqa: F401 - imported for its cost: serve signs tokens with it
    import waitress  # noqa: F401 - imported for its cost: serve's workers speak HTTP through it
    from gunicorn.app.base import BaseApplication

    class Floor(BaseApplication):
        def load_config(self):
            for key, value in {"bind": [f"127.0.0.1:{port}"], "workers": 2, "worker_class": "gthread",
                               "threads": 8, "accesslog": None, "loglevel": "warning", "preload_app": True}.items():
                self.cfg.set(key, value)

        def load(self):
            return make_app(f"sqlite:///{data_dir}/floor.sqlite3")

    Floor().run()


def in_thread() -> float:
    import pytest  # noqa: F401 - imported before the timer, as when pytest runs a fixture

    started = time.perf_counter()
    import threading

    import jwt  # noqa: F401 - imported for its cost: the emulator signs tokens with it
    import requests
    from waitress.server import create_server

    server = create_server(make_app("sqlite://"), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    with requests.Session() as session:
        session.get(f"http://127.0.0.1:{server.effective_port}/_emulator/health", timeout=30).raise_for_status()
    return time.perf_counter() - started  # the process ends with its daemon thread


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        print(in_thread())
