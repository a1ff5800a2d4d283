// Drives Siemens' Node SDK (@mindconnect/mindconnect-nodejs, pinned in package.json) against a running
// emulator, so that tests/test_sdk_auth.py checks the emulator with the real client instead of with our
// reading of it. Run by that test; by hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     node tests/sdk/auth.mjs service|app|wrong-secret|restart
//
// Protocol (stdout, one JSON document per line, so the Python side never parses free text):
//   service, app      -> "RESULT {assetId, token, userTenant}" (userTenant: null unless the SDK chose its
//                        TokenManagerAuth, i.e. app credentials)
//   wrong-secret      -> "RESULT {service: <error message>, app: <error message>}"
//   restart           -> "READY {service: <as above>, app: <as above>}", then waits for one line on stdin
//                        (the test restarts the emulator meanwhile), calls again with the SAME sdk objects
//                        (their cached tokens and cached /token_keys) and prints "OK {...}" of the same shape.
// Any failure: the error on stderr and exit code 1.

import { createInterface } from "node:readline";

import { basicAuth, clientId, clientSecret, emit, gateway, message, MindSphereSdk, runMode, serviceSdk, tenant }
    from "./common.mjs";

const APP_NAME = "myapp";
const APP_VERSION = "1.0.0";

// Service credentials (serviceSdk in common.mjs) select the SDK's CredentialAuth (POST /oauth/token); adding
// usertenant, appName and appVersion selects TokenManagerAuth (POST /api/technicaltokenmanager/v3/oauth/token).
// See dist/src/api/sdk/common/sdk-client.js and credentials.js in the package.
function appSdk(secret = clientSecret) {
    return new MindSphereSdk({
        gateway, tenant, basicAuth: basicAuth(clientId, secret),
        usertenant: tenant, appName: APP_NAME, appVersion: APP_VERSION,
    });
}

// One authenticated call; GetToken() afterwards returns the token the SDK holds (and used) without a new
// token request as long as that token still validates against the SDK's cached keys.
async function rootAsset(sdk) {
    const root = await sdk.GetAssetManagementClient().GetRootAsset();
    if (!/^[a-f0-9]{32}$/.test(root.assetId ?? "")) {
        throw new Error(`the root asset id is not 32 hex chars: ${JSON.stringify(root)}`);
    }
    return { assetId: root.assetId, token: await sdk.GetToken(), userTenant: sdk.GetUserTenant() ?? null };
}

async function rejection(call) {
    try {
        await call();
    } catch (err) {
        return message(err);
    }
    throw new Error("the call succeeded with a wrong client secret");
}

async function readLine() {
    const rl = createInterface({ input: process.stdin });
    try {
        for await (const line of rl) {
            return line;
        }
    } finally {
        rl.close();
    }
    throw new Error("stdin closed before the go-ahead line");
}

await runMode({
    async service() {
        emit("RESULT", await rootAsset(serviceSdk()));
    },
    async app() {
        emit("RESULT", await rootAsset(appSdk()));
    },
    async "wrong-secret"() {
        const service = await rejection(() => rootAsset(serviceSdk("not-the-secret")));
        const app = await rejection(() => rootAsset(appSdk("not-the-secret")));
        emit("RESULT", { service, app });
    },
    async restart() {
        const sdks = { service: serviceSdk(), app: appSdk() };
        const before = { service: await rootAsset(sdks.service), app: await rootAsset(sdks.app) };
        emit("READY", before);
        await readLine();
        const after = { service: await rootAsset(sdks.service), app: await rootAsset(sdks.app) };
        emit("OK", after);
    },
});
