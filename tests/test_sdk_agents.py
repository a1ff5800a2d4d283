"""Siemens' Node SDK (``@mindconnect/mindconnect-nodejs`` 3.24.2) drives Agent Management v3: its
AgentManagementClient creates an agent for a core.mclib asset, reads the boarding configuration and the
onboarding status, reads and puts the data source configuration with ``If-Match``, offboards and deletes
(``tests/sdk/agents.mjs``). Without node or the npm packages the test skips locally but fails in CI."""

from __future__ import annotations

import pytest

from tests.support import sdk

pytestmark = pytest.mark.node

SCRIPT = sdk.SDK_DIR / "agents.mjs"


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory) -> dict:
    node = sdk.require_sdk()
    with sdk.emulator_server(tmp_path_factory.mktemp("sdk-agents")) as server:
        steps = sdk.run_steps(node, SCRIPT, "lifecycle", sdk.node_env(server.url, strip=sdk.CLI_AUTH_VARS))
        steps["_url"] = server.url
        return steps


def test_the_sdk_creates_reads_and_lists_an_agent(lifecycle):
    asset_id = lifecycle["asset"]["assetId"]
    assert lifecycle["asset"]["typeId"] == "core.mclib"
    assert lifecycle["agent"] == {"id": asset_id, "eTag": "0", "name": asset_id, "securityProfile": "SHARED_SECRET",
                                  "entityId": asset_id}
    assert lifecycle["get"] == lifecycle["agent"]
    assert lifecycle["list"] == {"ids": [asset_id], "size": 10, "totalElements": 1}
    stale = lifecycle["stalePut"]
    assert stale["rejected"] and "changed by someone else" in stale["message"], stale


def test_the_sdk_reads_the_boarding_configuration(lifecycle):
    content = lifecycle["boarding"]["content"]
    assert content["clientId"] == lifecycle["agent"]["id"] and content["tenant"] == sdk.TENANT
    assert content["clientCredentialProfile"] == ["SHARED_SECRET"]
    assert content["baseUrl"] == lifecycle["_url"].rstrip("/") and content["iat"].count(".") == 2
    assert lifecycle["status"] == {"status": "ONBOARDING"}


def test_the_sdk_puts_a_data_source_configuration(lifecycle):
    empty, put = lifecycle["dscEmpty"], lifecycle["dscPut"]
    assert empty["eTag"] == "0" and empty["dataSources"] == [] and empty["configurationId"] is None
    assert put["eTag"] == "1" and put["configurationId"] == "CF-sdk" and put["id"] == empty["id"]
    assert [p["id"] for p in put["dataSources"][0]["dataPoints"]] == ["DP-Temperature", "DP-Running"]
    assert put["dataSources"][0]["dataPoints"][0]["unit"] == "°C"
    assert lifecycle["dscGet"] == put
    assert lifecycle["dscStale"]["rejected"] and "changed by someone else" in lifecycle["dscStale"]["message"]


def test_the_sdk_offboards_and_deletes(lifecycle):
    assert lifecycle["offboard"] == {"status": "NOT_ONBOARDED"}
    assert lifecycle["deleted"]["rejected"] and "not found" in lifecycle["deleted"]["message"].lower()


def test_the_sdk_agent_onboards_gets_tokens_and_rotates_its_secret(tmp_path):
    """MindConnectAgent: OnBoard (POST /register with the IAT), GetAgentToken (a client assertion to
    /oauth/token, verified by the SDK with /oauth/token_key), RotateKey (PUT registration_client_uri),
    Get/PutDataSourceConfiguration with its own token."""
    node = sdk.require_sdk()
    with sdk.emulator_server(tmp_path) as server:
        steps = sdk.run_steps(node, SCRIPT, "onboarding", sdk.node_env(server.url, strip=sdk.CLI_AUTH_VARS))
    assert steps["before"] == {"onboarded": False, "status": "ONBOARDING"}
    assert steps["onboard"] == {"result": "ONBOARDED", "status": "ONBOARDED"}
    token = steps["token"]
    assert token["ten"] == sdk.TENANT and token["lifetime"] == 3600 and token["scope"] == ["mdsp:core:DefaultAgent"]
    assert steps["rotate"] == {"result": True, "changed": True}
    assert steps["tokenAfterRotation"] == {"sub": token["sub"], "newJti": True}
    assert steps["agentDsc"] == {"before": "0", "after": "1", "configurationId": "CF-agent"}  # with its own token
    assert steps["again"]["rejected"] and "token_validation_failed" in steps["again"]["message"]


def test_the_sdk_rsa_agent_onboards_with_its_key_and_gets_tokens(tmp_path):
    """An RSA_3072 MindConnectAgent: its public JWK registered, RS384 client assertions, rotation with the key."""
    node = sdk.require_sdk()
    with sdk.emulator_server(tmp_path) as server:
        steps = sdk.run_steps(node, SCRIPT, "onboardingRsa", sdk.node_env(server.url, strip=sdk.CLI_AUTH_VARS))
    assert steps["onboard"] == {"result": "ONBOARDED", "hasSecret": False}
    assert steps["token"]["lifetime"] == 3600
    assert steps["rotate"] == {"result": True}
    assert steps["tokenAfterRotation"]["sub"] == steps["token"]["sub"]
