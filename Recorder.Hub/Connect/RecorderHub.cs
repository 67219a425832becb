using Microsoft.AspNetCore.SignalR;
using Recorder.Client.Contracts;
using Recorder.Hub.Playback;
using Recorder.Hub.Runs;

namespace Recorder.Hub.Connect;

/// <summary>
/// The hub at <see cref="RecorderProtocol.HubPath"/>, a page of one-line methods: arrivals, departures and
/// <c>Resume</c> go to <see cref="ConnectionAttach"/>, the run to <see cref="RunScheduler"/>, the playback to
/// <see cref="PlaybackControl"/>.
/// </summary>
public sealed class RecorderHub(ConnectionAttach attach, RunScheduler runs, PlaybackControl playback) : Hub<IRecorderClient>, IRecorderHub
{
    public override Task OnConnectedAsync() => attach.ConnectAsync(Context, Clients.Caller);

    public override Task OnDisconnectedAsync(Exception? exception) => attach.DisconnectAsync(Context);

    public Task StartRecorder() => runs.RequestAsync(ConnectionAttach.InteractionOf(Context), Context.ConnectionAborted);

    public Task Ping() => Clients.Caller.Pong();

    public Task Resume(string interactionId, long afterSeq) => attach.ResumeAsync(Context, interactionId, afterSeq);

    public Task Pause() => playback.PauseAsync(ConnectionAttach.InteractionOf(Context), Context.UserIdentifier, Context.ConnectionAborted);

    public Task Play() => playback.PlayAsync(ConnectionAttach.InteractionOf(Context), Context.UserIdentifier, Context.ConnectionAborted);

    public Task SetSpeed(double speed) =>
        playback.SetSpeedAsync(ConnectionAttach.InteractionOf(Context), Context.UserIdentifier, speed, Context.ConnectionAborted);

    public Task SkipToEnd() => playback.SkipToEndAsync(ConnectionAttach.InteractionOf(Context), Context.UserIdentifier, Context.ConnectionAborted);
}
