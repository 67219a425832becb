using Recorder.Hub.Auth;
using Recorder.Hub.Cli;
using Recorder.Hub.Data;
using Recorder.Hub.Hub;
using Recorder.Hub.Push;
using Recorder.Hub.Replay;
using Recorder.Hub.Runs;

if (RecorderCli.IsCommand(args))
{
    return await RecorderCli.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddRecorderData();
builder.AddReplay();
builder.AddRuns();
builder.AddPush();
builder.AddRecorderAuth();
builder.AddRecorderHub();

var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.MapRecorderHub();
app.MapGet("/healthz", () => Results.Ok("ok"));
await app.RunAsync();
return 0;

public partial class Program;
