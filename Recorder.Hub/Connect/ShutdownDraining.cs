namespace Recorder.Hub.Connect;

/// <summary>
/// Once the instance is stopping, new requests get 503: SignalR has already closed its connections, and a client
/// reconnecting at once must go to another instance instead of opening a connection that would hold the shutdown
/// up until its timeout.
/// </summary>
public static class ShutdownDraining
{
    public static IApplicationBuilder UseShutdownDraining(this IApplicationBuilder app)
    {
        var stopping = app.ApplicationServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        return app.Use(async (context, next) =>
        {
            if (stopping.IsCancellationRequested)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.Connection = "close";
                return;
            }

            await next(context);
        });
    }
}
