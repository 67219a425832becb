using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using MessagePack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Connect;

/// <summary>
/// SignalR's <see cref="MessagePackHubProtocol"/> (same name, same options, same bytes out) that first reads each
/// incoming message's type and refuses what <see cref="FrameRefusals"/> names; everything else it leaves to SignalR.
/// </summary>
public sealed class StrictMessagePackHubProtocol(IOptions<MessagePackHubProtocolOptions> options) : IHubProtocol
{
    /// <summary>A message's length prefix: 7 bits a byte, at most 5 bytes (SignalR's binary framing).</summary>
    private const int MaxPrefixBytes = 5;

    private readonly MessagePackHubProtocol _inner = new(options);

    public string Name => _inner.Name;

    public int Version => _inner.Version;

    public TransferFormat TransferFormat => _inner.TransferFormat;

    public bool IsVersionSupported(int version) => _inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        if (TryBody(input, out var body))
        {
            Check(body);
        }

        return _inner.TryParseMessage(ref input, binder, out message);
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(message);

    /// <summary>The first whole message's bytes after its length prefix; false while it is incomplete (or the prefix is SignalR's error).</summary>
    private static bool TryBody(ReadOnlySequence<byte> input, out ReadOnlySequence<byte> body)
    {
        body = default;
        long length = 0;
        var prefix = 0;
        foreach (var segment in input)
        {
            foreach (var b in segment.Span)
            {
                length |= (long)(b & 0x7F) << (7 * prefix++);
                if (b < 0x80)
                {
                    if (input.Length - prefix < length)
                    {
                        return false;
                    }

                    body = input.Slice(prefix, length);
                    return true;
                }

                if (prefix == MaxPrefixBytes)
                {
                    return false;
                }
            }
        }

        return false;
    }

    private static void Check(ReadOnlySequence<byte> body)
    {
        int type;
        try
        {
            var reader = new MessagePackReader(body);
            if (reader.ReadArrayHeader() == 0)
            {
                return;
            }

            type = reader.ReadInt32();
        }
        catch (Exception exception) when (exception is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            return; // not a SignalR message: SignalR's error
        }

        FrameRefusals.CheckType(type);
    }
}
