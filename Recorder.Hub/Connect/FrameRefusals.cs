using Microsoft.AspNetCore.SignalR;

namespace Recorder.Hub.Connect;

/// <summary>
/// The messages SignalR's own protocols accept from a client and then drop without a word (a message type it does not
/// know, a completion or stream item that answers nothing, text after a JSON message): the hub refuses them, so the
/// connection closes at once with the reason instead of idling until the client timeout.
/// </summary>
public static class FrameRefusals
{
    public const string UnknownType =
        "the hub does not know message type {0}; it takes invocations (1, 4), cancels (5), pings (6) and close (7).";

    public const string Completion = "a completion from the client answers nothing: the hub asks clients for no results.";

    public const string StreamItem = "a stream item from the client goes nowhere: no hub method takes a stream.";

    public const string TextAfterMessage =
        "a message holds more after its JSON object: end each message with the record separator 0x1E.";

    /// <summary>Throws the <see cref="HubException"/> that refuses a client message of type <paramref name="type"/>, if it is one the hub refuses.</summary>
    public static void CheckType(int type)
    {
        switch (type)
        {
            case 1 or 4 or 5 or 6 or 7:
                return;

            // 8 and 9 (ack, sequence) are stateful reconnect's, which the hub does not offer: unknown like any other.
            case 2:
                throw new HubException(StreamItem);
            case 3:
                throw new HubException(Completion);
            default:
                throw UnknownTypeError(type.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The refusal of a message type that is not one of SignalR's (<paramref name="type"/> as the client wrote it).</summary>
    public static HubException UnknownTypeError(string type) =>
        new(string.Format(System.Globalization.CultureInfo.InvariantCulture, UnknownType, type.Length > 24 ? type[..24] + "…" : type));
}
