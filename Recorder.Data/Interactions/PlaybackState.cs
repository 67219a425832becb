namespace Recorder.Data.Interactions;

/// <summary>
/// How the viewer wants the run played: <see cref="ReplaySpeed"/> (null: the server's setting), paused or not, and the
/// version of the last change (0: never changed).
/// </summary>
public sealed class PlaybackState
{
    public double? ReplaySpeed { get; init; }
    public bool Paused { get; init; }
    public long ControlVersion { get; init; }
}
