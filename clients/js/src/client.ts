import { HttpTransportType, HubConnectionBuilder, LogLevel, type IHttpConnectionOptions, type IRetryPolicy } from "@microsoft/signalr";
import { RecorderConnectionLostError, RecorderConnectionRefusedError, RecorderInteractionClosedError } from "./errors.js";
import { Emitter } from "./events.js";
import { RecorderProtocol, RecorderStatus, type PlaybackData, type RecorderEnvelope, type RecorderInteraction } from "./protocol.js";
import { reconnectDelay } from "./reconnect.js";
import { MessageSequencer } from "./sequencer.js";

/** The states of the underlying SignalR connection (`@microsoft/signalr`'s HubConnectionState). */
export type ConnectionState = "Disconnected" | "Connecting" | "Connected" | "Disconnecting" | "Reconnecting";

/** The part of `@microsoft/signalr`'s HubConnection the client uses; a test can hand in a fake one. */
export interface HubConnectionLike {
    readonly state: string;
    start(): Promise<void>;
    stop(): Promise<void>;
    invoke(methodName: string, ...args: unknown[]): Promise<unknown>;
    on(methodName: string, handler: (...args: never[]) => void): void;
    onreconnecting(callback: (error?: Error) => void): void;
    onreconnected(callback: (connectionId?: string) => void): void;
    onclose(callback: (error?: Error) => void): void;
}

/** What {@link RecorderClientOptions.connectionFactory} gets. */
export interface ConnectionSettings {
    /** The hub URL with the connect query (`user_id`, `token`, `recorder_dir`, `client_id`). */
    url: string;
    skipNegotiation: boolean;
    reconnectPolicy: IRetryPolicy;
    logLevel: LogLevel;
}

/** How to reach the hub and which recording to replay (Recorder.Client's RecorderClientOptions). */
export interface RecorderClientOptions {
    /** The hub's URL, e.g. `http://127.0.0.1:5080/hubs/recorder`; in a browser it may be relative to the page. */
    hubUrl: string | URL;
    userId: string;
    token: string;
    /** The recording to replay (a folder under the recordings root, an imported record id, or a past interaction id). */
    recorderDir: string;
    /**
     * The interaction's id. A new id creates an interaction; the id of one of your interactions re-attaches to it.
     * Generated (32 hex characters) when absent; kept for every reconnect.
     */
    clientId?: string;
    /**
     * The replay speed of a new interaction (0 = no delays, 1 = the original pace, 2 = twice as fast); absent: the
     * server's. Outside the server's bounds the connect is refused. Re-attaching keeps the interaction's own speed.
     */
    speed?: number;
    /** The seq the caller already has of this interaction (re-attaching): the stream starts after it. Default 0. */
    afterSeq?: number;
    /**
     * Open a WebSocket straight away, without SignalR's negotiate request (default true): one HTTP request per connect
     * instead of two. Set it to false to let SignalR negotiate a transport (e.g. behind a proxy without WebSockets).
     */
    skipNegotiation?: boolean;
    /** Attempts of the first connect before giving up (transient failures only; a refusal is final). Default 5. */
    connectAttempts?: number;
    /** How long the first connect, including the server's connect message, may take per attempt. Default 15 s. */
    connectTimeoutMs?: number;
    /** How long the client keeps trying to reconnect after losing the connection. Default 2 minutes. */
    reconnectWindowMs?: number;
    /** `@microsoft/signalr`'s log level. Default Warning. */
    logLevel?: LogLevel;
    /** Builds the connection (default: `@microsoft/signalr`'s HubConnectionBuilder); for tests and special transports. */
    connectionFactory?: (settings: ConnectionSettings) => HubConnectionLike;
}

