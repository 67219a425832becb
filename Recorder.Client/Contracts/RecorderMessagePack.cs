using MessagePack;
using MessagePack.Resolvers;
using Microsoft.AspNetCore.SignalR;

namespace Recorder.Client.Contracts;

/// <summary>
/// The MessagePack form of the wire contract. An envelope is a map with the same snake_case keys as its JSON form;
/// <c>data</c> is a string holding the data's JSON text exactly as the JSON protocol sends it (or nil), so that a
/// MessagePack client parses the very same JSON a JSON client receives (no number or key conversion in between).
/// </summary>
public static class RecorderMessagePack
{
    /// <summary>Adds the envelope's formatter in front of the resolver SignalR already uses.</summary>
    public static MessagePackHubProtocolOptions Configure(MessagePackHubProtocolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.SerializerOptions = options.SerializerOptions.WithResolver(CompositeResolver.Create(
            [RecorderEnvelopeFormatter.Instance, WorkspaceFileEntryFormatter.Instance],
            [options.SerializerOptions.Resolver]));
        return options;
    }

    /// <summary>The MessagePack bytes of <paramref name="envelope"/>, as the hub sends them as the argument of <c>Message</c>.</summary>
    public static byte[] Serialize(RecorderEnvelope envelope) =>
        MessagePackSerializer.Serialize(envelope, Configure(new MessagePackHubProtocolOptions()).SerializerOptions);

    /// <summary>Reads what <see cref="Serialize"/> wrote.</summary>
    public static RecorderEnvelope Deserialize(ReadOnlyMemory<byte> bytes) =>
        MessagePackSerializer.Deserialize<RecorderEnvelope>(bytes, Configure(new MessagePackHubProtocolOptions()).SerializerOptions);
}
