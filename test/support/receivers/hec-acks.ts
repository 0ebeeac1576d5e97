// HEC indexer acknowledgement: per-channel ack ids (from 0, one per accepted request), their
// "indexed" state under a test-controlled policy, and forget-after-true as in Vector's emulator.

/** When an issued ack id turns true. */
export type AckIndexing =
  /** True on the first status query that asks for it. */
  | 'immediate'
  /** False for the first `afterPolls` queries that ask for it, true on the next one. */
  | { afterPolls: number }
  /** Stays false until {@link AckLedger.indexPending} is called. */
  | 'never';

/** Splunk's channel id format: a GUID. */
const CHANNEL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isChannelId(value: string): boolean {
  return CHANNEL_ID.test(value);
}

export const DEFAULT_MAX_PENDING_ACKS_PER_CHANNEL = 10_000;
/** Channels tracked at once; the least recently opened is forgotten beyond it (its acks then answer false). */
export const DEFAULT_MAX_ACK_CHANNELS = 10_000;

interface PendingAck {
  polls: number;
  released: boolean;
}

interface ChannelAcks {
  nextId: number;
  pending: Map<number, PendingAck>;
}

export class AckLedger {
  readonly maxPendingPerChannel: number;
  readonly maxChannels: number;
  /** Channels forgotten because maxChannels was reached. */
  droppedChannels = 0;
  #indexing: AckIndexing;
  readonly #initialIndexing: AckIndexing;
  readonly #channels = new Map<string, ChannelAcks>();

  constructor(
    indexing: AckIndexing,
    maxPendingPerChannel = DEFAULT_MAX_PENDING_ACKS_PER_CHANNEL,
    maxChannels = DEFAULT_MAX_ACK_CHANNELS,
  ) {
    this.#indexing = indexing;
    this.#initialIndexing = indexing;
    this.maxPendingPerChannel = maxPendingPerChannel;
    this.maxChannels = maxChannels;
  }

  setIndexing(indexing: AckIndexing): void {
    this.#indexing = indexing;
  }

  get indexing(): AckIndexing {
    return this.#indexing;
  }

  /** The next ack id on `channel`, or undefined when the channel already has too many unqueried acks. */
  issue(channel: string): number | undefined {
    let acks = this.#channels.get(channel);
    if (acks === undefined) {
      if (this.#channels.size >= this.maxChannels) {
        const oldest = this.#channels.keys().next().value as string;
        this.#channels.delete(oldest);
        this.droppedChannels += 1;
      }
      acks = { nextId: 0, pending: new Map() };
      this.#channels.set(channel, acks);
    }
    if (acks.pending.size >= this.maxPendingPerChannel) return undefined;
    const id = acks.nextId;
    acks.nextId += 1;
    acks.pending.set(id, { polls: 0, released: false });
    return id;
  }

  /** Answers a status query; an id reported true is forgotten, so asking again answers false. */
  query(channel: string, ids: readonly number[]): Record<string, boolean> {
    const acks = this.#channels.get(channel);
    const answer: Record<string, boolean> = {};
    for (const id of ids) {
      const pending = acks?.pending.get(id);
      if (pending === undefined) {
        answer[String(id)] = false;
        continue;
      }
      pending.polls += 1;
      const indexed = this.#isIndexed(pending);
      answer[String(id)] = indexed;
      if (indexed) acks?.pending.delete(id);
    }
    return answer;
  }

  /** Marks every issued, unreported ack as indexed (the release for the 'never' policy). */
  indexPending(): void {
    for (const acks of this.#channels.values()) {
      for (const pending of acks.pending.values()) pending.released = true;
    }
  }

  /** Ack ids issued on `channel` and not yet reported true. */
  pending(channel: string): number[] {
    return [...(this.#channels.get(channel)?.pending.keys() ?? [])];
  }

  restoreIndexing(): void {
    this.#indexing = this.#initialIndexing;
  }

  clear(): void {
    this.#channels.clear();
    this.droppedChannels = 0;
  }

  #isIndexed(pending: PendingAck): boolean {
    if (pending.released) return true;
    const indexing = this.#indexing;
    if (indexing === 'immediate') return true;
    if (indexing === 'never') return false;
    return pending.polls > indexing.afterPolls;
  }
}
