// What a BullMQ job carries (a ledger range or a list of dead letters to replay, never event data: audit
// events stay out of Redis) and its deterministic id, so enqueuing the same work twice is a no-op.

export interface BatchJob {
  kind: 'batch';
  first: number;
  last: number;
  /** Occurred-at bounds of the range, epoch microseconds (partition pruning); null when unknown. */
  minUs: number | null;
  maxUs: number | null;
  /** Set after a partial attempt: the ledger seqs still to send. */
  remaining?: number[];
}

export interface ReplayJob {
  kind: 'replay';
  seqs: number[];
  minUs: number | null;
  maxUs: number | null;
  remaining?: number[];
}

export type DeliveryJob = BatchJob | ReplayJob;

/** `<sink>-<first>-<last>`: BullMQ ids may not contain ':' nor be all digits; sink names have neither. */
export function batchJobId(sink: string, first: number, last: number): string {
  return `${sink}-${first}-${last}`;
}

/** Replays of the same dead letters asked for again get a new id (`tag` is when they were picked up). */
export function replayJobId(sink: string, seqs: readonly number[], tag: number): string {
  return `${sink}-replay-${seqs[0] ?? 0}-${seqs.at(-1) ?? 0}-${seqs.length}-${tag.toString(36)}`;
}

/** The ledger range a job covers. */
export function jobRange(job: DeliveryJob): { first: number; last: number } {
  if (job.kind === 'batch') return { first: job.first, last: job.last };
  return { first: job.seqs[0] ?? 0, last: job.seqs.at(-1) ?? 0 };
}
