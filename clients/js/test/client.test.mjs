import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    RecorderClient, RecorderConnectionLostError, RecorderConnectionRefusedError, RecorderInteractionClosedError,
} from "../dist/index.js";
import { connectEnvelope, FakeHub, raw, readAll, refusal, until } from "./fake-hub.mjs";

const base = { hubUrl: "http://127.0.0.1:5080/hubs/recorder", userId: "demo", token: "t ok&=", recorderDir: "demo/x" };

function connect(hub, extra = {}) {
    return RecorderClient.connect({ ...base, connectionFactory: hub.factory, ...extra });
}

describe("connect", () => {
    it("puts user_id, token, recorder_dir and a generated 32-hex client_id in the query, and skips negotiation", async () => {
        const hub = new FakeHub();
        const client = await connect(hub);
        const { url, skipNegotiation } = hub.connection.settings;
        const query = new URL(url).searchParams;
        assert.equal(new URL(url).pathname, "/hubs/recorder");
        assert.equal(query.get("user_id"), "demo");
        assert.equal(query.get("token"), "t ok&=");
        assert.equal(query.get("recorder_dir"), "demo/x");
        assert.match(query.get("client_id"), /^[0-9a-f]{32}$/);
        assert.equal(client.interactionId, query.get("client_id"));
        assert.equal(skipNegotiation, true);
        assert.equal(client.connected.status, "connect");
        assert.equal(client.attached, true);
        await client.stop();
    });

    it("keeps a given client_id, and lets negotiation be turned back on", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "my-id_1", skipNegotiation: false });
        assert.equal(new URL(hub.connection.settings.url).searchParams.get("client_id"), "my-id_1");
        assert.equal(hub.connection.settings.skipNegotiation, false);
        await client.stop();
    });

    it("asks for every raw after afterSeq once the connect message is in", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "abc", afterSeq: 4 });
        assert.deepEqual(hub.connection.invocations, [["Resume", "abc", 4]]);
        assert.equal(client.lastSeq, 4);
        await client.stop();
    });

    it("throws the refusal text and stops, without retrying", async () => {
        const hub = new FakeHub();
        hub.greet = () => refusal("user is not available!");
        const refusals = [];
        await assert.rejects(
            connect(hub, { connectAttempts: 3 }).then(() => undefined, (e) => { refusals.push(e.reason); throw e; }),
            (e) => e instanceof RecorderConnectionRefusedError && e.message === "user is not available!");
        assert.deepEqual(refusals, ["user is not available!"]);
        assert.equal(hub.connection.starts, 1);
        assert.equal(hub.connection.state, "Disconnected");
        assert.equal(hub.connection.invocations.length, 0);
    });

    it("throws the refusal also when it arrives before SignalR's start() has resolved", async () => {
        const hub = new FakeHub();
        hub.greetDuringHandshake = true;
        hub.greet = () => refusal("user is not exist!");
        await assert.rejects(connect(hub, { connectAttempts: 3 }),
            (e) => e instanceof RecorderConnectionRefusedError && e.reason === "user is not exist!");
        assert.equal(hub.connection.starts, 1);
        assert.equal(hub.connection.state, "Disconnected");
    });

    it("retries a transient start failure, up to connectAttempts", async () => {
        const hub = new FakeHub();
        hub.failStarts = 2;
        const client = await connect(hub, { connectAttempts: 3 });
        assert.equal(hub.connection.starts, 3);
        await client.stop();

        const failing = new FakeHub();
        failing.failStarts = 5;
        await assert.rejects(connect(failing, { connectAttempts: 2 }), /WebSocket failed to connect/);
        assert.equal(failing.connection.starts, 2);
    });

    it("gives up on a connect message that does not come within connectTimeoutMs", async () => {
        const hub = new FakeHub();
        hub.silentStarts = 1;
        await assert.rejects(connect(hub, { connectAttempts: 1, connectTimeoutMs: 50 }), /the connect message did not arrive within 50 ms/);
        assert.equal(hub.connection.state, "Disconnected");
    });
});

