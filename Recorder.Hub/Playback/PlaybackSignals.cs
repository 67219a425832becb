using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;

namespace Recorder.Hub.Playback;

/// <summary>
/// Wakes the runs of this instance when their playback changed (a notification on
/// <see cref="Recorder.Data.Interactions.InteractionRepository.ControlChannel"/>, from any instance): each run registers a
/// channel while it executes, the delivery's listener signals it. A change that comes just before a run registers (it was
/// claimed from a row read before the change) is remembered and signalled at registration.
/// </summary>
public sealed class PlaybackSignals
{
    /// <summary>How long a change for a run not registered here is remembered (a claim and its registration are microseconds apart).</summary>
    private static readonly TimeSpan Remembered = TimeSpan.FromSeconds(10);

    /// <summary>Remembered changes past which the old ones are forgotten.</summary>
    private const int RecentCapacity = 1024;

    private readonly ConcurrentDictionary<string, Channel<bool>> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _recent = new(StringComparer.Ordinal);

    /// <summary>Registers the run of <paramref name="interactionId"/>; disposing the result forgets it.</summary>
    public Registration Register(string interactionId)
    {
        var channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        _runs[interactionId] = channel;
        if (_recent.TryRemove(interactionId, out var at) && Stopwatch.GetElapsedTime(at) <= Remembered)
        {
            channel.Writer.TryWrite(true); // a change came just before the run registered
        }

        return new Registration(this, interactionId, channel);
    }

    /// <summary>The interaction's playback changed: its run, if it runs here, reads it again.</summary>
    public void Wake(string interactionId)
    {
        if (Signal(interactionId))
        {
            return;
        }

        // Not running here, or claimed a moment ago and not registered yet (its claim may have read the row before
        // this change): remembered for a while, the run reads the row again if it registers in time.
        var now = Stopwatch.GetTimestamp();
        _recent[interactionId] = now;
        if (_recent.Count > RecentCapacity)
        {
            foreach (var (id, at) in _recent)
            {
                if (Stopwatch.GetElapsedTime(at, now) > Remembered)
                {
                    _recent.TryRemove(new KeyValuePair<string, long>(id, at));
                }
            }
        }

        Signal(interactionId); // it registered meanwhile (and may have looked before the change was remembered)
    }

    private bool Signal(string interactionId)
    {
        if (!_runs.TryGetValue(interactionId, out var channel))
        {
            return false;
        }

        channel.Writer.TryWrite(true);
        return true;
    }

    /// <summary>A run's registration: <see cref="Reader"/> yields an item after each change.</summary>
    public sealed class Registration(PlaybackSignals owner, string interactionId, Channel<bool> channel) : IDisposable
    {
        public ChannelReader<bool> Reader => channel.Reader;

        public void Dispose() => owner._runs.TryRemove(new KeyValuePair<string, Channel<bool>>(interactionId, channel));
    }
}
