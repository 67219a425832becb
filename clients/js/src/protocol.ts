// The wire contract of the Recorder hub, typed as Recorder.Client's (Recorder.Client/Contracts): the envelope of
// IRecorderClient.Message, the statuses, the hub's path, its methods and the connect keys. Described in docs/protocol.md.

/** The statuses an envelope may carry (Recorder.Client's RecorderStatus). */
export const RecorderStatus = {
    Connect: "connect",
    Running: "running",
    Start: "start",
    Inner: "inner",
    SubtaskSubmit: "subtask_submit",
    Refinement: "refinement",
    Subtask: "subtask",
    Finished: "finished",
    Failed: "failed",
    Waiting: "waiting",
    Closed: "closed",
    /** A control envelope (seq 0): the run is paused; `data` is {@link PlaybackData}. */
    Paused: "paused",
    /** A control envelope (seq 0): the run plays (again, or at a new speed); `data` is {@link PlaybackData}. */
    Playing: "playing",
} as const;

/** The data of a control envelope (status `paused` or `playing`). */
export interface PlaybackData {
    /** 0 = no delays, 1 = the original pace, 2 = twice as fast. */
    speed: number;
    paused: boolean;
    /** Bumped by every change of the interaction's playback. */
    control_version: number;
}

/** One of {@link RecorderStatus}'s values. */
export type RecorderStatusName = (typeof RecorderStatus)[keyof typeof RecorderStatus];

/** One entry of {@link RecorderEnvelope.workspace_file_list}. */
export interface WorkspaceFileEntry {
    /** The file name inside the workspace. */
    name: string;
    /** The text after the last dot of the name (the whole name when it has no dot). */
    suffix: string;
}

/**
 * The message the hub sends for every raw of an interaction (Recorder.Client's RecorderEnvelope): the original XAgent
 * envelope plus `interaction_id` and `seq`, with snake_case names; `null` fields are sent, not omitted.
 */
export interface RecorderEnvelope<TData = unknown> {
    /** `connect`, `running`, `start`, `inner`, `subtask_submit`, `refinement`, `subtask`, `finished` or `failed` (`closed` for the closed notice). */
    status: RecorderStatusName | (string & {});
    /** False only for a refusal of the connection. */
    success: boolean;
    /** `success`, `connect success`, or the failure text. */
    message: string | null;
    /** The raw's processed data (see docs/protocol.md); the interaction for `connect`. */
    data: TData;
    /** The subtask id the raw belongs to. */
    current: string | null;
    /** The raw's node id. */
    node_id: string | null;
    /** The files in the interaction's workspace when the raw was sent. */
    workspace_file_list: WorkspaceFileEntry[] | null;
    /** The interaction this message belongs to. */
    interaction_id: string | null;
    /** 1, 2, 3, ... per interaction, gap-free, in the order the raws were written; 0 for `connect`, the closed notice and refusals. */
    seq: number;
}

/** `data` of the connect envelope: the interaction as stored when the connection attached. */
export interface RecorderInteraction {
    interaction_id: string;
    user_id: string;
    create_time: string;
    update_time: string;
    description: string;
    agent: string;
    mode: string;
    file_list: unknown[];
    recorder_root_dir: string;
    /** `waiting` for a new interaction; `running`, `finished`, `failed` or `closed` when re-attaching. */
    status: string;
    message: string;
    current_step: string;
    is_deleted: boolean;
    call_method: string;
    /** The seq of the interaction's last raw when the connection attached (not in the original). */
    last_seq: number;
}

/** True for the last message of a run: `finished` or `failed` (Recorder.Client's RecorderEnvelope.IsTerminal). */
export function isTerminal(envelope: Pick<RecorderEnvelope, "status">): boolean {
    return envelope.status === RecorderStatus.Finished || envelope.status === RecorderStatus.Failed;
}

/** Fixed names of the wire contract (Recorder.Client's RecorderProtocol, IRecorderHub and IRecorderClient). */
export const RecorderProtocol = {
    /** The hub's URL path. */
    hubPath: "/hubs/recorder",
    /** Query key carrying the user id. */
    userIdKey: "user_id",
    /** Query key carrying the user's token. */
    tokenKey: "token",
    /** Query key naming the recording. */
    recorderDirKey: "recorder_dir",
    /** Query key carrying the interaction id. */
    clientIdKey: "client_id",
    /** Query key carrying the replay speed a new interaction should have (absent: the server's). */
    speedKey: "speed",
    /** Hub methods a client invokes (IRecorderHub). */
    methods: {
        startRecorder: "StartRecorder", ping: "Ping", resume: "Resume",
        pause: "Pause", play: "Play", setSpeed: "SetSpeed", skipToEnd: "SkipToEnd",
    },
    /** Methods the hub calls on the client (IRecorderClient). */
    callbacks: { message: "Message", pong: "Pong" },
} as const;
