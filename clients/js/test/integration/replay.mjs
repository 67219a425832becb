// Replays one recording against a real hub with the built package, under Node.js; driven by Recorder.Tests
// (Client/JsClientTests.cs), which may cut the connection while it runs. One JSON object per line on stdout.
//
//   node test/integration/replay.mjs <hubUrl> <userId> <token> <recorderDir>
import { RecorderClient } from "../../dist/index.js";

const [hubUrl, userId, token, recorderDir] = process.argv.slice(2);
const log = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const client = new RecorderClient({ hubUrl, userId, token, recorderDir, connectAttempts: 1 });
client.on("reconnecting", (e) => log({ event: "reconnecting", message: e?.message ?? null }));
client.on("reconnected", () => log({ event: "reconnected" }));
client.on("resumed", (after) => log({ event: "resumed", after }));
try {
    await client.start();
} catch (e) {
    log({ event: "failed", name: e.name, message: e.message });
    process.exit(2);
}
log({ event: "connected", interactionId: client.interactionId, status: client.connected.data.status });
await client.startRecorder();
try {
    for await (const m of client.messages()) {
        log({ event: "raw", seq: m.seq, status: m.status, interactionId: m.interaction_id });
    }
    log({ event: "end" });
} catch (e) {
    log({ event: "failed", name: e.name, message: e.message });
    process.exitCode = 3;
}
await client.stop();
