/** A small typed event emitter that behaves the same in browsers and Node. */
export class Emitter<TEvents extends { [K in keyof TEvents]: (...args: never[]) => void }> {
    private readonly handlers = new Map<keyof TEvents, Set<TEvents[keyof TEvents]>>();

    /** Calls `handler` for every `event`; returns a function that removes it. */
    on<K extends keyof TEvents>(event: K, handler: TEvents[K]): () => void {
        let set = this.handlers.get(event);
        if (!set) {
            set = new Set();
            this.handlers.set(event, set);
        }
        set.add(handler);
        return () => this.off(event, handler);
    }

    /** Removes a handler added with {@link on}. */
    off<K extends keyof TEvents>(event: K, handler: TEvents[K]): void {
        this.handlers.get(event)?.delete(handler);
    }

    /** Calls every handler of `event`; a handler that throws does not stop the others (the error is reported asynchronously). */
    protected emit<K extends keyof TEvents>(event: K, ...args: Parameters<TEvents[K]>): void {
        const set = this.handlers.get(event);
        if (!set) {
            return;
        }
        for (const handler of [...set]) {
            try {
                (handler as (...a: Parameters<TEvents[K]>) => void)(...args);
            } catch (error) {
                setTimeout(() => {
                    throw error;
                });
            }
        }
    }
}
