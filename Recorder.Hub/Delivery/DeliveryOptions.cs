using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Delivery;

/// <summary>The <c>Recorder:Delivery</c> section.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Recorder:Delivery";

    /// <summary>The safety net: how often the state of every local subscription's interaction is read again, in case a wake-up was missed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Recorder:Delivery:SweepInterval must be between 00:00:00.050 and 00:01:00.")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Interactions whose state one sweep re-reads, in turn: with more followed interactions than this a full round
    /// takes several sweeps, and the sweep's database work stays the same whatever their number.
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "Recorder:Delivery:SweepBatch must be between 1 and 1000000.")]
    public int SweepBatch { get; set; } = 1000;

    /// <summary>Raws read per interaction per query (one query serves every local subscription behind).</summary>
    [Range(1, 10_000, ErrorMessage = "Recorder:Delivery:PageSize must be between 1 and 10000.")]
    public int PageSize { get; set; } = 256;

    /// <summary>Envelopes buffered per connection; a connection whose buffer is full is caught up from PostgreSQL once it drains.</summary>
    [Range(1, 100_000, ErrorMessage = "Recorder:Delivery:OutboxCapacity must be between 1 and 100000.")]
    public int OutboxCapacity { get; set; } = 512;

    /// <summary>
    /// Bytes of envelopes one page of one interaction may hold (its raws' data and the pictures they inline): a page is
    /// cut there, so a long catch-up of large raws is read a few raws at a time (at least one).
    /// </summary>
    [Range(65_536, 1_073_741_824, ErrorMessage = "Recorder:Delivery:PageBytes must be between 65536 and 1073741824.")]
    public int PageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Bytes of envelopes buffered per connection; past them (or past <see cref="OutboxCapacity"/>) it is caught up later.</summary>
    [Range(65_536, 1_073_741_824, ErrorMessage = "Recorder:Delivery:OutboxBytes must be between 65536 and 1073741824.")]
    public int OutboxBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// The largest picture a raw inlines as base64; a larger one is sent with <c>file_data</c> null and
    /// <c>file_data_omitted</c> saying why.
    /// </summary>
    [Range(0, 1_073_741_824, ErrorMessage = "Recorder:Delivery:MaxInlinePictureBytes must be between 0 and 1073741824.")]
    public int MaxInlinePictureBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Megabytes of workspace pictures kept in memory between passes (0 = read them for every page).</summary>
    [Range(0, 1_048_576, ErrorMessage = "Recorder:Delivery:PictureCacheMegabytes must be between 0 and 1048576.")]
    public int PictureCacheMegabytes { get; set; } = 64;

    /// <summary>How long a connection may have envelopes waiting without taking any before it is closed (it resumes when it reconnects).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Recorder:Delivery:SlowConsumerTimeout must be between 00:00:01 and 01:00:00.")]
    public TimeSpan SlowConsumerTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
