namespace Recorder.XAgent.Disk;

/// <summary>How far <see cref="XAgentDiskReader"/> has read a recording: files and bytes done of the folder's total.</summary>
public readonly record struct XAgentReadProgress(int Files, int TotalFiles, long Bytes, long TotalBytes);
