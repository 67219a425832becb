using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

/// <summary>One migrated database for the repository tests.</summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;

    public async Task InitializeAsync() => Database = await TestDatabase.CreateAsync(CancellationToken.None).WaitAsync(TestEnvironment.Timeout);

    public async Task DisposeAsync() => await Database.DisposeAsync();
}
