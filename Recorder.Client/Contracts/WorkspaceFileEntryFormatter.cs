using MessagePack;
using MessagePack.Formatters;

namespace Recorder.Client.Contracts;

/// <summary>Writes a <see cref="WorkspaceFileEntry"/> as the map <c>{name, suffix}</c>, like its JSON form.</summary>
internal sealed class WorkspaceFileEntryFormatter : IMessagePackFormatter<WorkspaceFileEntry?>
{
    public static readonly WorkspaceFileEntryFormatter Instance = new();

    public void Serialize(ref MessagePackWriter writer, WorkspaceFileEntry? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteMapHeader(2);
        writer.Write("name");
        writer.Write(value.Name);
        writer.Write("suffix");
        writer.Write(value.Suffix);
    }

    public WorkspaceFileEntry? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        string? name = null, suffix = null;
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            switch (reader.ReadString())
            {
                case "name": name = reader.ReadString(); break;
                case "suffix": suffix = reader.ReadString(); break;
                default: reader.Skip(); break;
            }
        }

        return new WorkspaceFileEntry(
            name ?? throw new MessagePackSerializationException("a workspace file entry has no name"),
            suffix ?? throw new MessagePackSerializationException("a workspace file entry has no suffix"));
    }
}
