"""Siemens' Node SDK (``@mindconnect/mindconnect-nodejs`` 3.24.2) authenticates against a real ``serve`` process.

Why a real client: the emulator's token endpoints were built from a request log (sdk-requests.md 2), and only
the SDK itself shows whether its token flows, its JWT check against ``/token_keys`` and its API calls all
pass. ``tests/sdk/auth.mjs`` does the SDK side and prints one JSON line per step; this module starts the
emulator, runs the script and checks what it printed.

The npm packages come from ``npm ci --prefix tests/sdk``. Without node or those packages the tests skip
locally, but fail in CI (``CI`` set), so that a CI run can never pass without having driven the SDK.
"""

from __future__ import annotations

import json
import re

import jwt
import pytest
import requests

from tests.support.sdk import CLIENT_ID, SDK_DIR, TENANT, NodeSession, emulator_server, node_env, require_sdk, run_node

pytestmark = pytest.mark.node

SCRIPT = SDK_DIR / "auth.mjs"


def _run(node: str, mode: str, url: str) -> dict:
    """Run one step of the script to completion and return its ``RESULT`` document."""
    proc = run_node(node, SCRIPT, mode, node_env(url))
    assert proc.returncode == 0, f"node {mode} exited {proc.returncode}\nstderr:\n{proc.stderr}\nstdout:\n{proc.stdout}"
    return _document(proc.stdout.splitlines(), "RESULT", proc.stderr)


def _document(lines: list[str], prefix: str, stderr: str) -> dict:
    for line in lines:
        if line.startswith(prefix + " "):
            return json.loads(line[len(prefix) + 1:])
    raise AssertionError(f"no {prefix} line from node\nstdout:\n" + "\n".join(lines) + f"\nstderr:\n{stderr}")


def _claims(token: str) -> dict:
    """The token's payload, unverified: the SDK has verified it already, this only reads who it is for."""
    return jwt.decode(token, options={"verify_signature": False})


def _assert_root(result: dict, user_tenant: str | None) -> None:
    """A root asset id the SDK accepts elsewhere (32 hex chars), from the flow we meant to test.

    ``userTenant`` is the SDK's public ``GetUserTenant()``: set only when it chose TokenManagerAuth, so it tells
    which of the two flows actually ran.
    """
    assert re.fullmatch(r"[0-9a-f]{32}", result["assetId"]), result
    assert result["userTenant"] == user_tenant, result
    claims = _claims(result["token"])
    assert claims["ten"] == TENANT and claims["client_id"] == CLIENT_ID, claims


def _api_root(url: str, token: str) -> requests.Response:
    """The same call as the SDK's GetRootAsset, made directly (and never through a proxy from the environment)."""
    with requests.Session() as http:
        http.trust_env = False
        return http.get(url + "/api/assetmanagement/v3/assets/root",
                        headers={"Authorization": "Bearer " + token}, timeout=10)


def test_service_credentials(tmp_path):
    """``{gateway, tenant, basicAuth}``: the SDK's CredentialAuth (POST /oauth/token, GET /token_keys, verify)."""
    node = require_sdk()
    with emulator_server(tmp_path) as server:
        result = _run(node, "service", server.url)
    _assert_root(result, user_tenant=None)


def test_app_credentials(tmp_path):
    """Adding ``usertenant, appName, appVersion``: the SDK's TokenManagerAuth (technical token manager)."""
    node = require_sdk()
    with emulator_server(tmp_path) as server:
        result = _run(node, "app", server.url)
    _assert_root(result, user_tenant=TENANT)


def test_wrong_secret_is_rejected(tmp_path):
    """A wrong secret must make both flows reject, with the reason the SDK can show (it only sees the text)."""
    node = require_sdk()
    with emulator_server(tmp_path) as server:
        result = _run(node, "wrong-secret", server.url)
    for flow, message in result.items():
        assert "UNAUTHORIZED" in message or "Bad credentials" in message, f"{flow}: {message}"


def test_token_from_before_a_restart_is_accepted_after_it(tmp_path):
    """A token and the keys the SDK cached stay valid across a restart (SIGKILL) on the same port and data dir.

    The SDK replaces its token silently when the cached one no longer verifies against its cached keys, so a
    successful call alone would not show much: the token it holds after the restart must be the very one it
    held before, and that token must also be accepted by a plain ``requests`` call.
    """
    node = require_sdk()
    # the first server picks its port (--port 0) and the second takes the same one: a port found free
    # beforehand and handed to both could be taken by another process before the first server bound it
    with emulator_server(tmp_path) as first, NodeSession(node, SCRIPT, "restart", node_env(first.url)) as session:
        port = first.port
        before = session.expect("READY")
        _assert_root(before["service"], user_tenant=None)
        _assert_root(before["app"], user_tenant=TENANT)

        first.kill()
        with pytest.raises(requests.ConnectionError):
            _api_root(first.url, before["service"]["token"])  # it is really down, not a surviving worker

        with emulator_server(tmp_path, port) as second:
            assert second.port == port
            session.send("go")
            after = session.expect("OK")
            session.finish()
            for flow in ("service", "app"):
                assert after[flow]["token"] == before[flow]["token"], f"{flow}: the SDK had to fetch a new token"
                assert after[flow]["assetId"] == before[flow]["assetId"], flow
                response = _api_root(second.url, before[flow]["token"])
                assert response.status_code == 200, f"{flow}: {response.status_code} {response.text}"
                assert response.json()["assetId"] == before[flow]["assetId"]
