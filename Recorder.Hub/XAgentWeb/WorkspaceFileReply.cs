namespace Recorder.Hub.XAgentWeb;

/// <summary>The original's <c>ResponseBody</c>: <c>{"data", "success", "message"}</c> in that order.</summary>
public sealed record WorkspaceFileReply(string? Data, bool Success, string? Message);
