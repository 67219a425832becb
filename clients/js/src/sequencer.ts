import { isTerminal, type RecorderEnvelope } from "./protocol.js";

/** What {@link MessageSequencer.accept} did with a raw. */
export type AcceptResult = "delivered" | "duplicate" | "ahead";

/**
 * The client's guard on the stream of one interaction (Recorder.Client's MessageSequencer). The server sends each raw
 * once and in seq order on each connection; the guard drops a seq the client already has (a Resume asked for less than
 * it had) and reports a seq that does not follow the last one (which a correct server never sends), so that the client
 * can ask again. It is not a reorder buffer. The stream ends after the terminal raw.
 *
 * The delivered raws wait in a queue for one reader ({@link next}).
 */
export class MessageSequencer {
    private readonly queue: RecorderEnvelope[] = [];
    private readonly waiters: Array<{ resolve: (r: IteratorResult<RecorderEnvelope>) => void; reject: (e: unknown) => void }> = [];
    private last = 0;
    private completed = false;
    private error: unknown = undefined;
    private endAt: { seq: number; error: Error } | undefined;

    /** @param afterSeq the seq the reader already has (every lower one too): the stream starts after it. */
    constructor(afterSeq = 0) {
        this.last = afterSeq;
    }

    /** The highest seq delivered so far (every lower one was delivered too). */
    get lastSeq(): number {
        return this.last;
    }

    /** True once the stream has ended (terminal raw, closed interaction, or a failure). */
    get isCompleted(): boolean {
        return this.completed;
    }

    /** The error the stream ended with (`undefined` while it runs, and after the terminal raw). */
    get failure(): Error | undefined {
        return this.error as Error | undefined;
    }

    /** Accepts one raw envelope (seq > 0). */
    accept(envelope: RecorderEnvelope): AcceptResult {
        if (this.completed || envelope.seq <= this.last) {
            return "duplicate";
        }
        if (envelope.seq !== this.last + 1) {
            return "ahead";
        }
        this.last = envelope.seq;
        this.push(envelope);
        if (isTerminal(envelope)) {
            this.complete(undefined);
        }
        this.endIfReached();
        return "delivered";
    }

    /** Ends the stream with `error` once every seq up to `seq` has been delivered. */
    endAfter(seq: number, error: Error): void {
        this.endAt = { seq, error };
        this.endIfReached();
    }

    /** Ends the stream with an error (the connection is gone for good); raws already queued are still read first. */
    fail(error: Error): void {
        this.complete(error);
    }

    /** The next raw; `done` after the terminal raw; rejects after {@link fail} once the queue is empty. */
    next(): Promise<IteratorResult<RecorderEnvelope>> {
        const envelope = this.queue.shift();
        if (envelope !== undefined) {
            return Promise.resolve({ value: envelope, done: false });
        }
        if (this.completed) {
            return this.error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.error);
        }
        return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    }

    private push(envelope: RecorderEnvelope): void {
        const waiter = this.waiters.shift();
        if (waiter) {
            waiter.resolve({ value: envelope, done: false });
        } else {
            this.queue.push(envelope);
        }
    }

    private complete(error: unknown): void {
        if (this.completed) {
            return;
        }
        this.completed = true;
        this.error = error;
        for (const waiter of this.waiters.splice(0)) {
            if (error === undefined) {
                waiter.resolve({ value: undefined, done: true });
            } else {
                waiter.reject(error);
            }
        }
    }

    private endIfReached(): void {
        if (!this.completed && this.endAt !== undefined && this.last >= this.endAt.seq) {
            this.complete(this.endAt.error);
        }
    }
}
