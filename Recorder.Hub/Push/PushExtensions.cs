namespace Recorder.Hub.Push;

public static class PushExtensions
{
    public static IHostApplicationBuilder AddPush(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PushOptions>().BindConfiguration(PushOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EnvelopeFactory>();
        builder.Services.AddHostedService<RawPusher>();
        return builder;
    }
}
