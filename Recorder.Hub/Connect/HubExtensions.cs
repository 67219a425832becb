using Microsoft.AspNetCore.SignalR.Protocol;
using Recorder.Client.Contracts;
using StackExchange.Redis;

namespace Recorder.Hub.Connect;

public static class HubExtensions
{
    /// <summary>Largest message a client may send; hub calls are small, so anything bigger is refused.</summary>
    public const long MaximumReceiveMessageSize = 32 * 1024;

    public static IHostApplicationBuilder AddRecorderHub(this IHostApplicationBuilder builder)
    {
        var signalR = builder.Services
            .AddSignalR(o =>
            {
                o.MaximumReceiveMessageSize = MaximumReceiveMessageSize;
                o.EnableDetailedErrors = builder.Environment.IsDevelopment();
            })
            .AddJsonProtocol(o => RecorderProtocol.Configure(o.PayloadSerializerOptions))
            .AddMessagePackProtocol(o => RecorderMessagePack.Configure(o));

        // Registered after SignalR's own: the protocol resolver keeps the last protocol of each name.
        builder.Services.AddSingleton<IHubProtocol, StrictJsonHubProtocol>();
        builder.Services.AddSingleton<IHubProtocol, StrictMessagePackHubProtocol>();

        var redis = builder.Configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
        {
            signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal("recorder"));
        }

        // The HTTP endpoints speak the same JSON as the hub.
        builder.Services.ConfigureHttpJsonOptions(o => RecorderProtocol.Configure(o.SerializerOptions));
        builder.Services.AddSingleton<InteractionSessions>();
        builder.Services.AddSingleton<ResumeLimits>();
        builder.Services.AddSingleton<ConnectionDepartures>();
        builder.Services.AddSingleton<ConnectionAttach>();
        builder.Services.AddHostedService<PongService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRecorderHub(this IEndpointRouteBuilder app)
    {
        app.MapHub<RecorderHub>(RecorderProtocol.HubPath).RequireRateLimiting(Auth.ConnectRateLimiting.Policy);
        return app;
    }
}
