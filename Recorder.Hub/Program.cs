using Recorder.Hub;
using Recorder.Hub.Cli;

if (RecorderCli.IsCommand(args))
{
    return await RecorderCli.RunAsync(args);
}

await using var app = RecorderApp.Build(args);
await app.RunAsync();
return 0;
