namespace Recorder.Hub.Runs;

public static class RunExtensions
{
    public static IHostApplicationBuilder AddRuns(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RunOptions>().BindConfiguration(RunOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<InstanceIdentity>();
        // The writer stops after the scheduler (hosted services stop in reverse order): stopping runs still commit.
        builder.Services.AddSingleton<RawAppender>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RawAppender>());
        builder.Services.AddSingleton<RunExecutor>();
        builder.Services.AddSingleton<RunScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RunScheduler>());
        return builder;
    }
}
