using Recorder.Client.Contracts;

namespace Recorder.Hub.Delivery;

/// <summary>
/// An envelope waiting in a connection's outbox. It is written only if its subscription still has the generation it
/// was queued under: a <c>Resume</c> in between moved the cursor, and what was queued before no longer counts.
/// <see cref="Seq"/> is the raw's seq, 0 for the closed notice.
/// </summary>
internal readonly record struct OutboxItem(Subscription Subscription, int Generation, long Seq, RecorderEnvelope Envelope);