describe("the stream", () => {
    it("yields every raw once in seq order, as the iterator and as message events, and ends after finished", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "i1" });
        const events = [];
        let ended = "no";
        client.on("message", (m) => events.push(m.seq));
        client.on("end", (e) => { ended = e; });
        hub.write("running");
        hub.write("start");
        await client.startRecorder();
        const reading = readAll(client);
        hub.write("inner");
        hub.write("finished");
        const { seqs, statuses, error } = await reading;
        assert.equal(error, undefined);
        assert.deepEqual(seqs, [1, 2, 3, 4]);
        assert.deepEqual(statuses, ["running", "start", "inner", "finished"]);
        assert.deepEqual(events, [1, 2, 3, 4]);
        assert.equal(ended, undefined);
        assert.equal(client.ended, true);
        assert.deepEqual(hub.connection.invocations.map((i) => i[0]), ["Resume", "StartRecorder"]);
        await client.stop();
    });

    it("also iterates with for await on the client itself, from raws queued before reading started", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "i1" });
        hub.write("running");
        hub.write("failed");
        await until(() => client.ended, "the terminal raw");
        const seen = [];
        for await (const m of client) seen.push(m.status);
        assert.deepEqual(seen, ["running", "failed"]);
        await client.stop();
    });

    it("drops a seq it already has (a repeat) and raws of other interactions", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "i1" });
        hub.write("running");
        hub.write("start");
        await until(() => client.lastSeq === 2, "seq 2");
        hub.connection.deliver(raw(1, "running"));
        hub.connection.deliver(raw(2, "start"));
        hub.connection.deliver(raw(3, "inner", "another"));
        hub.write("finished");
        const { seqs } = await readAll(client);
        assert.deepEqual(seqs, [1, 2, 3]);
        await client.stop();
    });

    it("drops a seq that skips ahead and asks again with Resume(lastSeq)", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "i1" });
        hub.write("running");
        await until(() => client.lastSeq === 1, "seq 1");
        // The server "forgets" seq 2 on this connection: written, not sent.
        hub.raws.push(raw(2, "start"));
        hub.raws.push(raw(3, "inner"));
        hub.connection.cursor = 3;
        hub.connection.deliver(raw(3, "inner"));
        await until(() => hub.connection.invocations.length === 2, "the second Resume");
        assert.deepEqual(hub.connection.invocations[1], ["Resume", "i1", 1]);
        hub.write("finished");
        const { seqs } = await readAll(client);
        assert.deepEqual(seqs, [1, 2, 3, 4]);
        await client.stop();
    });

    it("reconnects and resumes after the last seq: no gap, no repeat", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "i1" });
        const log = [];
        client.on("reconnecting", () => log.push("reconnecting"));
        client.on("reconnected", () => log.push("reconnected"));
        client.on("connect", () => log.push("connect"));
        client.on("resumed", (after) => log.push(`resumed ${after}`));
        const reading = readAll(client);
        hub.write("running");
        hub.write("start");
        await until(() => client.lastSeq === 2, "seq 2");
        hub.connection.drop();
        assert.equal(client.attached, false);
        assert.equal(client.state, "Reconnecting");
        hub.write("inner");      // written while the client is away
        hub.write("inner");
        hub.connection.reconnect();
        await until(() => client.lastSeq === 4, "the raws written while away");
        hub.write("finished");
        const { seqs, error } = await reading;
        assert.equal(error, undefined);
        assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
        assert.deepEqual(hub.connection.invocations.filter((i) => i[0] === "Resume"), [["Resume", "i1", 0], ["Resume", "i1", 2]]);
        // The connect envelope of the new connection and the Resume race (the hub answers Resume only after it): both once.
        assert.deepEqual(log.slice(0, 2), ["reconnecting", "reconnected"]);
        assert.deepEqual(log.slice(2).sort(), ["connect", "resumed 2"]);
        assert.equal(client.attached, true);
        await client.stop();
    });

    it("ends with the refusal when a reconnect is refused", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "i1" });
        hub.write("running");
        await until(() => client.lastSeq === 1, "seq 1");
        hub.connection.drop();
        hub.greet = () => refusal("user is not available!");
        hub.connection.reconnect();
        const { seqs, error } = await readAll(client);
        assert.deepEqual(seqs, [1]);
        assert.ok(error instanceof RecorderConnectionRefusedError, String(error));
        assert.equal(error.reason, "user is not available!");
        await until(() => hub.connection.state === "Disconnected", "the client stopping");
    });

    it("ends with RecorderConnectionLostError after the raws it has when the connection is gone for good", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "i1" });
        let closed = "no";
        client.on("close", (e) => { closed = e?.message; });
        hub.write("running");
        hub.write("start");
        await until(() => client.lastSeq === 2, "seq 2");
        hub.connection.drop();
        hub.connection.close();
        const { seqs, error } = await readAll(client);
        assert.deepEqual(seqs, [1, 2]);
        assert.ok(error instanceof RecorderConnectionLostError, String(error));
        assert.match(error.message, /Server timeout elapsed/);
        assert.equal(closed, "Server timeout elapsed (fake)");
    });

    it("ends with RecorderInteractionClosedError after last_seq of a closed interaction", async () => {
        const hub = new FakeHub();
        hub.raws.push(raw(1, "running"), raw(2, "start"), raw(3, "inner"));
        hub.greet = (c) => connectEnvelope(c.clientId, { status: "closed", last_seq: 3 });
        const client = new RecorderClient({ ...base, connectionFactory: hub.factory, clientId: "i1" });
        let closedAt = 0;
        client.on("interactionClosed", (seq) => { closedAt = seq; });
        await client.start();
        await assert.rejects(client.start(), /called already/);
        const { seqs, error } = await readAll(client);
        assert.deepEqual(seqs, [1, 2, 3]);
        assert.ok(error instanceof RecorderInteractionClosedError, String(error));
        assert.equal(error.interactionId, "i1");
        assert.equal(closedAt, 3);
        await client.stop();
    });

    it("counts pongs", async () => {
        const hub = new FakeHub();
        const client = await connect(hub);
        let events = 0;
        client.on("pong", () => events++);
        await client.ping();
        await until(() => client.pongs === 1, "a pong");
        assert.equal(events, 1);
        await client.stop();
    });
});

