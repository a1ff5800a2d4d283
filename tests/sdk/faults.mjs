// Drives Siemens' Node SDK (@mindconnect/mindconnect-nodejs, pinned in package.json) against a running emulator
// while tests/test_sdk_faults.py injects faults through the control plane between the calls, so that the test
// sees what the real client makes of an injected 500 or 429 (an error with which message?) and whether the
// same SDK object works again once the rule is spent, expired or deleted. By hand:
//
//   EMU_GATEWAY=http://127.0.0.1:8080 EMU_TENANT=emutenant EMU_CLIENT_ID=... EMU_CLIENT_SECRET=... \
//     node tests/sdk/faults.mjs session
//
// One SDK object (service credentials) for the whole run: the point is that it recovers by itself, so it is
// never rebuilt. Protocol, one JSON document per line so that the Python side never parses free text:
//   stdout  "READY {}" once the SDK object exists (no request made yet)
//   stdin   one command per line, each answered by exactly one stdout line before the next is read:
//             {"call": "GetRootAsset"}
//             {"call": "GetTimeSeries", "assetId": ..., "aspect": ..., "from": <ISO>, "to": <ISO>}
//             {"call": "quit"}                     -> "BYE {}", exit code 0
//   stdout  "RESULT {"ok": true, "value": {...}, "token": <the access token the SDK holds afterwards>}"
//           "RESULT {"ok": false, "message": <the SDK's error message>}" when the call rejects
// A call that rejects is an answer, not a failure of the script. Anything else (an unknown command, stdin
// closed without "quit") ends the script: the error on stderr, exit code 1.

import { createInterface } from "node:readline";

import { emit, message, runMode, serviceSdk } from "./common.mjs";

// The calls the Python side can ask for, each returning only what it checks: enough to tell a real answer from
// an empty or mis-parsed one.
const CALLS = {
    async GetRootAsset(sdk) {
        const root = await sdk.GetAssetManagementClient().GetRootAsset();
        return { assetId: root.assetId ?? null, name: root.name ?? null };
    },
    async GetTimeSeries(sdk, command) {
        // Date bounds, as an application would pass them (the SDK sends them as toISOString()).
        const records = await sdk.GetTimeSeriesClient().GetTimeSeries(command.assetId, command.aspect, {
            from: new Date(command.from), to: new Date(command.to),
        });
        return { records };
    },
};

async function session() {
    const sdk = serviceSdk();
    emit("READY", {});
    const rl = createInterface({ input: process.stdin });
    // for await pulls the next line only after this body finished: one command at a time, in order.
    for await (const line of rl) {
        if (!line.trim()) {
            continue;
        }
        const command = JSON.parse(line);
        if (command.call === "quit") {
            rl.close();
            emit("BYE", {});
            return;
        }
        const call = Object.hasOwn(CALLS, command.call) ? CALLS[command.call] : undefined;
        if (!call) {
            // Outside the try below: a test asking for something this script cannot do is a bug, not a fault.
            throw new Error(`unknown call ${JSON.stringify(command.call)} (${Object.keys(CALLS).join(", ")} or quit)`);
        }
        let answer;
        try {
            const value = await call(sdk, command);
            answer = { ok: true, value, token: await sdk.GetToken() };
        } catch (err) {
            answer = { ok: false, message: message(err) };
        }
        emit("RESULT", answer);
    }
    throw new Error("stdin closed before the quit command");
}

await runMode({ session });
