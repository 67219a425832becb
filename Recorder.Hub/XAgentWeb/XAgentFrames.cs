using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Recorder.Client.Contracts;

namespace Recorder.Hub.XAgentWeb;

/// <summary>
/// The text frames of XAgent's recorder socket, as the original writes them (<c>json.dumps(body, ensure_ascii=False,
/// indent=2)</c>): keys in the order <c>data, status, message, success</c>, then for a raw <c>current, node_id,
/// workspace_file_list</c>, then Recorder's two extra keys <c>interaction_id, seq</c>; text escaped as Python escapes it
/// (<see cref="PythonJsonEscapes"/>: only <c>"</c>, <c>\</c> and control characters; emoji and every other character as it is).
/// </summary>
public static class XAgentFrames
{
    /// <summary>The interaction's keys in the order of the original's <c>InteractionBase.to_dict</c>; any other key (<c>last_seq</c>) follows them.</summary>
    private static readonly string[] InteractionKeys =
    [
        "interaction_id", "user_id", "create_time", "description", "agent", "mode", "file_list", "recorder_root_dir",
        "status", "message", "current_step", "update_time", "is_deleted", "call_method",
    ];

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 1000,
    };

    /// <summary>The keep-alive frame, <c>{"type": "pong"}</c>.</summary>
    public static string Pong { get; } = Write(w => w.WriteString("type", "pong"));

    /// <summary>A refusal: <c>{"data": null, "status": "failed", "message": reason, "success": false}</c> (then the socket closes).</summary>
    public static string Refused(string reason) => Write(w =>
    {
        w.WriteNull("data");
        w.WriteString("status", RecorderStatus.Failed);
        w.WriteString("message", reason);
        w.WriteBoolean("success", false);
    });

    /// <summary>
    /// A playback frame that was not allowed: <c>{"type": "control_refused", "message": reason}</c>. The socket stays open;
    /// no <c>success: false</c>, which XAgent's UI takes for a refusal of the connection (it disconnects).
    /// </summary>
    public static string ControlRefused(string reason) => Write(w =>
    {
        w.WriteString("type", "control_refused");
        w.WriteString("message", reason);
    });

    /// <summary>
    /// The frame of a hub envelope: the connect message and the closed notice (data = the interaction, keys in the
    /// original's order) or a raw.
    /// </summary>
    public static string Of(RecorderEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var isRaw = envelope.Seq > 0;
        return Write(w =>
        {
            w.WritePropertyName("data");
            if (envelope.Data is not { } data)
            {
                w.WriteNullValue();
            }
            else if (!isRaw && data.ValueKind == JsonValueKind.Object)
            {
                WriteInteraction(w, data);
            }
            else
            {
                data.WriteTo(w);
            }

            w.WriteString("status", envelope.Status);
            w.WriteString("message", envelope.Message);
            w.WriteBoolean("success", envelope.Success);
            if (isRaw)
            {
                w.WriteString("current", envelope.Current);
                w.WriteString("node_id", envelope.NodeId);
                w.WriteStartArray("workspace_file_list");
                foreach (var file in envelope.WorkspaceFileList ?? [])
                {
                    w.WriteStartObject();
                    w.WriteString("name", file.Name);
                    w.WriteString("suffix", file.Suffix);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteString("interaction_id", envelope.InteractionId);
            w.WriteNumber("seq", envelope.Seq);
        });
    }

    private static void WriteInteraction(Utf8JsonWriter w, JsonElement interaction)
    {
        w.WriteStartObject();
        foreach (var key in InteractionKeys)
        {
            if (interaction.TryGetProperty(key, out var value))
            {
                w.WritePropertyName(key);
                value.WriteTo(w);
            }
        }

        foreach (var property in interaction.EnumerateObject().Where(p => !InteractionKeys.Contains(p.Name)))
        {
            property.WriteTo(w);
        }

        w.WriteEndObject();
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        var json = buffer.WrittenSpan;
        if (!PythonJsonEscapes.MayNeedRewrite(json))
        {
            return Encoding.UTF8.GetString(json);
        }

        var rewritten = ArrayPool<byte>.Shared.Rent(json.Length);
        try
        {
            return Encoding.UTF8.GetString(rewritten, 0, PythonJsonEscapes.Rewrite(json, rewritten));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rewritten);
        }
    }
}
