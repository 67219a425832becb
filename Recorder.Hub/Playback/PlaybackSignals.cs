using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Recorder.Hub.Playback;

/// <summary>
/// Wakes the runs of this instance when their playback changed (a notification on
/// <see cref="Recorder.Data.Interactions.InteractionRepository.ControlChannel"/>, from any instance): each run registers a
/// channel while it executes, the delivery's listener signals it.
/// </summary>
public sealed class PlaybackSignals
{
    private readonly ConcurrentDictionary<string, Channel<bool>> _runs = new(StringComparer.Ordinal);

    /// <summary>Registers the run of <paramref name="interactionId"/>; disposing the result forgets it.</summary>
    public Registration Register(string interactionId)
    {
        var channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        _runs[interactionId] = channel;
        return new Registration(this, interactionId, channel);
    }

    /// <summary>The interaction's playback changed: its run, if it runs here, reads it again.</summary>
    public void Wake(string interactionId)
    {
        if (_runs.TryGetValue(interactionId, out var channel))
        {
            channel.Writer.TryWrite(true);
        }
    }

    /// <summary>A run's registration: <see cref="Reader"/> yields an item after each change.</summary>
    public sealed class Registration(PlaybackSignals owner, string interactionId, Channel<bool> channel) : IDisposable
    {
        public ChannelReader<bool> Reader => channel.Reader;

        public void Dispose() => owner._runs.TryRemove(new KeyValuePair<string, Channel<bool>>(interactionId, channel));
    }
}
