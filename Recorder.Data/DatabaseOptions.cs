using System.ComponentModel.DataAnnotations;

namespace Recorder.Data;

public sealed class DatabaseOptions
{
    [Required(ErrorMessage = "ConnectionStrings:Recorder is missing: set it to the PostgreSQL connection string (env var ConnectionStrings__Recorder).")]
    public string? Recorder { get; set; }
}
