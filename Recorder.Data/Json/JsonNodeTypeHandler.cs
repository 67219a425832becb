using System.Data;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Recorder.Data.Json;

/// <summary>Maps jsonb columns to <see cref="JsonNode"/> and back, within <see cref="JsonLimits.MaxDepth"/> both ways.</summary>
internal sealed class JsonNodeTypeHandler : SqlMapper.TypeHandler<JsonNode?>
{
    public override void SetValue(IDbDataParameter parameter, JsonNode? value)
    {
        parameter.Value = value is null ? DBNull.Value : value.ToJsonString(JsonLimits.Serializer);
        if (parameter is NpgsqlParameter npgsql)
        {
            npgsql.NpgsqlDbType = NpgsqlDbType.Jsonb;
        }
    }

    public override JsonNode? Parse(object value) => value switch
    {
        null or DBNull => null,
        string text => JsonLimits.ParseNode(text),
        _ => throw new DataException($"Cannot read a jsonb value of type {value.GetType()}."),
    };
}
