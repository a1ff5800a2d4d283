// Drives Siemens' Node SDK (@mindconnect/mindconnect-nodejs, pinned in package.json) through Agent Management v3
// against a running emulator, the way its own test setup provisions an agent (test-agent-setup-utils): a
// core.mclib asset, an agent for it, the boarding configuration, the data source configuration. By hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     node tests/sdk/agents.mjs lifecycle
//
// Protocol as in common.mjs: "STEP <name> <json>" per call, then "DONE {}"; calls that must be refused print
// {rejected, message}.

import { createRequire } from "node:module";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { done, message, refusal, runMode, serviceSdk, step } from "./common.mjs";

const { MindConnectAgent } = createRequire(import.meta.url)("@mindconnect/mindconnect-nodejs");

function claimsOf(token) {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

async function lifecycle() {
    const sdk = serviceSdk();
    const am = sdk.GetAssetManagementClient();
    const agents = sdk.GetAgentManagementClient();

    const root = await am.GetRootAsset();
    const asset = await am.PostAsset({ name: "sdk-agent-asset", typeId: "core.mclib", parentId: root.assetId });
    step("asset", { assetId: asset.assetId, typeId: asset.typeId });

    const agent = await agents.PostAgent({ name: asset.assetId, securityProfile: "SHARED_SECRET", entityId: asset.assetId });
    step("agent", agent);
    step("get", await agents.GetAgent(agent.id));
    const listed = await agents.GetAgents({ filter: JSON.stringify({ and: { id: { startsWith: agent.id } } }), size: 10 });
    step("list", { ids: listed.content.map((a) => a.id), size: listed.size, totalElements: listed.totalElements });

    step("stalePut", await refusal(() => agents.PutAgent(agent.id, { name: "x", securityProfile: "SHARED_SECRET" }, { ifMatch: "7" })));

    const config = await agents.GetBoardingConfiguration(agent.id, { retry: 3 });
    step("boarding", config);
    step("status", await agents.GetOnboardingStatus(agent.id));

    const empty = await agents.GetDataSourceConfiguration(agent.id);
    step("dscEmpty", empty);
    const dsc = {
        configurationId: "CF-sdk",
        dataSources: [{
            name: "DS-Sensors", description: "from the SDK", customData: { aspect: "Sensors" },
            dataPoints: [
                { id: "DP-Temperature", name: "Temperature", type: "DOUBLE", unit: "°C", customData: { variable: "Temperature" } },
                { id: "DP-Running", name: "Running", type: "BOOLEAN" },
            ],
        }],
    };
    const put = await agents.PutDataSourceConfiguration(agent.id, dsc, { ifMatch: empty.eTag });
    step("dscPut", put);
    step("dscGet", await agents.GetDataSourceConfiguration(agent.id));
    step("dscStale", await refusal(() => agents.PutDataSourceConfiguration(agent.id, dsc, { ifMatch: empty.eTag })));

    step("offboard", await agents.OffboardAgent(agent.id));
    const current = await agents.GetAgent(agent.id);
    await agents.DeleteAgent(agent.id, { ifMatch: current.eTag });
    step("deleted", await refusal(() => agents.GetAgent(agent.id)));
    done();
}

// The agent side (MindConnectAgent): onboard with the boarding configuration, get a token (the SDK verifies it
// with GET /oauth/token_key), rotate the secret (PUT registration_client_uri), get a token with the new secret.
async function onboarding() {
    const sdk = serviceSdk();
    const agents = sdk.GetAgentManagementClient();
    const agent = await agents.PostAgent({ name: "sdk-onboarding", securityProfile: "SHARED_SECRET" });
    const config = await agents.GetBoardingConfiguration(agent.id, { retry: 3 });
    const mc = new MindConnectAgent(config, 600, mkdtempSync(join(tmpdir(), "mc-")));
    step("before", { onboarded: mc.IsOnBoarded(), status: (await agents.GetOnboardingStatus(agent.id)).status });
    step("onboard", { result: await mc.OnBoard(), status: (await agents.GetOnboardingStatus(agent.id)).status });
    const first = await mc.GetAgentToken();
    const claims = claimsOf(first);
    step("token", { sub: claims.sub, ten: claims.ten, lifetime: claims.exp - claims.iat, scope: claims.scope });
    const secret = mc._configuration.response.client_secret;
    step("rotate", { result: await mc.RotateKey(), changed: mc._configuration.response.client_secret !== secret });
    mc._accessToken = undefined;
    const second = await mc.GetAgentToken();
    step("tokenAfterRotation", { sub: claimsOf(second).sub, newJti: claimsOf(second).jti !== claims.jti });
    const own = await mc.GetDataSourceConfiguration();
    const put = await mc.PutDataSourceConfiguration({
        configurationId: "CF-agent",
        dataSources: [{ name: "DS-Agent", dataPoints: [{ id: "DP-1", name: "One", type: "DOUBLE", unit: "" }] }],
    });
    step("agentDsc", { before: own.eTag, after: put.eTag, configurationId: put.configurationId });
    step("again", await refusal(() => new MindConnectAgent(config, 600, mkdtempSync(join(tmpdir(), "mc-"))).OnBoard()));
    done();
}

// An RSA_3072 agent: the SDK registers the public JWK of its PEM key and signs its assertions RS384.
async function onboardingRsa() {
    const sdk = serviceSdk();
    const agents = sdk.GetAgentManagementClient();
    const agent = await agents.PostAgent({ name: "sdk-rsa", securityProfile: "RSA_3072" });
    const config = await agents.GetBoardingConfiguration(agent.id, { retry: 3 });
    const { privateKey } = generateKeyPairSync("rsa", {
        modulusLength: 3072, privateKeyEncoding: { type: "pkcs1", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const mc = new MindConnectAgent(config, 600, mkdtempSync(join(tmpdir(), "mc-")));
    mc.SetupAgentCertificate(privateKey);
    step("onboard", { result: await mc.OnBoard(), hasSecret: "client_secret" in mc._configuration.response });
    const claims = claimsOf(await mc.GetAgentToken());
    step("token", { sub: claims.sub, lifetime: claims.exp - claims.iat });
    step("rotate", { result: await mc.RotateKey() });
    mc._accessToken = undefined;
    step("tokenAfterRotation", { sub: claimsOf(await mc.GetAgentToken()).sub });
    done();
}

runMode({ lifecycle, onboarding, onboardingRsa });
