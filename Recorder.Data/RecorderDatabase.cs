using Dapper;
using Recorder.Data.Json;

namespace Recorder.Data;

/// <summary>Process-wide Dapper conventions for the Recorder schema (snake_case columns, jsonb as JsonNode).</summary>
public static class RecorderDatabase
{
    private static int _configured;

    /// <summary>Applies the conventions once; safe to call from every start-up path.</summary>
    public static void ConfigureDapper()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1)
        {
            return;
        }

        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new JsonNodeTypeHandler());
    }
}
