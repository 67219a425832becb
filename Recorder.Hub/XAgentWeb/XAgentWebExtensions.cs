namespace Recorder.Hub.XAgentWeb;

/// <summary>What XAgent's own web UI talks to: the recorder socket and the workspace file API.</summary>
public static class XAgentWebExtensions
{
    public static IHostApplicationBuilder AddXAgentWeb(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RecorderSocketEndpoint>();
        return builder;
    }

    public static IEndpointRouteBuilder MapXAgentWeb(this IEndpointRouteBuilder app)
    {
        // The socket has its own WebSocket middleware, as SignalR's endpoints have theirs.
        var pipeline = app.CreateApplicationBuilder().UseWebSockets();
        pipeline.Run(context => context.RequestServices.GetRequiredService<RecorderSocketEndpoint>().HandleAsync(context));
        var socket = pipeline.Build();
        app.Map(RecorderSocketEndpoint.Pattern, socket)
            .WithDisplayName("XAgent recorder socket")
            .RequireRateLimiting(Auth.ConnectRateLimiting.Policy);
        app.MapWorkspaceFileApi().RequireRateLimiting(Auth.ConnectRateLimiting.Policy);
        return app;
    }
}
