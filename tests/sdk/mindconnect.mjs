// Drives the device path through Siemens' Node SDK (@mindconnect/mindconnect-nodejs) against a running emulator:
// a tenant's client makes an aspect type, an asset type, a target asset, a core.mclib asset and an agent; a
// MindConnectAgent onboards (SHARED_SECRET, or RSA_3072 with a 3072-bit key), configures its data source, maps its
// data points (PutDataMappings, or ConfigureAgentForAssetId which does both), posts with PostData and BulkPostData;
// the values are read back through TimeSeriesClient and TS Aggregates v4; diagnostics show what was taken and
// refused. By hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     node tests/sdk/mindconnect.mjs sharedSecret
//
// Protocol as in common.mjs: "STEP <name> <json>" per call, then "DONE {}".

import { createRequire } from "node:module";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { done, refusal, runMode, serviceSdk, step, tenant } from "./common.mjs";

const { MindConnectAgent } = createRequire(import.meta.url)("@mindconnect/mindconnect-nodejs");

const ASPECT = "Environment";
const START = Date.parse("2024-03-01T10:00:00.000Z");
const at = (minutes) => new Date(START + minutes * 60_000);

// The target asset: a dynamic aspect like Siemens' own unit test environment (test-agent-setup-utils).
async function target(sdk, suffix) {
    const am = sdk.GetAssetManagementClient();
    const root = await am.GetRootAsset();
    const aspectTypeId = `${tenant}.SdkMcEnvironment${suffix}`;
    const assetTypeId = `${tenant}.SdkMcDevice${suffix}`;
    await am.PutAspectType(aspectTypeId, {
        name: `SdkMcEnvironment${suffix}`, category: "dynamic", scope: "private", description: "tests/sdk/mindconnect.mjs",
        variables: [
            { name: "Humidity", dataType: "INT", unit: "%", searchable: true, qualityCode: true },
            { name: "Pressure", dataType: "DOUBLE", unit: "kPa", searchable: true, qualityCode: true },
            { name: "Temperature", dataType: "DOUBLE", unit: "°C", searchable: true, qualityCode: true },
            { name: "Running", dataType: "BOOLEAN", unit: "", searchable: true, qualityCode: false },
        ],
    });
    await am.PutAssetType(assetTypeId, {
        name: `SdkMcDevice${suffix}`, parentTypeId: "core.basicasset", instantiable: true, scope: "private",
        aspects: [{ name: ASPECT, aspectTypeId }], variables: [],
    });
    const asset = await am.PostAsset({ name: `sdk-mc-target-${suffix}`, typeId: assetTypeId, parentId: root.assetId });
    const agentAsset = await am.PostAsset({ name: `sdk-mc-agent-${suffix}`, typeId: "core.mclib", parentId: root.assetId });
    return { assetId: asset.assetId, agentAssetId: agentAsset.assetId };
}

async function newAgent(sdk, agentAssetId, profile) {
    const agents = sdk.GetAgentManagementClient();
    const agent = await agents.PostAgent({ name: agentAssetId, securityProfile: profile, entityId: agentAssetId });
    const config = await agents.GetBoardingConfiguration(agent.id, { retry: 3 });
    const mc = new MindConnectAgent(config, 600, mkdtempSync(join(tmpdir(), "mc-")));
    if (profile === "RSA_3072") {
        const { privateKey } = generateKeyPairSync("rsa", {
            modulusLength: 3072, privateKeyEncoding: { type: "pkcs1", format: "pem" },
            publicKeyEncoding: { type: "spki", format: "pem" },
        });
        mc.SetupAgentCertificate(privateKey);
    }
    await mc.OnBoard();
    return mc;
}

const values = (t, p, h, running, qc = "0") => [
    { dataPointId: "DP-Temperature", qualityCode: qc, value: `${t}` },
    { dataPointId: "DP-Pressure", qualityCode: qc, value: `${p}` },
    { dataPointId: "DP-Humidity", qualityCode: qc, value: `${h}` },
    { dataPointId: "DP-Running", qualityCode: "0", value: `${running}` },
];

// Post and read back: PostData for minutes 0..4, BulkPostData for 5..9, then TimeSeriesClient and aggregates.
async function postAndRead(sdk, mc, assetId) {
    for (let m = 0; m < 5; m++) {
        await mc.PostData(values(20 + m, 100.5, 40 + m, m % 2 === 0, m === 0 ? "12189696" : "0"), at(m));
    }
    const bulk = [];
    for (let m = 5; m < 10; m++) {
        bulk.push({ timestamp: at(m).toISOString(), values: values(20 + m, 100.5, 40 + m, true) });
    }
    step("bulk", { result: await mc.BulkPostData(bulk) });

    const ts = sdk.GetTimeSeriesClient();
    const records = await ts.GetTimeSeries(assetId, ASPECT, { from: at(-1), to: at(10) });
    step("records", { records });
    const v4 = sdk.GetTimeSeriesAggregateClientV4();
    step("aggregates", await v4.GetAggregates({
        assetId, aspectName: ASPECT, from: at(0).toISOString(), to: at(10).toISOString(),
        intervalUnit: "minute", intervalValue: 10, select: "Temperature",
    }));
}

