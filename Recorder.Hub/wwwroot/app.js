// Recorder demo page: connects to the hub with the JavaScript client of clients/js (@recorder/client, on top of
// @microsoft/signalr), bundled at build time into dist/recorder-client.js, starts a replay and shows every message of
// the run. The client reconnects and resumes by itself and hands out every raw once, in seq order: the page only
// renders. All data is rendered with textContent / DOM properties, never innerHTML. The wire contract is described in
// docs/protocol.md.
import { LogLevel, RecorderClient, RecorderConnectionRefusedError, newClientId } from "./dist/recorder-client.js";

(function () {
    "use strict";

    var $ = function (id) { return document.getElementById(id); };
    var ui = {
        form: $("connect-form"), hubUrl: $("hub-url"), userId: $("user-id"), token: $("token"),
        recorderDir: $("recorder-dir"), clientId: $("client-id"), newId: $("new-id"),
        connect: $("connect"), disconnect: $("disconnect"), start: $("start"), ping: $("ping"),
        state: $("conn-state"), pongs: $("pongs"), refusal: $("refusal"), refusalMessage: $("refusal-message"),
        interaction: $("interaction"), workspace: $("workspace"), events: $("events"),
        timeline: $("timeline"), empty: $("timeline-empty"), runState: $("run-state"),
        pause: $("pause"), play: $("play"), skipToEnd: $("skip-to-end"), playbackState: $("playback-state"),
        speeds: Array.prototype.slice.call(document.querySelectorAll("#playback button[data-speed]")),
    };

    var client = null;            // the current RecorderClient (one per Connect)
    var shownInteraction = null;  // the interaction whose raws the timeline shows
    var shownSeq = 0;             // the last seq on the timeline (every lower one is there too)

    // ------------------------------------------------------------------ connection

    async function connect() {
        if (!ui.clientId.value.trim()) {
            ui.clientId.value = newClientId();
        }
        var clientId = ui.clientId.value.trim();
        hideRefusal();
        if (clientId !== shownInteraction) {
            // Another interaction: a new timeline. The same one again (Connect after Disconnect): resume after the
            // last seq shown, so the timeline goes on without a repeat.
            shownInteraction = clientId;
            shownSeq = 0;
            clearTimeline();
        }

        var c = new RecorderClient({
            hubUrl: ui.hubUrl.value.trim(),
            userId: ui.userId.value.trim(),
            token: ui.token.value,
            recorderDir: ui.recorderDir.value.trim(),
            clientId: clientId,
            afterSeq: shownSeq,
            connectAttempts: 2,
            logLevel: LogLevel.Warning,
        });
        client = c;
        var mine = function (handler) {
            return function () {
                if (c === client) { handler.apply(null, arguments); }
            };
        };

        c.on("state", mine(function () { updateState(); }));
        c.on("connect", mine(onConnected));
        c.on("playback", mine(function (envelope) {
            // Every connection of the interaction gets these (another tab's changes too).
            showPlayback(envelope.data);
            logEvent(envelope.status + " (speed " + envelope.data.speed + ")");
        }));
        c.on("refused", mine(function (reason) {
            showRefusal(reason);
            logEvent("refused: " + reason, "error");
        }));
        c.on("resumed", mine(function (after) {
            logEvent("resumed " + c.interactionId.slice(0, 8) + "\u2026 after seq " + after);
        }));
        c.on("pong", mine(function () {
            ui.pongs.textContent = c.pongs + (c.pongs === 1 ? " pong" : " pongs") + ", last " + clock();
        }));
        c.on("reconnecting", mine(function (error) {
            logEvent("connection lost" + (error ? ": " + error.message : "") + "; reconnecting");
        }));
        c.on("reconnected", mine(function () { logEvent("reconnected"); }));
        c.on("interactionClosed", mine(function (lastSeq) {
            logEvent("this interaction was closed by the server after seq " + lastSeq + " (its owner left for longer than the grace period); clear client_id for a new run", "error");
        }));
        c.on("close", mine(function (error) {
            logEvent("disconnected" + (error ? ": " + error.message : ""));
        }));

        logEvent("connecting as " + ui.userId.value.trim() + " to " + ui.hubUrl.value.trim());
        updateState("Connecting");
        try {
            await c.start();
        } catch (error) {
            if (c === client && !(error instanceof RecorderConnectionRefusedError)) {
                logEvent("connect failed: " + error.message, "error");
            }
            if (c === client) { updateState(); }
            return;
        }

        // Every raw once, in seq order, across reconnects; the loop ends after finished / failed.
        try {
            for await (var envelope of c.messages()) {
                if (c !== client) { return; }
                shownSeq = envelope.seq;
                render(envelope);
            }
        } catch (error) {
            if (c === client && !(error instanceof RecorderConnectionRefusedError)) {
                logEvent("stream ended: " + error.message, "error");
            }
        }
    }

    function onConnected(envelope) {
        showInteraction(envelope.data, envelope.interaction_id);
        logEvent("connect: " + (envelope.message || "connected") + " (interaction " + envelope.interaction_id + ")");
        updateState();
    }

    // ------------------------------------------------------------------ controls

    ui.hubUrl.value = location.protocol.indexOf("http") === 0
        ? location.origin + "/hubs/recorder"
        : "http://127.0.0.1:5080/hubs/recorder";

    ui.form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!client || client.state === "Disconnected") {
            connect();
        }
    });

    ui.disconnect.addEventListener("click", function () {
        if (client) {
            client.stop();
        }
    });

    ui.newId.addEventListener("click", function () {
        ui.clientId.value = "";
        ui.clientId.focus();
    });

    ui.start.addEventListener("click", function () {
        invoke("StartRecorder", function () { return client.startRecorder(); }).then(function (ok) {
            if (ok) {
                logEvent("StartRecorder sent");
                if (shownSeq === 0) { ui.runState.textContent = "starting\u2026"; }
            }
        });
    });

    ui.ping.addEventListener("click", function () {
        invoke("Ping", function () { return client.ping(); }).then(function (ok) { if (ok) { logEvent("Ping sent"); } });
    });

    ui.pause.addEventListener("click", function () {
        invoke("Pause", function () { return client.pause(); });
    });

    ui.play.addEventListener("click", function () {
        invoke("Play", function () { return client.play(); });
    });

    ui.skipToEnd.addEventListener("click", function () {
        invoke("SkipToEnd", function () { return client.skipToEnd(); });
    });

    ui.speeds.forEach(function (button) {
        button.addEventListener("click", function () {
            var speed = Number(button.dataset.speed);
            invoke("SetSpeed", function () { return client.setSpeed(speed); });
        });
    });

    function showPlayback(data) {
        ui.playbackState.textContent = (data.paused ? "paused" : "playing") + " at " + (data.speed === 0 ? "max" : data.speed + "x");
        ui.playbackState.dataset.paused = String(data.paused);
        ui.playbackState.dataset.speed = String(data.speed);
    }

    async function invoke(method, call) {
        try {
            await call();
            return true;
        } catch (error) {
            logEvent(method + " failed: " + error.message, "error");
            return false;
        }
    }

    function updateState(forced) {
        var state = forced || (client ? client.state : "Disconnected");
        ui.state.textContent = state;
        ui.state.dataset.state = state;
        var disconnected = state === "Disconnected";
        var ready = state === "Connected" && client !== null && client.attached;
        ui.connect.disabled = !disconnected;
        ui.disconnect.disabled = disconnected;
        ui.start.disabled = !ready;
        ui.ping.disabled = !ready;
        [ui.pause, ui.play, ui.skipToEnd].concat(ui.speeds).forEach(function (button) { button.disabled = !ready; });
        [ui.hubUrl, ui.userId, ui.token, ui.recorderDir, ui.clientId, ui.newId].forEach(function (input) {
            input.disabled = !disconnected;
        });
    }

    // ------------------------------------------------------------------ DOM helpers (text only)

    // el("div", { className: "x", title: "y" }, child, "text", [more children]): children are nodes or text.
    function el(tag, props) {
        var node = document.createElement(tag);
        if (props) {
            Object.keys(props).forEach(function (key) {
                if (key === "dataset") {
                    Object.keys(props.dataset).forEach(function (d) { node.dataset[d] = props.dataset[d]; });
                } else {
                    node[key] = props[key];
                }
            });
        }
        for (var i = 2; i < arguments.length; i++) {
            append(node, arguments[i]);
        }
        return node;
    }

    function append(node, child) {
        if (child === null || child === undefined || child === false) {
            return;
        }
        if (Array.isArray(child)) {
            child.forEach(function (c) { append(node, c); });
        } else if (child instanceof Node) {
            node.appendChild(child);
        } else {
            node.appendChild(document.createTextNode(String(child)));
        }
    }

    function isBlank(value) {
        return value === null || value === undefined || value === "" ||
            (Array.isArray(value) && value.length === 0);
    }

    // Text of any JSON value: strings as they are, the rest as indented JSON (non-ASCII kept as is).
    function asText(value) {
        if (typeof value === "string") {
            return value;
        }
        return JSON.stringify(value, shortenBase64, 2);
    }

    function shortenBase64(key, value) {
        if (key === "file_data" && typeof value === "string" && value.length > 120) {
            return "<" + Math.round(value.length * 3 / 4) + " bytes, base64>";
        }
        return value;
    }

    function pre(value, className) {
        return el("pre", { className: className || "block" }, asText(value));
    }

    // A labelled field; multi-line or structured values get a block, short strings stay inline.
    function field(label, value) {
        if (isBlank(value)) {
            return null;
        }
        var body = typeof value === "string" && value.indexOf("\n") < 0 && value.length < 240
            ? el("div", { className: "value" }, value)
            : pre(value);
        return el("div", { className: "field" }, el("div", { className: "label" }, label), body);
    }

    function list(items, render) {
        if (!Array.isArray(items) || items.length === 0) {
            return null;
        }
        return el("ul", { className: "list" }, items.map(function (item) { return el("li", null, render ? render(item) : asText(item)); }));
    }

    function chip(text, kind) {
        return el("span", { className: "chip" + (kind ? " " + kind : "") }, text);
    }

    function clock(date) {
        return (date || new Date()).toTimeString().slice(0, 8);
    }

    function logEvent(text, kind) {
        ui.events.appendChild(el("li", { className: kind || "" }, el("time", null, clock()), " ", text));
        while (ui.events.childElementCount > 60) {
            ui.events.removeChild(ui.events.firstChild);
        }
        ui.events.scrollTop = ui.events.scrollHeight;
    }

    function showRefusal(reason) {
        ui.refusalMessage.textContent = reason;
        ui.refusal.hidden = false;
    }

    function hideRefusal() {
        ui.refusal.hidden = true;
        ui.refusalMessage.textContent = "";
    }

    function showInteraction(data, id) {
        data = data || {};
        var rows = [
            ["interaction_id", id],
            ["status at connect", data.status],
            ["created", data.create_time],
            ["agent / mode", [data.agent, data.mode].filter(Boolean).join(" / ")],
            ["description", data.description],
            ["recorder_root_dir", data.recorder_root_dir],
            ["call_method", data.call_method],
        ];
        ui.interaction.textContent = "";
        rows.forEach(function (row) {
            if (!isBlank(row[1])) {
                ui.interaction.appendChild(el("dt", null, row[0]));
                ui.interaction.appendChild(el("dd", null, String(row[1])));
            }
        });
        if (shownSeq === 0 && data.status && data.status !== "waiting") {
            ui.runState.textContent = "interaction is " + data.status;
        }
    }

    function showWorkspace(files) {
        if (!Array.isArray(files)) {
            return;
        }
        ui.workspace.textContent = "";
        if (files.length === 0) {
            ui.workspace.appendChild(el("li", { className: "muted" }, "none"));
        }
        files.forEach(function (f) {
            ui.workspace.appendChild(el("li", null, chip(f.suffix || "file", "suffix"), " ", f.name));
        });
    }

    function clearTimeline() {
        ui.timeline.textContent = "";
        ui.empty.hidden = false;
        ui.runState.textContent = "not started";
        showWorkspace([]);
    }

    // ------------------------------------------------------------------ rendering one raw

    var TITLES = {
        running: "Run started", start: "Task and plan", inner: "Step", subtask_submit: "Subtask submitted",
        refinement: "Subtask summary", subtask: "Next subtask", finished: "Run finished", failed: "Run failed",
    };

    function render(envelope) {
        var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
        var status = envelope.status;
        var head = el("header", { className: "entry-head" },
            el("span", { className: "seq" }, "#" + envelope.seq),
            chip(status, "status s-" + status),
            el("span", { className: "title" }, TITLES[status] || status),
            envelope.current ? el("span", { className: "current" }, "subtask " + envelope.current) : null,
            el("time", null, clock()));
        var body;
        try {
            body = renderBody(envelope);
        } catch (error) {
            body = pre(envelope.data);
        }
        var raw = el("details", { className: "raw" }, el("summary", null, "envelope JSON"), pre(envelope, "block small"));
        var item = el("li", { className: "entry s-" + status, dataset: { seq: String(envelope.seq), status: status } }, head, body, raw);
        ui.timeline.appendChild(item);
        ui.empty.hidden = true;

        showWorkspace(envelope.workspace_file_list);
        if (status === "finished") {
            ui.runState.textContent = "finished";
        } else if (status === "failed") {
            ui.runState.textContent = "failed";
        } else {
            ui.runState.textContent = "running, seq " + envelope.seq + (envelope.current ? ", subtask " + envelope.current : "");
        }
        if (atBottom) {
            item.scrollIntoView({ block: "end" });
        }
    }

    function renderBody(envelope) {
        var data = envelope.data;
        switch (envelope.status) {
            case "running":
                return el("p", { className: "note" }, "The replay is running.");
            case "start":
                return renderStart(data || {});
            case "inner":
            case "subtask_submit":
                return renderStep(data || {});
            case "refinement":
                return renderRefinement(data || {});
            case "subtask":
                return renderSubtask(envelope.current, data);
            case "finished":
                return el("p", { className: "note ok" }, "The run ended successfully.");
            case "failed":
                return el("p", { className: "note bad" }, envelope.message || asText(data) || "failed");
            default:
                return isBlank(data) ? null : pre(data);
        }
    }

    function goalText(goal) {
        // a plan item's goal is text, or {goal, criticism} in some XAgent versions
        return goal && typeof goal === "object" && "goal" in goal ? goal.goal : goal;
    }

    function renderPlan(subtasks) {
        if (!Array.isArray(subtasks) || subtasks.length === 0) {
            return null;
        }
        return el("ol", { className: "plan" }, subtasks.map(function (s) {
            s = s || {};
            var children = s.subtask || s.subtasks;
            return el("li", null,
                el("div", { className: "plan-title" }, el("span", { className: "task-id" }, s.task_id || ""), " ", s.name || ""),
                isBlank(goalText(s.goal)) ? null : el("div", { className: "plan-goal" }, asText(goalText(s.goal))),
                Array.isArray(s.milestones) && s.milestones.length
                    ? el("div", { className: "milestones" }, s.milestones.map(function (m) { return chip(asText(m), "milestone"); }))
                    : null,
                isBlank(s.prior_plan_criticsim) ? null : el("div", { className: "criticism" }, asText(s.prior_plan_criticsim)),
                renderPlan(children));
        }));
    }

    function renderStart(data) {
        return el("div", { className: "body" },
            el("div", { className: "task" },
                el("div", { className: "task-goal" }, asText(data.goal || "")),
                data.name ? el("div", { className: "muted" }, data.name) : null),
            el("div", { className: "label" }, "Plan"),
            renderPlan(data.subtasks) || el("p", { className: "muted" }, "no subtasks"));
    }

    function renderStep(data) {
        var tools = data.using_tools || {};
        var thought = el("div", { className: "thought" },
            field("Thoughts", data.thoughts),
            field("Reasoning", data.reasoning),
            field("Plan", data.plan),
            field("Criticism", data.criticism));
        var call = el("div", { className: "tool" },
            el("div", { className: "tool-head" },
                el("code", { className: "tool-name" }, tools.tool_name || "(no tool)"),
                tools.tool_status_code ? chip(tools.tool_status_code, /SUCCESS/.test(tools.tool_status_code) ? "good" : "warn") : null),
            renderToolInput(tools.tool_input),
            renderToolOutput(tools.tool_output));
        return el("div", { className: "body" }, thought, call);
    }

    function renderToolInput(input) {
        if (isBlank(input)) {
            return null;
        }
        var content = input && typeof input === "object" && !Array.isArray(input)
            ? el("div", { className: "kvs" }, Object.keys(input).map(function (key) { return field(key, input[key]); }))
            : pre(input);
        return el("div", { className: "io" }, el("div", { className: "io-label" }, "input"), content);
    }

    function renderToolOutput(output) {
        if (isBlank(output)) {
            return null;
        }
        var content = Array.isArray(output)
            ? el("div", { className: "outputs" }, output.map(renderOutputItem))
            : pre(output);
        return el("div", { className: "io" }, el("div", { className: "io-label" }, "output"), content);
    }

    var IMAGE_TYPES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", bmp: "image/bmp", svg: "image/svg+xml" };

    // One item of a tool's output list; a notebook picture ({file_name, file_data}) becomes an <img>.
    function renderOutputItem(item) {
        if (item && typeof item === "object" && "file_name" in item) {
            var name = String(item.file_name || "");
            var type = typeof item.media_type === "string" && /^image\/[\w.+-]+$/.test(item.media_type)
                ? item.media_type
                : IMAGE_TYPES[name.split(".").pop().toLowerCase()];
            var data = typeof item.file_data === "string" ? item.file_data.replace(/\s+/g, "") : "";
            if (type && data && /^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
                var img = el("img", { alt: name, loading: "lazy" });
                img.src = "data:" + type + ";base64," + data;
                return el("figure", { className: "picture" }, img, el("figcaption", null, name));
            }
            return el("div", { className: "note muted" }, "picture " + name + " (not available)");
        }
        return pre(item, "block line");
    }

    function renderRefinement(data) {
        return el("div", { className: "body" },
            el("div", { className: "plan-title" }, el("span", { className: "task-id" }, data.task_id || ""), " ", data.name || ""),
            field("Summary", data.action_list_summary),
            field("Goal", goalText(data.goal)),
            data.milestones && data.milestones.length
                ? el("div", { className: "milestones" }, data.milestones.map(function (m) { return chip(asText(m), "milestone"); }))
                : null,
            isBlank(data.posterior_plan_reflection) ? null : el("div", { className: "field" },
                el("div", { className: "label" }, "Plan reflection"), list(data.posterior_plan_reflection)),
            isBlank(data.tool_reflection) ? null : el("div", { className: "field" },
                el("div", { className: "label" }, "Tool reflection"),
                list(data.tool_reflection, function (r) {
                    if (r && typeof r === "object" && "target_tool_name" in r) {
                        return [el("code", null, r.target_tool_name), ": ", Array.isArray(r.reflection) ? r.reflection.join(" ") : asText(r.reflection)];
                    }
                    return asText(r);
                })),
            field("Prior criticism", data.prior_plan_criticism));
    }

    function renderSubtask(current, data) {
        var remaining = Array.isArray(data) ? data : [];
        return el("div", { className: "body" },
            el("p", { className: "note" }, current ? "Moving on to subtask " + current + "." : "Moving on."),
            remaining.length ? el("div", { className: "label" }, "Remaining") : null,
            renderPlan(remaining));
    }

    updateState();
}());
