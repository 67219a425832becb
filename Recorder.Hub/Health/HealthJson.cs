using System.Text.Json.Serialization;

namespace Recorder.Hub.Health;

[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthJson : JsonSerializerContext;
