using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Recorder.Hub.Rest;

/// <summary>
/// The <c>cursor</c> of <c>GET /api/interactions</c>: the last interaction of a page, (create_time, interaction_id),
/// as base64url text. Opaque to clients: they pass back the <c>next</c> a page gave.
/// </summary>
internal static class InteractionsCursor
{
    public static string Encode(DateTime createTime, string interactionId) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{(createTime.ToUniversalTime() - DateTime.UnixEpoch).Ticks}.{interactionId}")));

    /// <summary>The position the cursor names, or null when it is not one <see cref="Encode"/> made.</summary>
    public static (DateTime CreateTime, string InteractionId)? Decode(string cursor)
    {
        if (cursor.Length > 1024 || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 1 || dot == text.Length - 1
            || !long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > (DateTime.MaxValue - DateTime.UnixEpoch).Ticks)
        {
            return null;
        }

        return (DateTime.UnixEpoch.AddTicks(ticks), text[(dot + 1)..]);
    }
}
