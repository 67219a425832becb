using System.Text.Json;

namespace Recorder.Hub.Delivery;

/// <summary>A raw's data and the pictures it shows, or why its data cannot be read (it is then sent with the reason instead).</summary>
internal sealed record ParsedRaw(JsonElement? Data, IReadOnlyList<string> PictureNames, string? Error);
