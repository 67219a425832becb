namespace Recorder.Hub.Delivery;

/// <summary>
/// One interaction a delivery pass reads: at most <c>Limit</c> of its raws with <c>seq &gt; AfterSeq</c> (the lowest
/// cursor behind; the limit is the most room any of those subscribers' outboxes has, so a connection that drains
/// slowly is not read a whole page for the few envelopes it can take).
/// </summary>
internal readonly record struct FeedRead(InteractionFeed Feed, long AfterSeq, int Limit);
