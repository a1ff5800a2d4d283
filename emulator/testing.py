"""Running the emulator for tests: in a thread (waitress) or as a real ``serve`` process.

Both run the same :func:`emulator.app.create_app`; the pytest plugin and the project's own tests
use them, so nothing is mocked between a test and the emulator.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from emulator import collector
from emulator.settings import Settings


class ApiSession(requests.Session):
    """A requests session that prefixes a base URL and, optionally, sends a bearer token.

    ``session.get("/api/assetmanagement/v3/assets/root")`` reads as the path a test is about.
    """

    def __init__(self, base_url: str, token: str | None = None):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.trust_env = False  # no proxies: the emulator is on loopback
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


def fetch_token(base_url: str, client_id: str, secret: str, **form) -> str:
    """An access token by the client credentials grant, as Siemens' SDK asks for it."""
    resp = requests.post(base_url.rstrip("/") + "/oauth/token", data={"grant_type": "client_credentials", **form},
                         auth=(client_id, secret), timeout=30)
    if resp.status_code != 200:
        raise RuntimeError(f"token request failed: {resp.status_code} {resp.text}")
    return resp.json()["access_token"]


class LiveServer:
    """The app under waitress in a daemon thread, on a free loopback port. Without a simulated pump unless
    the settings ask for one (``pump=True``): then the feeder runs in a thread beside it.

    The app's stack (Flask, SQLAlchemy, the emulator) is imported when the first one is made, with the garbage
    collector paused as ``serve`` makes its app (:mod:`emulator.collector`): importing this module costs a test
    session that never starts one nothing."""

    def __init__(self, settings: Settings | None = None, threads: int = 8):
        self.settings = (settings or Settings(database_url="sqlite://")).replace(port=0)
        with collector.paused():
            from emulator.app import create_app
            from emulator.server import create_server

            self.app = create_app(self.settings)
            self._server = create_server(self.app, threads, host="127.0.0.1", port=0)
        self.port = self._server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="mindsphere-emulator", daemon=True)
        self.feeder = None

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        wait_healthy(self.url)
        if self.settings.pump:
            from emulator.devices.feeder import start_thread

            self.feeder = start_thread(self.settings, self.app.extensions["mdsp"].store)

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:
            if not self._stopping:  # closing the sockets under a running select() is how waitress stops
                raise

    def stop(self) -> None:
        if self.feeder is not None:
            self.feeder.stop()
        self._stopping = True
        # Finish the worker threads first: a task that ends after the server closed would write to a
        # closed trigger pipe.
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.close()
        # The event loop runs while any socket is left in its map: a client's keep-alive connection (one a failed
        # test still holds in its traceback, say) kept it polling, and the join below waited its full 5 s.
        from waitress import wasyncore

        wasyncore.close_all(self._server._map, ignore_all=True)
        self._thread.join(timeout=5)
        runtime = self.app.extensions["mdsp"]
        runtime.journal.close()  # its last entries stored, and no flush left to run on the closed store
        runtime.store.dispose()


HAVE_PROC = Path("/proc/self/stat").exists()  # elsewhere (macOS) worker processes cannot be listed


def child_pids(pid: int) -> list[int]:
    """The children of a process (gunicorn's workers of its master), from /proc; [] without /proc."""
    if not HAVE_PROC:
        return []
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return sorted(kids)


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    session = requests.Session()
    session.trust_env = False  # a proxy from the environment must not stand between us and loopback
    while True:
        try:
            if session.get(url + "/_emulator/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the emulator at {url} did not become healthy in {timeout} s")
        time.sleep(0.05)


class ServerProcess:
    """``mindsphere-emulator serve`` as a child process (gunicorn), for restart and kill tests. Without the
    simulated pump unless asked (``--pump`` or ``env={"MDSP_EMU_PUMP": "true"}``), as the test server."""

    def __init__(self, *args: str, env: dict | None = None, cwd: str | Path | None = None):
        self.args = list(args)
        self.env = {**os.environ, "MDSP_EMU_PUMP": "false", **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.output = ""
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        cmd = [sys.executable, "-m", "emulator.cli", "serve", *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=self.env, cwd=self.cwd, start_new_session=True)
        deadline = time.monotonic() + timeout
        lines = []
        while self.port is None:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait(timeout=5)
                self.output = "".join(lines)
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{self.output}")
            lines.append(line)
            match = re.match(r"\s+Port\s+(\d+)", line)
            if match:
                self.port = int(match.group(1))
                self.ready_at = time.monotonic()  # the banner: gunicorn's master is listening
            if time.monotonic() > deadline:
                raise TimeoutError("serve printed no port:\n" + "".join(lines))
        self.output = "".join(lines)
        threading.Thread(target=self._drain, daemon=True).start()
        try:
            wait_healthy(self.url, timeout)
            self.healthy_at = time.monotonic()
        except BaseException:
            self.kill()  # __exit__ does not run when __enter__ fails
            raise
        return self

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output += line

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (gunicorn's master and its workers)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()
