"""Helpers shared by the tests that drive Siemens' Node SDK (test_sdk_auth.py and test_sdk_assets.py).

Both modules need the same things: the pinned SDK in ``tests/sdk/node_modules`` (skipped locally without it,
failed in CI), an emulator ``serve`` process with one known tenant and client, and an environment for node
without proxy variables. The node scripts share their counterpart in ``tests/sdk/common.mjs``.

Imported as ``import sdk_support``: ``tests/`` is no package, and pytest's default import mode (``prepend``)
puts the directory of each test module first on ``sys.path`` before importing it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from emulator.testing import ServerProcess

SDK_DIR = Path(__file__).parent / "sdk"
SDK_VERSION = "3.24.2"
SDK_PACKAGE = SDK_DIR / "node_modules" / "@mindconnect" / "mindconnect-nodejs"
SDK_PACKAGE_JSON = SDK_PACKAGE / "package.json"

TENANT = "emutenant"
CLIENT_ID = "emu-sdk-client"
CLIENT_SECRET = "emu-sdk-secret-0123456789"
NODE_TIMEOUT = 60.0
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


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
