// Cutting the committed ledger into batches for one sink (pure). Input: the commits after the sink's
// enqueued_through and the events among them that match its route, with a size estimate each. Output:
// contiguous ledger ranges, each holding at most `events` matching events and about `bytes` bytes, and
// the new enqueued_through. Ranges with no matching event need no batch: the cursor skips them.

export interface CommitSpan {
  first: number;
  last: number;
  /** Occurred-at bounds of the commit's events, epoch microseconds (partition pruning). */
  minUs: number;
  maxUs: number;
  committedAtMs: number;
}

export interface MatchedEvent {
  seq: number;
  /** Estimated bytes of the event on the wire. */
  bytes: number;
}

export interface PlannedBatch {
  first: number;
  last: number;
  events: number;
  bytes: number;
  minUs: number | null;
  maxUs: number | null;
}

export interface PlanInput {
  /** The sink's enqueued_through: everything up to it is planned already. */
  after: number;
  /** Commits covering (after, through], in order; `through` is the last commit's last seq. */
  commits: CommitSpan[];
  /** Matching events in (after, through], ascending. */
  events: MatchedEvent[];
  limits: { events: number; bytes: number };
  /** Most batches to plan now (free room in the sink's queue). */
  maxBatches: number;
  /** The commits reach the ledger head (nothing more to read now). */
  reachedHead: boolean;
  /** A delivery slot is idle, so a partial batch may go at once. */
  slotFree: boolean;
  nowMs: number;
  waitMs: number;
}

export interface Plan {
  batches: PlannedBatch[];
  /** The new enqueued_through (unchanged when nothing could be planned). */
  through: number;
  /** When a held-back partial batch becomes due, in ms from now (undefined when none is held). */
  tailDueInMs: number | undefined;
}

export function planBatches(input: PlanInput): Plan {
  const { after, commits, events, limits } = input;
  const end = commits.at(-1)?.last ?? after;
  const batches: PlannedBatch[] = [];
  let first = after + 1;
  let count = 0;
  let bytes = 0;
  const close = (last: number) => {
    const bounds = coveredBounds(commits, first, last);
    batches.push({
      first,
      last,
      events: count,
      bytes,
      minUs: bounds?.minUs ?? null,
      maxUs: bounds?.maxUs ?? null,
    });
  };

  for (const event of events) {
    if (count > 0 && (count + 1 > limits.events || bytes + event.bytes > limits.bytes)) {
      close(event.seq - 1);
      if (batches.length >= input.maxBatches) {
        return { batches, through: event.seq - 1, tailDueInMs: undefined };
      }
      first = event.seq;
      count = 0;
      bytes = 0;
    }
    count += 1;
    bytes += event.bytes;
  }

  if (count === 0) return { batches, through: end, tailDueInMs: undefined };
  const tailAgeMs = input.nowMs - (commitOf(commits, first)?.committedAtMs ?? input.nowMs);
  // a tail that does not reach the head is carried into the next read, unless nothing else was planned
  // (a sparse route): then it goes now, so every round makes progress
  const flush = input.reachedHead ? input.slotFree || tailAgeMs >= input.waitMs : batches.length === 0;
  if (flush && batches.length < input.maxBatches) {
    close(end);
    return { batches, through: end, tailDueInMs: undefined };
  }
  return {
    batches,
    through: first - 1,
    tailDueInMs: input.reachedHead ? Math.max(0, input.waitMs - tailAgeMs) : undefined,
  };
}

function commitOf(commits: CommitSpan[], seq: number): CommitSpan | undefined {
  return commits.find((c) => c.first <= seq && seq <= c.last);
}

/**
 * Occurred-at bounds of [from, to] from the commits, or null when the commits do not cover the range
 * without a gap (commit log rows pruned): then only ledger_seq bounds the read.
 */
export function coveredBounds(
  commits: readonly CommitSpan[],
  from: number,
  to: number,
): { minUs: number; maxUs: number } | null {
  if (from > to) return null;
  let next = from;
  let minUs = Number.POSITIVE_INFINITY;
  let maxUs = Number.NEGATIVE_INFINITY;
  for (const c of commits) {
    if (c.last < next) continue;
    if (c.first > next || next > to) break;
    minUs = Math.min(minUs, c.minUs);
    maxUs = Math.max(maxUs, c.maxUs);
    next = c.last + 1;
  }
  return next > to ? { minUs, maxUs } : null;
}
