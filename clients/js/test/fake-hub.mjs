// A fake of the hub side of one interaction, behind a fake of @microsoft/signalr's HubConnection: what the server
// sends (connect envelope, raws after a Resume, live raws) follows docs/protocol.md; a test injects faults.

export function raw(seq, status = "inner", interactionId = "i1") {
    return {
        status, success: true, message: "success", data: { seq }, current: "1.1", node_id: `n${seq}`,
        workspace_file_list: [], interaction_id: interactionId, seq,
    };
}

export function connectEnvelope(interactionId, data = {}) {
    return {
        status: "connect", success: true, message: "connect success",
        data: { interaction_id: interactionId, status: "waiting", last_seq: 0, ...data },
        current: null, node_id: null, workspace_file_list: null, interaction_id: interactionId, seq: 0,
    };
}

export function refusal(message) {
    return {
        status: "failed", success: false, message, data: null, current: null, node_id: null,
        workspace_file_list: null, interaction_id: null, seq: 0,
    };
}

/** The server of one interaction: raws written so far, and what it sends to a connection. */
export class FakeHub {
    constructor() {
        this.raws = [];            // every raw written, seq 1..n
        this.connections = [];     // every FakeConnection built
        this.greet = (c) => connectEnvelope(c.clientId, { last_seq: this.raws.length }); // or a refusal
        this.failStarts = 0;       // start() rejects this many times
        this.silentStarts = 0;     // start() succeeds but no connect envelope is sent, this many times
        this.greetDuringHandshake = false; // the first message comes before start() resolves
    }

    /** The connection factory to hand to RecorderClient. */
    factory = (settings) => {
        const c = new FakeConnection(this, settings);
        this.connections.push(c);
        return c;
    };

    get connection() {
        return this.connections.at(-1);
    }

    /** Writes the next raw and sends it to the connection when it follows the interaction. */
    write(status = "inner") {
        const envelope = raw(this.raws.length + 1, status, this.connection?.clientId ?? "i1");
        this.raws.push(envelope);
        const c = this.connection;
        if (c && c.state === "Connected" && c.cursor !== null) {
            c.cursor = envelope.seq;
            c.deliver(envelope);
        }
        return envelope;
    }
}

export class FakeConnection {
    constructor(hub, settings) {
        this.hub = hub;
        this.settings = settings;
        this.url = new URL(settings.url);
        this.clientId = this.url.searchParams.get("client_id");
        this.state = "Disconnected";
        this.handlers = new Map();
        this.reconnecting = [];
        this.reconnected = [];
        this.closed = [];
        this.invocations = [];
        this.starts = 0;
        this.stops = 0;
        this.cursor = null; // null: not following (before Resume after a reconnect)
    }

    on(name, handler) {
        this.handlers.set(name, handler);
    }

    onreconnecting(cb) { this.reconnecting.push(cb); }
    onreconnected(cb) { this.reconnected.push(cb); }
    onclose(cb) { this.closed.push(cb); }

    deliver(envelope) {
        this.handlers.get("Message")?.(structuredClone(envelope));
    }

    async start() {
        this.starts++;
        if (this.hub.failStarts > 0) {
            this.hub.failStarts--;
            throw new Error("WebSocket failed to connect (fake)");
        }
        if (this.hub.greetDuringHandshake) {
            // The server's first message can arrive before SignalR's start() resolves; a stop() then makes it reject.
            this.state = "Connecting";
            this.deliver(this.hub.greet(this));
            if (this.state === "Disconnected") {
                throw new Error("The connection was stopped before the hub handshake could complete.");
            }
            this.state = "Connected";
            return;
        }
        this.state = "Connected";
        this.attach();
    }

    attach() {
        if (this.hub.silentStarts > 0) {
            this.hub.silentStarts--;
            return;
        }
        const greeting = this.hub.greet(this);
        // The fake follows only after a Resume (as the real hub does for a re-attach; the client always sends one).
        this.cursor = null;
        setTimeout(() => this.deliver(greeting), 0);
    }

    async stop() {
        this.stops++;
        if (this.state === "Disconnected") {
            return;
        }
        this.state = "Disconnected";
        this.cursor = null;
        for (const cb of this.closed) cb(undefined);
    }

    async invoke(method, ...args) {
        this.invocations.push([method, ...args]);
        if (this.state !== "Connected") {
            throw new Error(`Cannot send data if the connection is not in the 'Connected' State.`);
        }
        if (method === "Resume") {
            const [id, afterSeq] = args;
            if (id !== this.clientId) throw new Error(`interaction '${id}' does not exist or is not yours.`);
            this.cursor = afterSeq;
            // Like the server: the catch-up goes out after the invocation completes.
            setTimeout(() => this.catchUp(), 0);
            return null;
        }
        if (method === "Ping") {
            setTimeout(() => this.handlers.get("Pong")?.(), 0);
        }
        return null;
    }

    catchUp() {
        while (this.state === "Connected" && this.cursor !== null && this.cursor < this.hub.raws.length) {
            this.cursor++;
            this.deliver(this.hub.raws[this.cursor - 1]);
        }
    }

    /** The transport drops: SignalR reports reconnecting. */
    drop(error = new Error("WebSocket closed with status code: 1006 (fake)")) {
        this.state = "Reconnecting";
        this.cursor = null;
        for (const cb of this.reconnecting) cb(error);
    }

    /** SignalR reconnected: the server greets the new connection, and the client's onreconnected runs. */
    reconnect() {
        this.state = "Connected";
        this.attach();
        for (const cb of this.reconnected) cb("new-connection-id");
    }

    /** Reconnecting gave up (or the server closed for good). */
    close(error = new Error("Server timeout elapsed (fake)")) {
        this.state = "Disconnected";
        this.cursor = null;
        for (const cb of this.closed) cb(error);
    }
}

/** Resolves once `predicate()` is true, polling; rejects after `ms`. */
export async function until(predicate, what, ms = 2000) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 2));
    }
}

/** Reads the client's stream to its end: the seqs read, and the error it ended with (if any). */
export async function readAll(client, ms = 2000) {
    const seqs = [];
    const statuses = [];
    let error;
    const reading = (async () => {
        try {
            for await (const m of client.messages()) {
                seqs.push(m.seq);
                statuses.push(m.status);
            }
        } catch (e) {
            error = e;
        }
    })();
    let timer;
    const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("the stream did not end")), ms); });
    try {
        await Promise.race([reading, timeout]);
    } finally {
        clearTimeout(timer);
    }
    return { seqs, statuses, error };
}
