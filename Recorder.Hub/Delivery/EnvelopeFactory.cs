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
        [.. names.Select(WorkspaceFileEntry.Named)];

    public static RecorderEnvelope Connected(InteractionRow interaction) => new()
    {
        Status = RecorderStatus.Connect,
        Success = true,
        Message = "connect success",
        Data = Interaction(interaction).ToData(),
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
    private static RecorderInteraction Interaction(InteractionRow i) => new()
    {
        InteractionId = i.InteractionId,
        UserId = i.UserId,
        CreateTime = i.CreateTime,
        UpdateTime = i.UpdateTime,
        Description = i.Description,
        Agent = i.Agent,
        Mode = i.Mode,
        FileList = i.FileList is JsonArray files ? [.. files.Select(f => JsonSerializer.SerializeToElement(f))] : [],
        RecorderRootDir = i.RecorderRootDir,
        Status = i.Status,
        Message = i.Message,
        CurrentStep = i.CurrentStep,
        IsDeleted = i.IsDeleted,
        CallMethod = i.CallMethod,
        LastSeq = i.LastSeq,
    };
}
