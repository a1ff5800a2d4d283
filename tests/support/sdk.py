"""Helpers shared by the tests that drive Siemens' Node SDK and its ``mc`` CLI (tests/test_sdk_*.py).

Every such module needs the same things: the pinned SDK in ``tests/sdk/node_modules`` (skipped locally without
it, failed in CI), an emulator ``serve`` process with one known tenant and client, an environment for node
without proxy variables, a way to run a script to its end or talk to a long-running one line by line, the
parser of the ``STEP <name> <json>`` lines, and for the CLI a HOME with stored service credentials. They live
here once so that the modules cannot drift apart in how they run node (timeouts, environment, failure
messages). The node scripts share their counterpart in ``tests/sdk/common.mjs``.

Imported as ``tests.support.sdk`` (see ``tests/support/__init__.py``).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from emulator.testing import ApiSession, ServerProcess
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, TOKEN

SDK_DIR = Path(__file__).parent.parent / "sdk"
SDK_VERSION = "3.24.2"
SDK_PACKAGE = SDK_DIR / "node_modules" / "@mindconnect" / "mindconnect-nodejs"
SDK_PACKAGE_JSON = SDK_PACKAGE / "package.json"

TENANT = "emutenant"
CLIENT_ID = "emu-sdk-client"
CLIENT_SECRET = "emu-sdk-secret-0123456789"
NODE_TIMEOUT = 60.0
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")

MC = SDK_PACKAGE / "bin" / "mc"
PASSKEY = "emu-cli-passkey"
# The CLI authenticates with these instead of the stored credentials when they are set: never inherit them.
CLI_AUTH_VARS = ("MDSP_PASSKEY", "MDSP_HOST", "MDSP_SESSION", "MDSP_XSRF_TOKEN")
# Colour escapes, stripped from the CLI's output before its rows are matched, should any come despite FORCE_COLOR=0.
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def in_ci() -> bool:
    """Whether ``CI`` is set (to anything but an empty, ``0``, ``false`` or ``no`` value)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where a skipped SDK test would hide that the SDK was never driven."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def require_sdk() -> str:
    """The node executable, once the pinned SDK is installed in tests/sdk/node_modules.

    Called first thing in each test rather than as a fixture, so that in CI a missing SDK is a test failure
    (not a setup error) and no server is started for nothing.
    """
    path = shutil.which("node")
    if path is None:
        unavailable("node is not on PATH; install Node.js >= 18 to run the SDK tests")
    if not SDK_PACKAGE_JSON.is_file():
        unavailable("@mindconnect/mindconnect-nodejs is not installed in tests/sdk/node_modules; "
                    "run `npm ci --prefix tests/sdk`")
    installed = json.loads(SDK_PACKAGE_JSON.read_text(encoding="utf-8")).get("version")
    if installed != SDK_VERSION:
        # A different SDK would make the test prove something about another client: never silently accept it.
        pytest.fail(f"tests/sdk has @mindconnect/mindconnect-nodejs {installed}, expected {SDK_VERSION}; "
                    "run `npm ci --prefix tests/sdk`", pytrace=False)
    return path


