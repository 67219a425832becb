namespace Recorder.Data.Recordings;

/// <summary>Which import of a recording <c>running_record</c> holds (<see cref="Stamp"/>), and its size in bytes (rows' data and files).</summary>
public sealed record RunningRecordVersion(string Stamp, long Bytes);