/** The events of a {@link RecorderClient}; subscribe with `client.on(name, handler)`. */
export interface RecorderClientEvents {
    /** Every raw of the interaction once, in seq order (the same ones {@link RecorderClient.messages} yields). */
    message: (envelope: RecorderEnvelope) => void;
    /** The connect envelope of each (re)connection; `data` is the interaction. */
    connect: (envelope: RecorderEnvelope<RecorderInteraction>) => void;
    /** The server refused a connection (first connect or a reconnect); the client stops. */
    refused: (reason: string) => void;
    /** A Resume was acknowledged: the server now sends the raws after `afterSeq`. */
    resumed: (afterSeq: number) => void;
    /** The server's keep-alive (every 20 s, and in answer to {@link RecorderClient.ping}). */
    pong: () => void;
    /** The connection was lost; the client is reconnecting. */
    reconnecting: (error?: Error) => void;
    /** The connection is back (the client resumes by itself). */
    reconnected: () => void;
    /** A control envelope: the interaction's playback changed (from this or any other connection of it). */
    playback: (envelope: RecorderEnvelope<PlaybackData>) => void;
    /** The interaction was closed by the server (the closed notice): it writes nothing after `lastSeq`. */
    interactionClosed: (lastSeq: number) => void;
    /** The connection's state changed. */
    state: (state: ConnectionState) => void;
    /** The stream ended: `undefined` after the terminal raw, or the error it ended with. */
    end: (error?: Error) => void;
    /** The connection is gone for good (stopped, refused, or reconnecting gave up). */
    close: (error?: Error) => void;
}

interface Deferred<T> {
    promise: Promise<T>;
    resolve: (value: T) => void;
    reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
    const d = {} as Deferred<T>;
    d.promise = new Promise<T>((resolve, reject) => {
        d.resolve = resolve;
        d.reject = reject;
    });
    d.promise.catch(() => {
        /* observed by whoever awaits it */
    });
    return d;
}

/** 32 random lowercase hex characters (the hub's own format for a generated client_id). */
export function newClientId(): string {
    const bytes = new Uint8Array(16);
    globalThis.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The hub URL with the connect query: browsers cannot set headers on a WebSocket, so the values go in the query. */
export function connectUrl(options: Pick<RecorderClientOptions, "hubUrl" | "userId" | "token" | "recorderDir" | "speed">, clientId: string): string {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    const url = new URL(options.hubUrl.toString(), base);
    url.searchParams.set(RecorderProtocol.userIdKey, options.userId);
    url.searchParams.set(RecorderProtocol.tokenKey, options.token);
    url.searchParams.set(RecorderProtocol.recorderDirKey, options.recorderDir);
    url.searchParams.set(RecorderProtocol.clientIdKey, clientId);
    if (options.speed !== undefined) {
        url.searchParams.set(RecorderProtocol.speedKey, String(options.speed));
    }
    return url.toString();
}

function defaultConnection(settings: ConnectionSettings): HubConnectionLike {
    const http: IHttpConnectionOptions = settings.skipNegotiation
        ? { skipNegotiation: true, transport: HttpTransportType.WebSockets }
        : {};
    return new HubConnectionBuilder()
        .withUrl(settings.url, http)
        .withAutomaticReconnect(settings.reconnectPolicy)
        .configureLogging(settings.logLevel)
        .build();
}

function delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

class TimeoutError extends Error {
    override readonly name = "TimeoutError";
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new TimeoutError(`${what} did not arrive within ${ms} ms`)), ms);
        promise.then(
            (value) => {
                clearTimeout(timer);
                resolve(value);
            },
            (error: unknown) => {
                clearTimeout(timer);
                reject(error);
            },
        );
    });
}

function asError(error: unknown): Error {
    return error instanceof Error ? error : new Error(String(error));
}

/**
 * The typed client of the Recorder hub (the JavaScript twin of Recorder.Client's RecorderClient).
 * {@link messages} (and the `message` event) yields every raw of the interaction exactly once, in seq order, across
 * reconnects: the client reconnects on its own, then resumes from the last seq it has (the server sends each raw once
 * and in order from there; the client only drops a seq it already has). The stream completes after the `finished` or
 * `failed` raw, or fails with {@link RecorderInteractionClosedError}, {@link RecorderConnectionRefusedError} or
 * {@link RecorderConnectionLostError}.
 */
