// What every sink implements: send one batch (already routed and redacted) and say, per event, what the
// destination accepted, refused for good, or left for later; plus a start-up health check.
import { messageOf } from '../../ledger/errors.ts';
import type { SecretKeyRef, SinkFormat, SinkType } from '../../ledger/sinks/spec.ts';
import type { BatchMeta } from '../batch-digest.ts';
import { type DeliveryFailure, failure } from '../delivery-failure.ts';
import type { LedgerEvent } from '../ledger-event.ts';

export interface OutgoingBatch {
  meta: BatchMeta;
  /** The events to send now, in ledger order (a subset of the batch when retrying a part of it). */
  events: LedgerEvent[];
}

export interface RefusedEvent {
  seq: number;
  failure: DeliveryFailure;
}

export interface SendReport {
  /** Ledger seqs the destination took (and, with HEC indexer ack, acknowledged). */
  accepted: number[];
  /** Refused for good: these go to the dead letters. */
  refused: RefusedEvent[];
  /** Not taken, and why: retryable (send again later) or sink-level (credentials, config, 410, Secret). */
  unsent?: { seqs: number[]; failure: DeliveryFailure };
  /** What the destination answered (ack ids, HTTP statuses), for the receipt. */
  receipts: string[];
  requests: number;
  /** Serialized bytes of the events sent (before request envelopes and compression). */
  bytes: number;
}

export interface Sink {
  readonly name: string;
  readonly type: SinkType;
  readonly format: SinkFormat;
  send(batch: OutgoingBatch): Promise<SendReport>;
  /** A cheap reachability / credentials check at start: null when fine. */
  check(): Promise<DeliveryFailure | null>;
  close(): Promise<void>;
}

/** Reads a Secret key now (values may rotate); throws sink_secret_missing. */
export type ReadSecret = (ref: SecretKeyRef) => string;

/** A report for a batch that could not be sent at all because something local failed (a Secret, TLS files). */
export function localFailure(batch: OutgoingBatch, err: unknown): SendReport {
  const code = (err as { code?: unknown })?.code;
  return {
    accepted: [],
    refused: [],
    unsent: {
      seqs: batch.events.map((e) => e.ledger_seq),
      failure: failure('local', typeof code === 'string' ? code : 'local_error', messageOf(err)),
    },
    receipts: [],
    requests: 0,
    bytes: 0,
  };
}
