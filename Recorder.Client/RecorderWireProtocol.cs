namespace Recorder.Client;

/// <summary>The SignalR hub protocol a <see cref="RecorderClient"/> speaks.</summary>
public enum RecorderWireProtocol
{
    /// <summary>SignalR's JSON protocol (text frames), the wire format of docs/protocol.md.</summary>
    Json,

    /// <summary>SignalR's MessagePack protocol (binary frames); the envelope's <c>data</c> travels as its JSON text.</summary>
    MessagePack,
}
