/**
 * The reconnect delays of Recorder.Client: at once, then after 250 ms, 500 ms, 1 s, then 2 s at most, each drawn at
 * random between half and all of it, until `windowMs` has passed (then `null`: give up). The cap is low so that a
 * client never sits idle for long after a restarted hub is back; the jitter spreads clients that lost the same hub.
 */
export function reconnectDelay(previousRetryCount: number, elapsedMs: number, windowMs: number, random: () => number = Math.random): number | null {
    if (elapsedMs >= windowMs) {
        return null;
    }
    if (previousRetryCount === 0) {
        return 0;
    }
    const delay = Math.min(2000, 250 * Math.pow(2, previousRetryCount - 1));
    return Math.round(delay * (0.5 + random() / 2));
}