describe("playback", () => {
    function control(interactionId, status, speed, paused, version) {
        return {
            status, success: true, message: paused ? "paused" : `playing at speed ${speed}`,
            data: { speed, paused, control_version: version },
            current: null, node_id: null, workspace_file_list: null, interaction_id: interactionId, seq: 0,
        };
    }

    it("puts speed in the query only when given", async () => {
        const hub = new FakeHub();
        const plain = await connect(hub);
        assert.equal(new URL(hub.connection.settings.url).searchParams.has("speed"), false);
        await plain.stop();
        const fast = await connect(hub, { speed: 2.5 });
        assert.equal(new URL(hub.connection.settings.url).searchParams.get("speed"), "2.5");
        await fast.stop();
    });

    it("invokes Pause, Play, SetSpeed and SkipToEnd, and refuses a speed that is not finite without invoking", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "p1" });
        await client.pause();
        await client.play();
        await client.setSpeed(0.5);
        await client.skipToEnd();
        await assert.rejects(client.setSpeed(Number.NaN), (e) => e instanceof RangeError && e.message === "speed must be a finite number.");
        await assert.rejects(client.setSpeed(Infinity), RangeError);
        assert.deepEqual(hub.connection.invocations.slice(1), [["Pause"], ["Play"], ["SetSpeed", 0.5], ["SkipToEnd"]]);
        await client.stop();
    });

    it("hands control envelopes to the playback event and keeps them out of the raws", async () => {
        const hub = new FakeHub();
        const client = await connect(hub, { clientId: "p2" });
        const seen = [];
        client.on("playback", (e) => seen.push([e.status, e.data.speed, e.data.paused]));
        hub.write("running");
        hub.connection.deliver(control("p2", "paused", 1, true, 1));
        hub.connection.deliver(control("other", "playing", 3, false, 9)); // another interaction's: ignored
        hub.connection.deliver(control("p2", "playing", 2, false, 2));
        hub.write("finished");
        const { seqs, error } = await readAll(client);
        assert.deepEqual(seqs, [1, 2]);
        assert.equal(error, undefined);
        assert.deepEqual(seen, [["paused", 1, true], ["playing", 2, false]]);
        assert.equal(client.playback.data.control_version, 2);
        await client.stop();
    });
});
