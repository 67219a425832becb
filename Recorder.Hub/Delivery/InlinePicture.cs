using System.Globalization;

namespace Recorder.Hub.Delivery;

/// <summary>
/// A workspace picture as raws inline it: base64-encoded once (every raw and page that shows it shares the text), or,
/// when larger than <see cref="DeliveryOptions.MaxInlinePictureBytes"/>, not at all: its raws then say why.
/// </summary>
public sealed class InlinePicture
{
    private InlinePicture(string? base64, long bytes, long maxInlineBytes)
    {
        Base64 = base64;
        Bytes = bytes;
        MaxInlineBytes = maxInlineBytes;
    }

    /// <summary>The file's base64 text; null when the file is too large to inline.</summary>
    public string? Base64 { get; }

    /// <summary>The file's size.</summary>
    public long Bytes { get; }

    public long MaxInlineBytes { get; }

    /// <summary>Why <see cref="Base64"/> is null (the <c>file_data_omitted</c> a raw carries instead), or null.</summary>
    public string? Omitted => Base64 is null
        ? string.Create(CultureInfo.InvariantCulture, $"the file is {Bytes} bytes, more than the {MaxInlineBytes} bytes a raw inlines")
        : null;

    /// <summary>What this picture adds to an envelope that inlines it, in bytes of JSON.</summary>
    public long InlinedBytes => Base64?.Length ?? 0;

    public static InlinePicture Of(byte[] content, long maxInlineBytes = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(content);
        return content.LongLength <= maxInlineBytes
            ? new InlinePicture(Convert.ToBase64String(content), content.LongLength, maxInlineBytes)
            : new InlinePicture(null, content.LongLength, maxInlineBytes);
    }
}
