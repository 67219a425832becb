using System.Data;
using System.Text.Json;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Recorder.Data.Json;

/// <summary>
/// Maps jsonb columns read as <see cref="JsonElement"/>: one parse into an immutable document, the form an envelope
/// sends, for rows whose data goes out as it is (raws).
/// </summary>
internal sealed class JsonElementTypeHandler : SqlMapper.TypeHandler<JsonElement>
{
    public override void SetValue(IDbDataParameter parameter, JsonElement value)
    {
        parameter.Value = value.GetRawText();
        if (parameter is NpgsqlParameter npgsql)
        {
            npgsql.NpgsqlDbType = NpgsqlDbType.Jsonb;
        }
    }

    public override JsonElement Parse(object value) => value switch
    {
        string text => JsonSerializer.Deserialize<JsonElement>(text),
        _ => throw new DataException($"Cannot read a jsonb value of type {value.GetType()}."),
    };
}