@contextmanager
def emulator_server(data_dir: Path, port: int = 0) -> Iterator[ServerProcess]:
    """A ``serve`` process for ``TENANT`` with the client ``CLIENT_ID``/``CLIENT_SECRET``.

    Killed on the way out even when it never became healthy: ``with ServerProcess`` alone would leave it
    running then, since ``__exit__`` does not run when ``__enter__`` raises.
    """
    process = ServerProcess("--port", str(port), "--data-dir", str(data_dir), "--tenant", TENANT,
                            "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    try:
        yield process.start()
    finally:
        process.kill()


def base_env(strip: Iterable[str] = ()) -> dict:
    """This process's environment without proxy variables (and without the names in ``strip``).

    The proxies go because the SDK would send even requests to 127.0.0.1 through them (sdk-requests.md 1).
    """
    drop = (*PROXY_VARS, *strip)
    return {k: v for k, v in os.environ.items() if k not in drop}


def node_env(gateway: str, strip: Iterable[str] = ()) -> dict:
    """``base_env(strip)`` plus the ``EMU_*`` settings the scripts in tests/sdk read (see common.mjs)."""
    env = base_env(strip)
    env.update(EMU_GATEWAY=gateway, EMU_TENANT=TENANT, EMU_CLIENT_ID=CLIENT_ID, EMU_CLIENT_SECRET=CLIENT_SECRET)
    return env


def after_sdk_check(request, fixture: str):
    """A module fixture's value, fetched from inside the test once ``require_sdk`` passed.

    Fetching it here, not as a test argument, keeps a missing SDK a test failure in CI (a fixture that
    fails is reported as a setup error) and starts no server when the SDK is absent.
    """
    require_sdk()
    return request.getfixturevalue(fixture)


# --- node scripts run to their end ------------------------------------------------------------------------------

def _run_to_end(argv: list[str], env: dict, cwd: Path, what: str) -> subprocess.CompletedProcess:
    """``argv`` run with ``NODE_TIMEOUT``, stdin closed; a hang fails the test with what it printed so far."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=NODE_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what} did not finish in {NODE_TIMEOUT} s\nstdout: {exc.stdout}\nstderr: {exc.stderr}")


def run_node(node: str, script: Path, mode: str, env: dict) -> subprocess.CompletedProcess:
    """``node <script> <mode>`` from tests/sdk (so it resolves tests/sdk/node_modules), whatever its exit code."""
    return _run_to_end([node, str(script), mode], env, SDK_DIR, f"node {mode}")


def steps(stdout: str) -> dict:
    """``STEP <name> <json>`` lines by name (each name is printed once; see ``step`` in common.mjs)."""
    found = {}
    for line in stdout.splitlines():
        if line.startswith("STEP "):
            _, name, payload = line.split(" ", 2)
            found[name] = json.loads(payload)
    return found


def run_steps(node: str, script: Path, mode: str, env: dict, tail: int | None = None) -> dict:
    """The ``STEP`` lines of a script that must exit 0 after printing ``DONE {}``.

    The steps build on each other, so the last one printed is the last call that worked: the failure message
    shows stdout (its last ``tail`` characters when given, for scripts that print a lot) and stderr.
    """
    proc = run_node(node, script, mode, env)
    detail = f"\nstdout:\n{proc.stdout[-tail:] if tail else proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 0, f"{script.name} exited {proc.returncode} (its last STEP is the last call that " \
                                 "worked)" + detail
    assert "DONE {}" in proc.stdout.splitlines(), f"{script.name} did not finish" + detail
    return steps(proc.stdout)


def run_on_fresh_emulator(tmp_path_factory, script: Path, mode: str, tail: int | None = None) -> dict:
    """``run_steps`` of ``script mode`` against a ``serve`` of its own on a fresh data directory (the SDK's own
    authentication variables stripped from the environment): what a module's one SDK run needs."""
    node = require_sdk()
    with emulator_server(tmp_path_factory.mktemp(f"sdk-{script.stem}-{mode}")) as server:
        return run_steps(node, script, mode, node_env(server.url, strip=CLI_AUTH_VARS), tail=tail)


# --- a long-running node script, read line by line ------------------------------------------------------------

class NodeSession:
    """``node <script> <mode>`` as a child process whose stdout lines are read with a deadline.

    A thread pumps stdout into a queue so that a hung SDK call fails the test after ``NODE_TIMEOUT`` instead of
    blocking it on a bare ``readline``; stderr is kept for the failure messages. The scripts print one
    ``<PREFIX> <json>`` line per answer, so ``expect`` never parses free text.
    """

    def __init__(self, node: str, script: Path, mode: str, env: dict):
        self.proc = subprocess.Popen([node, str(script), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env, cwd=SDK_DIR)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.stderr_lines: list[str | None] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        self._stderr_pump = threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines.append),
                                             daemon=True)
        self._stderr_pump.start()

    @staticmethod
    def _pump(stream, put: Callable[[str | None], None]) -> None:
        for line in stream:
            put(line.rstrip("\n"))
        put(None)

    @property
    def stderr(self) -> str:
        return "\n".join(line for line in self.stderr_lines if line is not None)

    def detail(self) -> str:
        """What node printed so far, for a failure message."""
        return "\nstdout:\n" + "\n".join(self.seen) + f"\nstderr:\n{self.stderr}"

    def expect(self, prefix: str, timeout: float = NODE_TIMEOUT) -> dict:
        """The JSON of the next ``<prefix> <json>`` line (earlier lines are only kept for messages)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {prefix} line from node in {timeout} s" + self.detail()) from None
            if line is None:
                self.proc.wait(timeout=5)
                self._stderr_pump.join(timeout=5)  # all of stderr, for the message
                raise AssertionError(f"node exited {self.proc.returncode} before printing {prefix}" + self.detail())
            self.seen.append(line)
            if line.startswith(prefix + " "):
                return json.loads(line[len(prefix) + 1:])

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self) -> None:
        """Wait for the script to end by itself, which it must do with exit code 0."""
        try:
            code = self.proc.wait(timeout=NODE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError("node did not exit" + self.detail()) from None
        assert code == 0, f"node exited {code}" + self.detail()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self) -> NodeSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- test data made with plain HTTP ----------------------------------------------------------------------------

def api_session(url: str) -> ApiSession:
    """A session with a bearer token for ``CLIENT_ID``, for data that is set up rather than under test.

    Plain HTTP is faster than the SDK; ``ApiSession`` turns ``trust_env`` off, so no proxy from the
    environment is used, as for node.
    """
    http = ApiSession(url)
    resp = http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert resp.status_code == 200, resp.text
    http.headers["Authorization"] = "Bearer " + resp.json()["access_token"]
    return http


def _created(resp) -> dict:
    assert resp.status_code == 201, resp.text
    return resp.json()


def put_aspect_type(http: ApiSession, type_id: str, variables: list[dict]) -> None:
    """A private dynamic aspect type named as its id after ``<tenant>.``."""
    _created(http.put(f"{ASPECT_TYPES}/{type_id}", json={
        "name": type_id.split(".", 1)[1], "category": "dynamic", "scope": "private", "variables": variables}))


def put_asset_type(http: ApiSession, type_id: str, aspects: dict[str, str]) -> None:
    """A private instantiable asset type under ``core.basicasset`` with ``aspects`` (name: aspect type id)."""
    _created(http.put(f"{ASSET_TYPES}/{type_id}", json={
        "name": type_id.split(".", 1)[1], "parentTypeId": "core.basicasset", "instantiable": True,
        "scope": "private", "aspects": [{"name": n, "aspectTypeId": t} for n, t in aspects.items()],
        "variables": []}))


def post_asset(http: ApiSession, name: str, type_id: str, parent_id: str) -> dict:
    """A new asset (the API's answer, with its ``assetId``)."""
    return _created(http.post(ASSETS, json={"name": name, "typeId": type_id, "parentId": parent_id}))


# --- the mc CLI ------------------------------------------------------------------------------------------------

def mc(tenant: dict, *args: str, tail: int | None = None) -> subprocess.CompletedProcess:
    """One ``mc`` command, run as the CLI's bin script with ``tenant["node"]`` (the node ``require_sdk`` checked)
    under the temporary ``tenant["home"]``; it must exit 0 (the message shows the last ``tail`` characters of
    stdout when given).

    The environment has neither proxies nor ``CLI_AUTH_VARS``, so the CLI uses the credentials stored under
    that HOME and nothing from the developer's own setup; no update check, no colour.
    """
    env = {**base_env(strip=CLI_AUTH_VARS), "HOME": str(tenant["home"]), "NO_UPDATE_NOTIFIER": "1", "FORCE_COLOR": "0"}
    proc = _run_to_end([tenant["node"], str(MC), *args], env, tenant["home"], f"mc {args[0]}")
    assert proc.returncode == 0, f"mc {' '.join(args)} exited {proc.returncode}\n" \
                                 f"stdout:\n{proc.stdout[-tail:] if tail else proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def mc_tenant(node: str, home: Path, url: str, **extra) -> dict:
    """``{"node", "home", "url", **extra}`` for ``mc``, once the service credentials are stored under ``home``.

    They go in the way the CLI's docs say, ``mc service-credentials --mode add --type SERVICE`` (client id and
    secret as ``--user``/``--password``), encrypted with ``PASSKEY`` into ``$HOME/.mc/auth.json``; the file is
    checked, as a CLI that stored nothing would only fail later with a less telling message.
    """
    tenant = {"node": node, "home": home, "url": url, **extra}
    proc = mc(tenant, "service-credentials", "--mode", "add", "--type", "SERVICE", "--gateway", url,
              "--tenant", TENANT, "--user", CLIENT_ID, "--password", CLIENT_SECRET, "--passkey", PASSKEY)
    stored = json.loads((home / ".mc" / "auth.json").read_text(encoding="utf-8"))["credentials"]
    assert [(c["gateway"], c["tenant"], c["type"]) for c in stored] == [(url, TENANT, "SERVICE")], \
        f"mc service-credentials stored {stored}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return tenant
