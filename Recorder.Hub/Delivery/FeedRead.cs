namespace Recorder.Hub.Delivery;

/// <summary>One interaction a delivery pass reads: its raws with <c>seq &gt; AfterSeq</c> (the lowest cursor behind).</summary>
internal readonly record struct FeedRead(InteractionFeed Feed, long AfterSeq);
