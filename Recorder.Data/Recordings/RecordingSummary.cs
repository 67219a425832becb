namespace Recorder.Data.Recordings;

/// <summary>A recording stored in <c>running_record</c>, as <c>recordings list</c> shows it.</summary>
public sealed class RecordingSummary
{
    public required string RecordId { get; init; }
    public long Rows { get; init; }
    public DateTime FirstTime { get; init; }
}
