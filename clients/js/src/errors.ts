// The ways a RecorderClient's stream ends other than with its terminal raw (Recorder.Client's exceptions).

/** The server refused the connection; `reason` is its text, e.g. `user is not available!`. */
export class RecorderConnectionRefusedError extends Error {
    override readonly name = "RecorderConnectionRefusedError";

    constructor(readonly reason: string) {
        super(reason);
    }
}

/** The connection to the hub is gone for good (reconnecting gave up, or the client was stopped). */
export class RecorderConnectionLostError extends Error {
    override readonly name = "RecorderConnectionLostError";

    constructor(cause?: Error) {
        super("The connection to the Recorder hub was lost" + (cause ? ": " + cause.message : "."));
        this.cause = cause;
    }
}

/** The interaction was closed by the server (no client for longer than its grace period); it will write nothing more. */
export class RecorderInteractionClosedError extends Error {
    override readonly name = "RecorderInteractionClosedError";

    constructor(readonly interactionId: string) {
        super(`Interaction ${interactionId} was closed by the server: no client was attached for longer than its grace period.`);
    }
}
