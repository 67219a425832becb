namespace Recorder.Hub.Retention;

public static class RetentionExtensions
{
    /// <summary>The pruner (also used by <c>interactions prune</c>) and, when <c>Recorder:Retention:MaxAge</c> is set, its periodic run.</summary>
    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<InteractionPruner>();
        builder.Services.AddSingleton<RetentionService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());
        return builder;
    }
}