export class RecorderClient extends Emitter<RecorderClientEvents> {
    /** The interaction this client replays (the `client_id`), kept for every reconnect. */
    readonly interactionId: string;

    private readonly options: RecorderClientOptions;
    private readonly connection: HubConnectionLike;
    private readonly sequencer: MessageSequencer;
    private greeting: Deferred<RecorderEnvelope<RecorderInteraction>> = deferred();
    private starting = false;
    private isAttached = false;
    private pongCount = 0;
    private connectEnvelope: RecorderEnvelope<RecorderInteraction> | undefined;
    private stopped = false;
    private started = false;
    private refusal: RecorderConnectionRefusedError | undefined;
    private lastPlayback: RecorderEnvelope<PlaybackData> | undefined;

    /** A client that is not connected yet: subscribe to its events, then call {@link start} (or use {@link connect}). */
    constructor(options: RecorderClientOptions) {
        super();
        this.options = options;
        this.interactionId = options.clientId || newClientId();
        this.sequencer = new MessageSequencer(options.afterSeq ?? 0);
        const windowMs = options.reconnectWindowMs ?? 120_000;
        this.connection = (options.connectionFactory ?? defaultConnection)({
            url: connectUrl(options, this.interactionId),
            skipNegotiation: options.skipNegotiation ?? true,
            reconnectPolicy: { nextRetryDelayInMilliseconds: (ctx) => reconnectDelay(ctx.previousRetryCount, ctx.elapsedMilliseconds, windowMs) },
            logLevel: options.logLevel ?? LogLevel.Warning,
        });

        this.connection.on(RecorderProtocol.callbacks.message, (envelope: RecorderEnvelope) => this.onMessage(envelope));
        this.connection.on(RecorderProtocol.callbacks.pong, () => {
            this.pongCount++;
            this.emit("pong");
        });
        this.connection.onreconnecting((error) => {
            this.isAttached = false;
            this.greeting = deferred();
            this.emit("reconnecting", error);
            this.emit("state", this.state);
        });
        this.connection.onreconnected(() => {
            this.emit("reconnected");
            this.emit("state", this.state);
            void this.resumeAfterReconnect();
        });
        this.connection.onclose((error) => {
            this.isAttached = false;
            const lost = new RecorderConnectionLostError(error);
            this.greeting.reject(lost);
            this.emit("state", this.state);
            if (this.starting) {
                return; // the first connect retries or throws
            }
            this.end(lost);
            this.emit("close", error);
        });
    }

    /** `new RecorderClient(options)`, then {@link start}. */
    static async connect(options: RecorderClientOptions): Promise<RecorderClient> {
        const client = new RecorderClient(options);
        await client.start();
        return client;
    }

    /** The server's connect message of the current (or last) connection; `data` is the interaction. */
    get connected(): RecorderEnvelope<RecorderInteraction> | undefined {
        return this.connectEnvelope;
    }

    /** True while the current connection has its connect message (hub methods can be invoked). */
    get attached(): boolean {
        return this.isAttached && this.connection.state === "Connected";
    }

    /** The highest seq handed out (every lower one too). */
    get lastSeq(): number {
        return this.sequencer.lastSeq;
    }

    /** True once the stream has ended. */
    get ended(): boolean {
        return this.sequencer.isCompleted;
    }

    /** The number of Pong messages received. */
    get pongs(): number {
        return this.pongCount;
    }

    /** The state of the underlying SignalR connection. */
    get state(): ConnectionState {
        return this.connection.state as ConnectionState;
    }

    /** Starts the interaction's run; calling it again is harmless. */
    async startRecorder(): Promise<void> {
        await this.connection.invoke(RecorderProtocol.methods.startRecorder);
    }

