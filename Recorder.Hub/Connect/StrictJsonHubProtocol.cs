using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Connect;

/// <summary>
/// SignalR's <see cref="JsonHubProtocol"/> (same name, same options, same bytes out) that first looks at each
/// incoming message and refuses what <see cref="FrameRefusals"/> names; everything else it leaves to SignalR,
/// including its own errors for JSON that is not a SignalR message.
/// </summary>
public sealed class StrictJsonHubProtocol(IOptions<JsonHubProtocolOptions> options) : IHubProtocol
{
    private const byte RecordSeparator = 0x1E;

    private readonly JsonHubProtocol _inner = new(options);

    public string Name => _inner.Name;

    public int Version => _inner.Version;

    public TransferFormat TransferFormat => _inner.TransferFormat;

    public bool IsVersionSupported(int version) => _inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        if (input.PositionOf(RecordSeparator) is { } end)
        {
            Check(input.Slice(0, end));
        }

        return _inner.TryParseMessage(ref input, binder, out message);
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(message);

    /// <summary>Refuses one message (the bytes before its record separator) when it is an object with a refused type or text after it.</summary>
    private static void Check(ReadOnlySequence<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        string? type = null;
        int? number = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                reader.Read();
                if (isType)
                {
                    // The last "type" counts, as in JsonHubProtocol; one that is not a number is its error to give.
                    type = reader.TokenType == JsonTokenType.Number ? Text(ref reader) : null;
                    number = type is not null && reader.TryGetInt32(out var value) ? value : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return; // not JSON: SignalR's error
        }

        bool more;
        try
        {
            more = reader.Read();
        }
        catch (JsonException)
        {
            more = true;
        }

        if (more)
        {
            throw new HubException(FrameRefusals.TextAfterMessage);
        }

        if (number is { } known)
        {
            FrameRefusals.CheckType(known);
        }
        else if (type is not null)
        {
            throw FrameRefusals.UnknownTypeError(type);
        }
    }

    private static string Text(ref Utf8JsonReader reader) =>
        Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
}