// A SHARED_SECRET agent, mapped by hand as Siemens' agent-3 test does (keepMapping true).
async function sharedSecret() {
    const sdk = serviceSdk();
    const { assetId, agentAssetId } = await target(sdk, "S");
    const mc = await newAgent(sdk, agentAssetId, "SHARED_SECRET");
    await mc.PutDataSourceConfiguration({
        configurationId: "CF-sdk-mc",
        dataSources: [{
            name: ASPECT, description: "environment sensors",
            dataPoints: [
                { id: "DP-Humidity", name: "Humidity", type: "INT", unit: "%" },
                { id: "DP-Pressure", name: "Pressure", type: "DOUBLE", unit: "kPa" },
                { id: "DP-Temperature", name: "Temperature", type: "DOUBLE", unit: "°C" },
                { id: "DP-Running", name: "Running", type: "BOOLEAN" },
            ],
        }],
    });
    const mappings = [];
    for (const point of ["Humidity", "Pressure", "Temperature", "Running"]) {
        mappings.push({ agentId: mc.ClientId(), dataPointId: `DP-${point}`, entityId: assetId, propertySetName: ASPECT,
                        propertyName: point, keepMapping: true });
    }
    step("put", { result: await mc.PutDataMappings(mappings), again: await mc.PutDataMappings(mappings) });
    const read = await mc.GetDataMappings();
    step("mappings", { count: read.length, validity: read.map((m) => m.validity.status), qualityEnabled: read.map((m) => m.qualityEnabled) });
    await postAndRead(sdk, mc, assetId);

    // Diagnostics (Siemens' diagnostic test): activate, post a value of an unknown data point, read the messages.
    const mcapi = sdk.GetMindConnectApiClient();
    await mcapi.DeleteAllDiagnosticActivations();
    step("activation", await mcapi.PostDiagnosticActivation(mc.ClientId()));
    step("unknown", await refusal(() => mc.PostData([{ dataPointId: "Unexistent", qualityCode: "123123135", value: "12312346.42.23" }], undefined, false)));
    await mc.PostData(values(1, 2, 3, false), at(30));
    const diag = await mcapi.GetDiagnosticActivationMessages(mc.ClientId());
    step("diagnostics", { messages: diag.content.map((m) => ({ severity: m.severity, state: m.state, message: m.message })) });
    await mcapi.DeleteDiagnosticActivation(mc.ClientId());
    step("activationsAfter", { count: (await mcapi.GetDiagnosticActivations()).content.length });

    // The agent's own token on other APIs: asset reads yes (Siemens' sdk-with-agent-auth test), time series no.
    const own = mc.Sdk();
    step("agentAssets", { count: (await own.GetAssetManagementClient().GetAssets())._embedded.assets.length });
    step("agentTimeSeries", await refusal(() => own.GetTimeSeriesClient().GetTimeSeries(assetId, ASPECT)));
    // PostEvent (Event Management) and UploadFile (IoT File) with the agent's token, as Siemens' agent-3 test does.
    step("event", { result: await mc.PostEvent({ entityId: mc.ClientId(), sourceType: "Agent", sourceId: "application",
                                                 source: "Meowz", severity: 30, description: "from the agent" }) });
    const events = await sdk.GetEventManagementClient().GetEvents({ filter: JSON.stringify({ entityId: mc.ClientId() }) });
    step("events", { descriptions: (events._embedded?.events || []).map((e) => e.description) });
    step("upload", { md5: await mc.UploadFile(mc.ClientId(), "unitTest/hello.txt", Buffer.from("hello agent")) });
    const file = await sdk.GetIoTFileClient().GetFile(mc.ClientId(), "unitTest/hello.txt");
    step("download", { text: await file.text() });
    step("deleteAll", { before: read.length, after: (await mc.DeleteAllMappings(), (await mc.GetDataMappings()).length) });
    done();
}

// An RSA_3072 agent configured by ConfigureAgentForAssetId: the SDK reads the asset and its exploded type with the
// agent's token, generates the configuration (DP-<variable>), deletes the old mappings and maps every variable.
async function rsa() {
    const sdk = serviceSdk();
    const { assetId, agentAssetId } = await target(sdk, "R");
    const mc = await newAgent(sdk, agentAssetId, "RSA_3072");
    await mc.ConfigureAgentForAssetId(assetId);
    const read = await mc.GetDataMappings();
    step("mappings", { count: read.length, points: read.map((m) => m.dataPointId).sort(), keep: read.every((m) => m.keepMapping) });
    step("configuration", { configurationId: (await mc.GetDataSourceConfiguration()).configurationId });
    await postAndRead(sdk, mc, assetId);
    done();
}

runMode({ sharedSecret, rsa });
