using System.Collections.Concurrent;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// A test class whose awaits time out: each use of <see cref="Ct"/> is a token cancelled a timeout from then
/// (<see cref="TestEnvironment.Timeout"/> unless the class names another), and xunit disposes every source made when
/// the test is over (a class instance per test).
/// </summary>
public abstract class TimedTest : IDisposable
{
    private readonly ConcurrentBag<CancellationTokenSource> _sources = [];
    private readonly TimeSpan _timeout;

    protected TimedTest()
        : this(TestEnvironment.Timeout)
    {
    }

    protected TimedTest(TimeSpan timeout) => _timeout = timeout;

    /// <summary>A token cancelled the class's timeout from now.</summary>
    protected CancellationToken Ct
    {
        get
        {
            var source = new CancellationTokenSource(_timeout);
            _sources.Add(source);
            return source.Token;
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var source in _sources)
            {
                source.Dispose();
            }
        }
    }
}
