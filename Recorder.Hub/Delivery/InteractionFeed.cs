using Recorder.Client.Contracts;
using Recorder.Data.Interactions;

namespace Recorder.Hub.Delivery;

/// <summary>
/// What this instance knows of one interaction its connections follow. Every field is guarded by the
/// <see cref="Subscriptions"/> gate.
/// </summary>
internal sealed class InteractionFeed(string interactionId)
{
    public string InteractionId { get; } = interactionId;

    /// <summary>The highest committed seq this instance has heard of (from a notification, a state read or a page).</summary>
    public long KnownLastSeq { get; set; }

    /// <summary>Read raws even if no subscription seems behind (after a <c>Resume</c>, or a page that came back full).</summary>
    public bool ForceRead { get; set; }

    /// <summary>The interaction is finished, failed or closed: no raw comes after <see cref="KnownLastSeq"/>.</summary>
    public bool Ended { get; set; }

    /// <summary>The interaction as it was closed: its subscribers get the closed notice once they reach its last seq.</summary>
    public InteractionRow? Closed { get; set; }

    /// <summary>The latest playback change read (null: never changed): each subscriber gets it once it has the raws up to its last seq.</summary>
    public InteractionState? Control { get; set; }

    /// <summary>
    /// The <c>workspace_file_list</c> of its raws (the workspace is complete before the first raw is written); read and
    /// written by the delivery pass only.
    /// </summary>
    public IReadOnlyList<WorkspaceFileEntry>? FileList { get; set; }

    public List<Subscription> Subscribers { get; } = [];
}
