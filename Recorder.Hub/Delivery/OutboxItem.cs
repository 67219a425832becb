using Recorder.Client.Contracts;

namespace Recorder.Hub.Delivery;

/// <summary>
/// An envelope waiting in a connection's outbox. It is written only if its subscription still has the generation it
/// was queued under: a <c>Resume</c> in between moved the cursor, and what was queued before no longer counts.
/// <see cref="Seq"/> is the raw's seq, 0 for the closed notice. <see cref="MarkSent"/>: the raw was not marked sent
/// when it was read, so writing it reports it to <see cref="SentMarks"/> (a Resume of raws sent before costs no update).
/// <see cref="Bytes"/> is what the envelope holds (data and inlined pictures), counted against the outbox's byte budget.
/// </summary>
internal readonly record struct OutboxItem(Subscription Subscription, int Generation, long Seq, RecorderEnvelope Envelope, bool MarkSent, long Bytes, DateTime CreateTime = default);
