// Replays a recording on a Recorder hub and prints every raw as it arrives, once and in seq order.
//   dotnet run --project samples/Recorder.Sample -- [hub-url] [user_id] [token] [recorder_dir]
// Defaults: the hub `deploy/local/run.sh` starts, with its demo user and recording.
using Recorder.Client;

var hubUrl = new Uri(args.ElementAtOrDefault(0) ?? "http://127.0.0.1:5080/hubs/recorder");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    await using var client = await RecorderClient.ConnectAsync(new RecorderClientOptions
    {
        HubUrl = hubUrl,
        UserId = args.ElementAtOrDefault(1) ?? "demo",
        Token = args.ElementAtOrDefault(2) ?? "recorder-demo-token",
        RecorderDir = args.ElementAtOrDefault(3) ?? "demo",
    }, stop.Token);
    Console.WriteLine($"interaction {client.InteractionId}: {client.Connected.Message} ({client.Interaction.Status}, {client.Interaction.RecorderRootDir})");

    await client.StartRecorderAsync(stop.Token);
    await foreach (var message in client.ReadMessagesAsync(stop.Token))
    {
        Console.WriteLine($"{message.Seq,4} {message.Status,-15} {message.Current,-6} {message.Message}");
        if (message.IsTerminal)
        {
            return message.Status == "finished" ? 0 : 1;
        }
    }

    return 1;
}
catch (RecorderConnectionRefusedException refused)
{
    Console.Error.WriteLine($"refused: {refused.Reason}");
    return 2;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    return 130;
}
