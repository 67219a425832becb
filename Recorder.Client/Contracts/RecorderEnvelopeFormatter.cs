using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;

namespace Recorder.Client.Contracts;

/// <summary>
/// Writes a <see cref="RecorderEnvelope"/> as a MessagePack map with the JSON form's snake_case keys, its <c>data</c>
/// as a string of JSON text; reads it back (unknown keys are skipped, so the server may add keys).
/// </summary>
internal sealed class RecorderEnvelopeFormatter : IMessagePackFormatter<RecorderEnvelope?>
{
    public static readonly RecorderEnvelopeFormatter Instance = new();

    /// <summary>Nesting the JSON text of <c>data</c> may have when a client parses it (the hub's data is bounded well below).</summary>
    private const int MaxDataDepth = 256;

    public void Serialize(ref MessagePackWriter writer, RecorderEnvelope? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteMapHeader(9);
        writer.Write("status");
        writer.Write(value.Status);
        writer.Write("success");
        writer.Write(value.Success);
        writer.Write("message");
        writer.Write(value.Message);
        writer.Write("data");
        if (value.Data is { } data)
        {
            // The same bytes the JSON protocol writes for this element (its relaxed escaping included).
            writer.WriteString(JsonSerializer.SerializeToUtf8Bytes(data, RecorderProtocol.JsonOptions));
        }
        else
        {
            writer.WriteNil();
        }

        writer.Write("current");
        writer.Write(value.Current);
        writer.Write("node_id");
        writer.Write(value.NodeId);
        writer.Write("workspace_file_list");
        if (value.WorkspaceFileList is { } files)
        {
            writer.WriteArrayHeader(files.Count);
            foreach (var file in files)
            {
                WorkspaceFileEntryFormatter.Instance.Serialize(ref writer, file, options);
            }
        }
        else
        {
            writer.WriteNil();
        }

        writer.Write("interaction_id");
        writer.Write(value.InteractionId);
        writer.Write("seq");
        writer.Write(value.Seq);
    }

    public RecorderEnvelope? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        options.Security.DepthStep(ref reader);
        string? status = null, message = null, current = null, nodeId = null, interactionId = null;
        var success = false;
        long seq = 0;
        JsonElement? data = null;
        List<WorkspaceFileEntry>? files = null;
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            switch (reader.ReadString())
            {
                case "status": status = reader.ReadString(); break;
                case "success": success = reader.ReadBoolean(); break;
                case "message": message = reader.ReadString(); break;
                case "data": data = ReadData(ref reader); break;
                case "current": current = reader.ReadString(); break;
                case "node_id": nodeId = reader.ReadString(); break;
                case "interaction_id": interactionId = reader.ReadString(); break;
                case "seq": seq = reader.ReadInt64(); break;
                case "workspace_file_list":
                    if (!reader.TryReadNil())
                    {
                        var n = reader.ReadArrayHeader();
                        files = new List<WorkspaceFileEntry>(n);
                        for (var f = 0; f < n; f++)
                        {
                            files.Add(WorkspaceFileEntryFormatter.Instance.Deserialize(ref reader, options)
                                ?? throw new MessagePackSerializationException("workspace_file_list holds a nil entry"));
                        }
                    }

                    break;
                default: reader.Skip(); break;
            }
        }

        reader.Depth--;
        return new RecorderEnvelope
        {
            Status = status ?? throw new MessagePackSerializationException("the envelope has no status"),
            Success = success,
            Message = message,
            Data = data,
            Current = current,
            NodeId = nodeId,
            WorkspaceFileList = files,
            InteractionId = interactionId,
            Seq = seq,
        };
    }

    private static JsonElement? ReadData(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        var text = reader.ReadStringSequence() ?? throw new MessagePackSerializationException("data is not a string of JSON text");
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = MaxDataDepth });
        return document.RootElement.Clone();
    }
}
