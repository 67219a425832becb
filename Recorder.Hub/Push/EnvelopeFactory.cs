using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Data.Workspace;

namespace Recorder.Hub.Push;

/// <summary>Builds the envelopes the clients receive: connect, refusal, and one per raw (data processed like the original's handle_data).</summary>
public sealed class EnvelopeFactory(WorkspaceRepository workspace)
{
    private static readonly IReadOnlyDictionary<string, byte[]> NoPictures = new Dictionary<string, byte[]>();

    /// <summary>The envelopes of <paramref name="rows"/> (all of one interaction), in the same order.</summary>
    public async Task<IReadOnlyList<RecorderEnvelope>> CreateAsync(string interactionId, IReadOnlyList<RawRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var names = await workspace.ListNamesAsync(interactionId, cancellationToken);
        var fileList = names.Select(ToEntry).ToArray();
        var wanted = rows.SelectMany(r => RawDataProcessor.PictureNames(r.Data, r.IncludePictures)).Distinct(StringComparer.Ordinal).ToList();
        var pictures = wanted.Count == 0 ? NoPictures : await workspace.ReadAsync(interactionId, wanted, cancellationToken);
        return rows.Select(row => FromRaw(row, fileList, pictures)).ToList();
    }

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
    /// Sent to the group when the interaction is closed: seq 0 like connect, with the interaction (status
    /// <c>closed</c>, <c>last_seq</c>) as data, so that a client still attached ends its stream after that seq.
    /// </summary>
    public static RecorderEnvelope Closed(InteractionRow interaction) => Connected(interaction) with
    {
        Status = RecorderStatus.Closed,
        Message = "closed: no client was attached for longer than the grace period",
    };

    public static RecorderEnvelope Refused(string reason) => new()
    {
        Status = RecorderStatus.Failed,
        Success = false,
        Message = reason,
        Data = null,
        Seq = 0,
    };

    private static RecorderEnvelope FromRaw(RawRow row, IReadOnlyList<WorkspaceFileEntry> fileList, IReadOnlyDictionary<string, byte[]> pictures)
    {
        var data = RawDataProcessor.Process(row.Data, row.IncludePictures, pictures);
        var message = row.Status == RecorderStatus.Failed
            ? data is JsonValue value && value.TryGetValue(out string? text) ? text : data?.ToJsonString() ?? "failed"
            : "success";
        return new RecorderEnvelope
        {
            Status = row.Status,
            Success = true,
            Message = message,
            Data = data is null ? null : JsonSerializer.SerializeToElement(data),
            Current = row.Current,
            NodeId = row.NodeId,
            WorkspaceFileList = fileList,
            InteractionId = row.InteractionId,
            Seq = row.Seq,
        };
    }

    private static WorkspaceFileEntry ToEntry(string name)
    {
        var dot = name.LastIndexOf('.');
        return new WorkspaceFileEntry(name, dot < 0 ? name : name[(dot + 1)..]);
    }

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
