namespace Recorder.Data.Raws;

public enum AppendOutcome
{
    /// <summary>The raw is committed.</summary>
    Written,

    /// <summary>
    /// Nothing written: the interaction is over (closed, finished, failed), another instance owns its run,
    /// or that seq is taken by another raw. The run must stop.
    /// </summary>
    Refused,
}
