// The durable cursor rule (pure). Batches cover the sink's planned range in ledger order; the cursor may
// only move to just before the first batch still pending, however many later batches finished first,
// and never backwards. With no batch pending it reaches enqueued_through (ranges without a matching
// event have no batch at all, so they are passed over here).

export function advanceCursor(
  current: number,
  enqueuedThrough: number,
  firstPendingSeq: number | null,
): number {
  const candidate = firstPendingSeq === null ? enqueuedThrough : firstPendingSeq - 1;
  return Math.max(current, Math.min(candidate, enqueuedThrough));
}