    /** The latest control envelope received (status `paused` or `playing`); undefined before the first change. */
    get playback(): RecorderEnvelope<PlaybackData> | undefined {
        return this.lastPlayback;
    }

    /** Pauses the run: no raw is written until {@link play}. Rejects (with the hub's text) when the run is over. */
    async pause(): Promise<void> {
        await this.connection.invoke(RecorderProtocol.methods.pause);
    }

    /** Plays a paused run again. */
    async play(): Promise<void> {
        await this.connection.invoke(RecorderProtocol.methods.play);
    }

    /** Sets the run's speed (within the server's bounds, else it rejects); the pause being waited is rescaled from now. */
    async setSpeed(speed: number): Promise<void> {
        if (!Number.isFinite(speed)) {
            throw new RangeError("speed must be a finite number.");
        }
        await this.connection.invoke(RecorderProtocol.methods.setSpeed, speed);
    }

    /** Writes the rest of the run without delays (and plays it if it was paused). */
    async skipToEnd(): Promise<void> {
        await this.connection.invoke(RecorderProtocol.methods.skipToEnd);
    }

    /** Asks the server for a Pong. */
    async ping(): Promise<void> {
        await this.connection.invoke(RecorderProtocol.methods.ping);
    }

    /**
     * Moves the server's cursor of this connection: from now on it sends every raw after `afterSeq`, then the live ones
     * (the client does this itself after every connect, with {@link lastSeq}).
     */
    async resume(afterSeq: number = this.lastSeq): Promise<void> {
        await this.connection.invoke(RecorderProtocol.methods.resume, this.interactionId, afterSeq);
        this.emit("resumed", afterSeq);
    }

    /**
     * Every raw of the interaction once, in seq order, from the first one after {@link RecorderClientOptions.afterSeq};
     * completes after the `finished` or `failed` raw. The raws wait in a queue from the moment the client connects, so
     * nothing is missed by starting to read late; use one reader at a time.
     */
    messages(): AsyncIterableIterator<RecorderEnvelope> {
        const sequencer = this.sequencer;
        let done = false;
        const iterator: AsyncIterableIterator<RecorderEnvelope> = {
            next: () => (done ? Promise.resolve({ value: undefined, done: true }) : sequencer.next()),
            return: (value?: unknown) => {
                done = true;
                return Promise.resolve({ value: value as RecorderEnvelope, done: true });
            },
            [Symbol.asyncIterator]: () => iterator,
        };
        return iterator;
    }

    /** The same as {@link messages}: `for await (const m of client)`. */
    [Symbol.asyncIterator](): AsyncIterableIterator<RecorderEnvelope> {
        return this.messages();
    }

    /** Closes the connection (the server closes the interaction after its grace period unless another client attaches). */
    async stop(): Promise<void> {
        this.stopped = true;
        await this.connection.stop();
    }

    /**
     * Connects (retrying transient failures), waits for the server's connect message and asks for every raw after
     * {@link RecorderClientOptions.afterSeq}. Rejects with {@link RecorderConnectionRefusedError} when the server
     * refuses. Once per client: a stopped client is not started again (make a new one with the same clientId).
     */
    async start(): Promise<void> {
        if (this.started) {
            throw new Error("RecorderClient.start() was called already: make a new client (with the same clientId) to connect again.");
        }
        this.started = true;
        const attempts = Math.max(1, this.options.connectAttempts ?? 5);
        const timeoutMs = this.options.connectTimeoutMs ?? 15_000;
        this.starting = true;
        try {
            for (let attempt = 1; ; attempt++) {
                this.greeting = deferred();
                try {
                    this.emit("state", "Connecting");
                    await this.connection.start();
                    this.emit("state", this.state);
                    this.connectEnvelope = await withTimeout(this.greeting.promise, timeoutMs, "the connect message");
                    break;
                } catch (caught) {
                    // A refusal wins over whatever else the attempt ended with.
                    const error = this.refusal ?? caught;
                    if (this.connection.state !== "Disconnected") {
                        await this.connection.stop();
                    }
                    const final = error instanceof RecorderConnectionRefusedError || this.stopped || attempt >= attempts;
                    if (final) {
                        this.end(asError(error));
                        this.emit("state", this.state);
                        throw error;
                    }
                    await delay(Math.min(5000, 200 * Math.pow(2, attempt - 1)) * (0.5 + Math.random() / 2));
                }
            }
        } finally {
            this.starting = false;
        }
        if (this.connection.state !== "Connected") {
            // Lost between the connect message and here: fail as the closed handler would have.
            const lost = new RecorderConnectionLostError();
            this.end(lost);
            throw lost;
        }
        await this.resume(this.lastSeq);
    }

