namespace Recorder.XAgent;

/// <summary><c>config.yml</c> as raw text (for rows: the JSON text of the config data).</summary>
public sealed record XAgentConfig(string Text, XAgentOrigin Origin);
