using System.Text.Json;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Data.Workspace;
using Recorder.XAgent;
using Recorder.XAgent.Replay;

namespace Recorder.Hub.Recordings;

/// <summary>Replays the raws of one of the user's own past interactions, named by its id.</summary>
public sealed class PastInteractionSource(
    InteractionRepository interactions,
    RawRepository raws,
    WorkspaceRepository workspace) : IRecordingSource
{
    private const int PageSize = 1000;

    public async Task<Recording?> TryLoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var past = await interactions.FindAsync(recorderDir, cancellationToken);
        if (past is null || past.UserId != userId || past.IsDeleted)
        {
            return null;
        }

        var steps = new List<ReplayStep>();
        string? failure = null;
        await foreach (var page in raws.ListPagesAfterAsync(past.InteractionId, 0, PageSize, cancellationToken))
        {
            foreach (var raw in page)
            {
                JsonElement? stored;
                try
                {
                    stored = raw.ReadData();
                }
                catch (JsonException exception)
                {
                    throw new RecordingFormatException($"past interaction '{past.InteractionId}', raw {raw.Seq}: {exception.Message}", exception);
                }

                switch (raw.Status)
                {
                    case RecorderStatus.Running or RecorderStatus.Finished:
                        break;
                    case RecorderStatus.Failed:
                        failure = stored is { ValueKind: JsonValueKind.String } text ? text.GetString() : stored?.GetRawText();
                        break;
                    default:
                        steps.Add(new ReplayStep(raw.Status, stored is { ValueKind: not JsonValueKind.Null } data ? JsonSerializer.SerializeToNode(data) : null, raw.Current, raw.IncludePictures,
                            new DateTimeOffset(DateTime.SpecifyKind(raw.CreateTime, DateTimeKind.Utc))));
                        break;
                }
            }
        }

        var files = await workspace.ReadAllAsync(past.InteractionId, cancellationToken);
        return new Recording(past.InteractionId, steps, files, failure);
    }
}
