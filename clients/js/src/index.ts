// @recorder/client: the typed Recorder hub client for browsers and Node, on top of @microsoft/signalr.
export {
    RecorderClient,
    connectUrl,
    newClientId,
    type ConnectionSettings,
    type ConnectionState,
    type HubConnectionLike,
    type RecorderClientEvents,
    type RecorderClientOptions,
} from "./client.js";
export { RecorderConnectionLostError, RecorderConnectionRefusedError, RecorderInteractionClosedError } from "./errors.js";
export { MessageSequencer, type AcceptResult } from "./sequencer.js";
export { reconnectDelay } from "./reconnect.js";
export {
    RecorderProtocol,
    RecorderStatus,
    isTerminal,
    type PlaybackData,
    type RecorderEnvelope,
    type RecorderInteraction,
    type RecorderStatusName,
    type WorkspaceFileEntry,
} from "./protocol.js";
export { LogLevel } from "@microsoft/signalr";
