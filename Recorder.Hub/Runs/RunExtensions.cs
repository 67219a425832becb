namespace Recorder.Hub.Runs;

public static class RunExtensions
{
    public static IHostApplicationBuilder AddRuns(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RunOptions>().BindConfiguration(RunOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<InstanceIdentity>();
        builder.Services.AddSingleton<RunExecutor>();
        builder.Services.AddSingleton<RunScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RunScheduler>());
        return builder;
    }
}
