import assert from "node:assert/strict";
import { it } from "node:test";
import { reconnectDelay } from "../dist/index.js";

it("reconnects at once, then after 250 ms, 500 ms, 1 s and 2 s at most, with jitter, until the window has passed", () => {
    const full = () => 0.999999;
    const half = () => 0;
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => reconnectDelay(n, 0, 120_000, full)), [0, 250, 500, 1000, 2000, 2000]);
    assert.deepEqual([1, 2, 3, 4].map((n) => reconnectDelay(n, 0, 120_000, half)), [125, 250, 500, 1000]);
    assert.equal(reconnectDelay(1, 120_000, 120_000), null);
    assert.equal(reconnectDelay(0, 119_999, 120_000), 0);
});
