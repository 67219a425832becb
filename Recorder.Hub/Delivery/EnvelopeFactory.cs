using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;

namespace Recorder.Hub.Delivery;

/// <summary>Builds the envelopes the clients receive: connect, refusal, closed, and one per raw (data processed like the original's handle_data).</summary>
public static class EnvelopeFactory
{
    /// <summary>The envelope of one raw (its data as <see cref="RawRow.ReadData"/> read it), given its interaction's workspace file list and the pictures its data names.</summary>
    public static RecorderEnvelope FromRaw(RawRow row, JsonElement? stored, IReadOnlyList<WorkspaceFileEntry> fileList, IReadOnlyDictionary<string, InlinePicture> pictures)
    {
        var data = RawDataProcessor.Process(stored, row.IncludePictures, pictures);
        var message = row.Status == RecorderStatus.Failed
            ? data switch
            {
                { ValueKind: JsonValueKind.String } text => text.GetString()!,
                { ValueKind: not JsonValueKind.Null } other => other.GetRawText(),
                _ => "failed",
            }
            : "success";
        return OfRaw(row, fileList, message, data is { ValueKind: JsonValueKind.Null } ? null : data);
    }

    /// <summary>
    /// The envelope of a raw whose data cannot be sent (e.g. nested too deep to serialize): the raw keeps its place in
    /// the stream, with its data replaced by a clear error, so that it never stalls the interaction.
    /// </summary>
    public static RecorderEnvelope Undeliverable(RawRow row, IReadOnlyList<WorkspaceFileEntry> fileList, string reason) =>
        OfRaw(row, fileList, row.Status == RecorderStatus.Failed ? "failed" : "success",
            JsonSerializer.SerializeToElement(new JsonObject { ["error"] = $"this raw's data could not be delivered: {reason}" }));

    private static RecorderEnvelope OfRaw(RawRow row, IReadOnlyList<WorkspaceFileEntry> fileList, string message, JsonElement? data) => new()
    {
        Status = row.Status,
        Success = true,
        Message = message,
        Data = data,
        Current = row.Current,
        NodeId = row.NodeId,
        WorkspaceFileList = fileList,
        InteractionId = row.InteractionId,
        Seq = row.Seq,
    };

    /// <summary>The <c>workspace_file_list</c> of a workspace holding <paramref name="names"/>.</summary>
    public static IReadOnlyList<WorkspaceFileEntry> FileList(IEnumerable<string> names) =>
        [.. names.Select(name => new WorkspaceFileEntry(name, name.LastIndexOf('.') is var dot and >= 0 ? name[(dot + 1)..] : name))];

    public static RecorderEnvelope Connected(InteractionRow interaction) => new()
    {
        Status = RecorderStatus.Connect,
        Success = true,
        Message = "connect success",
        Data = JsonSerializer.SerializeToElement(InteractionData(interaction)),
        InteractionId = interaction.InteractionId,
        Seq = 0,
    };

    /// <summary>
    /// Sent to each connection of the interaction when it is closed, after its last raw: seq 0 like connect, with the interaction (status
    /// <c>closed</c>, <c>last_seq</c>) as data, so that a client still attached ends its stream after that seq.
    /// </summary>
    public static RecorderEnvelope Closed(InteractionRow interaction) => Connected(interaction) with
    {
        Status = RecorderStatus.Closed,
        Message = "closed: no client was attached for longer than the grace period",
    };

    /// <summary>
    /// Sent to each connection of the interaction after every playback change (seq 0 like connect): status
    /// <c>paused</c> or <c>playing</c>, data <c>{"speed", "paused", "control_version"}</c>.
    /// </summary>
    public static RecorderEnvelope Control(string interactionId, double speed, bool paused, long version) => new()
    {
        Status = paused ? RecorderStatus.Paused : RecorderStatus.Playing,
        Success = true,
        Message = paused ? "paused" : string.Create(CultureInfo.InvariantCulture, $"playing at speed {speed}"),
        Data = JsonSerializer.SerializeToElement(new JsonObject { ["speed"] = speed, ["paused"] = paused, ["control_version"] = version }),
        InteractionId = interactionId,
        Seq = 0,
    };

    public static RecorderEnvelope Refused(string reason) => new()
    {
        Status = RecorderStatus.Failed,
        Success = false,
        Message = reason,
        Data = null,
        Seq = 0,
    };

    /// <summary>
    /// The interaction as the original's connect message shows it (times as "yyyy-MM-dd HH:mm:ss", UTC), plus
    /// <c>last_seq</c>: the seq of its last raw when the client connected.
    /// </summary>
    private static JsonObject InteractionData(InteractionRow i) => new()
    {
        ["interaction_id"] = i.InteractionId,
        ["user_id"] = i.UserId,
        ["create_time"] = FormatTime(i.CreateTime),
        ["update_time"] = FormatTime(i.UpdateTime),
        ["description"] = i.Description,
        ["agent"] = i.Agent,
        ["mode"] = i.Mode,
        ["file_list"] = i.FileList?.DeepClone() ?? new JsonArray(),
        ["recorder_root_dir"] = i.RecorderRootDir,
        ["status"] = i.Status,
        ["message"] = i.Message,
        ["current_step"] = i.CurrentStep,
        ["is_deleted"] = i.IsDeleted,
        ["call_method"] = i.CallMethod,
        ["last_seq"] = i.LastSeq,
    };

    private static string FormatTime(DateTime time) => time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