    /** After a reconnect (or a seq that skipped ahead), asks for everything after the last seq it has. */
    private async resumeAfterReconnect(): Promise<void> {
        try {
            await this.resume(this.lastSeq);
        } catch {
            // Lost again: the next reconnect resumes. Refused: onMessage ends the stream.
        }
    }

    private onMessage(envelope: RecorderEnvelope): void {
        if (!envelope) {
            return;
        }
        if (envelope.seq > 0) {
            if (envelope.interaction_id !== this.interactionId) {
                return;
            }
            const result = this.sequencer.accept(envelope);
            if (result === "delivered") {
                this.emit("message", envelope);
                if (this.sequencer.isCompleted) {
                    this.emit("end", this.sequencer.failure);
                }
            } else if (result === "ahead") {
                void this.resumeAfterReconnect();
            }
            return;
        }

        if ((envelope.status === RecorderStatus.Paused || envelope.status === RecorderStatus.Playing) && envelope.success) {
            if (envelope.interaction_id === this.interactionId) {
                this.lastPlayback = envelope as RecorderEnvelope<PlaybackData>;
                this.emit("playback", this.lastPlayback);
            }
            return;
        }

        if (envelope.success) {
            this.onGreeting(envelope as RecorderEnvelope<RecorderInteraction>);
            return;
        }

        const refused = new RecorderConnectionRefusedError(envelope.message || "refused");
        this.refusal = refused;
        this.emit("refused", refused.reason);
        this.greeting.reject(refused);
        if (this.starting) {
            // start() stops the connection and throws the refusal (it may come before SignalR's start() resolves).
            return;
        }
        // Refused on a reconnect: final.
        this.end(refused);
        this.stopped = true;
        void this.connection.stop();
    }

    /**
     * A connect envelope (or the closed notice) tells how the stream stands: a closed interaction (left alone longer
     * than the server's grace) never writes its terminal raw, so the stream ends with
     * {@link RecorderInteractionClosedError} after its last raw (the data's `last_seq`).
     */
    private onGreeting(envelope: RecorderEnvelope<RecorderInteraction>): void {
        const data = envelope.data;
        if (data && typeof data === "object" && data.status === RecorderStatus.Closed && typeof data.last_seq === "number") {
            this.emit("interactionClosed", data.last_seq);
            const wasCompleted = this.sequencer.isCompleted;
            this.sequencer.endAfter(data.last_seq, new RecorderInteractionClosedError(this.interactionId));
            if (!wasCompleted && this.sequencer.isCompleted) {
                this.emit("end", this.sequencer.failure);
            }
        }
        if (envelope.status === RecorderStatus.Connect) {
            this.connectEnvelope = envelope;
            this.isAttached = true;
            this.emit("connect", envelope);
            this.emit("state", this.state);
        }
        this.greeting.resolve(envelope);
    }

    private end(error: Error): void {
        if (this.sequencer.isCompleted) {
            return;
        }
        this.sequencer.fail(error);
        this.emit("end", error);
    }
}
