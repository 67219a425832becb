using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Recorder.Data.Interactions;

namespace Recorder.Hub.Playback;

/// <summary>
/// The owner's playback calls (hub methods and the XAgent socket's frames): each is one UPDATE of the interaction row
/// that bumps its control version and notifies <see cref="InteractionRepository.ControlChannel"/>. The instance running
/// the replay applies it (<see cref="RunPacer"/>), and every instance's delivery sends the control envelope to the
/// interaction's connections. A call that is not allowed throws a <see cref="HubException"/> and changes nothing.
/// </summary>
public sealed partial class PlaybackControl(
    InteractionRepository interactions,
    IOptionsMonitor<ReplayOptions> replayOptions,
    ILogger<PlaybackControl> logger)
{
    public Task<PlaybackState> PauseAsync(string interactionId, string? userId, CancellationToken cancellationToken) =>
        SetAsync(interactionId, userId, paused: true, speed: null, cancellationToken);

    public Task<PlaybackState> PlayAsync(string interactionId, string? userId, CancellationToken cancellationToken) =>
        SetAsync(interactionId, userId, paused: false, speed: null, cancellationToken);

    /// <summary>Sets the speed (bounded by <see cref="ReplayOptions.MinSpeed"/>/<see cref="ReplayOptions.MaxSpeed"/>); a paused run stays paused.</summary>
    public Task<PlaybackState> SetSpeedAsync(string interactionId, string? userId, double speed, CancellationToken cancellationToken) =>
        PlaybackSpeed.Check(speed, replayOptions.CurrentValue) is { } refusal
            ? throw new HubException(refusal)
            : SetAsync(interactionId, userId, paused: null, speed, cancellationToken);

    /// <summary>Plays the rest at speed 0 (allowed whatever <see cref="ReplayOptions.AllowZeroSpeed"/> says).</summary>
    public Task<PlaybackState> SkipToEndAsync(string interactionId, string? userId, CancellationToken cancellationToken) =>
        SetAsync(interactionId, userId, paused: false, speed: 0, cancellationToken);

    private async Task<PlaybackState> SetAsync(string interactionId, string? userId, bool? paused, double? speed, CancellationToken cancellationToken)
    {
        if (userId is not null
            && await interactions.SetPlaybackAsync(interactionId, userId, paused, speed, replayOptions.CurrentValue.Speed, cancellationToken) is { } state)
        {
            Log.Changed(logger, interactionId, state.Paused, state.ReplaySpeed ?? 0, state.ControlVersion);
            return state;
        }

        var row = await interactions.FindAsync(interactionId, cancellationToken);
        throw new HubException(row is null || row.UserId != userId || row.IsDeleted
            ? $"interaction '{interactionId}' does not exist or is not yours."
            : $"the run of interaction '{interactionId}' is over ({row.Status}): it can no longer be paused, played or sped up.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, EventName = "PlaybackChanged", Level = LogLevel.Information, Message = "Playback of {InteractionId}: paused {Paused}, speed {Speed} (control version {Version})")]
        public static partial void Changed(ILogger logger, string interactionId, bool paused, double speed, long version);
    }
}
