// The Splunk HEC sink: POSTs batches to /services/collector/event with `Authorization: Splunk <token>`
// on a channel of its own, optionally gzipped; resends only what follows an event HEC refused; with
// indexer acknowledgement on, a request counts only once its ackId is reported indexed.
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ForwarderSinkEntry } from '../../ledger/sinks/sinks-file.ts';
import { sinkFormat } from '../../ledger/sinks/spec.ts';
import { type DeliveryFailure, failure, networkFailure } from '../delivery-failure.ts';
import { type EventFormatter, formatterFor } from '../formats/event-format.ts';
import { type ChunkAnswer, deliverInChunks, type SerializedEvent } from './chunked-delivery.ts';
import { endpointTls } from './endpoint-tls.ts';
import { HttpEndpoint } from './http-endpoint.ts';
import { localFailure, type OutgoingBatch, type ReadSecret, type SendReport, type Sink } from './sink.ts';
import {
  ackedIds,
  classifyHecAnswer,
  HEC_ACK_PATH,
  HEC_DEFAULT_SOURCETYPE,
  HEC_EVENT_PATH,
  HEC_HEALTH_PATH,
  type HecEnvelope,
  hecEventText,
} from './splunk-hec-payload.ts';

const gzipAsync = promisify(gzip);

export class SplunkHecSink implements Sink {
  readonly name: string;
  readonly type = 'splunkHec' as const;
  readonly format;
  /** The request channel: one per sink instance (Splunk keys ack ids by channel). */
  readonly channel = randomUUID();
  readonly #entry: ForwarderSinkEntry;
  readonly #hec: NonNullable<ForwarderSinkEntry['spec']['splunkHec']>;
  readonly #readSecret: ReadSecret;
  readonly #format: EventFormatter;
  readonly #envelope: HecEnvelope;
  #endpoint: HttpEndpoint | undefined;
  #acks: HecAckPoller | undefined;

  constructor(entry: ForwarderSinkEntry, readSecret: ReadSecret) {
    const hec = entry.spec.splunkHec;
    if (!hec) throw new Error(`sink ${entry.name}: the splunkHec block is missing`);
    this.name = entry.name;
    this.#entry = entry;
    this.#hec = hec;
    this.#readSecret = readSecret;
    this.format = sinkFormat(entry.spec);
    this.#format = formatterFor(this.format);
    this.#envelope = {
      host: hec.host,
      source: hec.source,
      sourcetype: hec.sourcetype ?? HEC_DEFAULT_SOURCETYPE[this.format],
      ...(hec.index === undefined ? {} : { index: hec.index }),
    };
  }

  async send(batch: OutgoingBatch): Promise<SendReport> {
    let endpoint: HttpEndpoint;
    let headers: Record<string, string>;
    try {
      endpoint = this.#endpointNow();
      headers = this.#headers();
    } catch (err) {
      return localFailure(batch, err);
    }
    const serialized: SerializedEvent[] = batch.events.map((e) => {
      const text = hecEventText(e, this.#format(e), batch.meta, this.#envelope);
      return { seq: e.ledger_seq, text, bytes: Buffer.byteLength(text) };
    });
    return deliverInChunks(
      serialized,
      { maxBytes: this.#entry.spec.batch.bytes, separatorBytes: 1 },
      (chunk) => this.#sendChunk(endpoint, headers, chunk),
    );
  }

  async #sendChunk(
    endpoint: HttpEndpoint,
    headers: Record<string, string>,
    chunk: SerializedEvent[],
  ): Promise<ChunkAnswer> {
    const text = chunk.map((e) => e.text).join('\n');
    const body = this.#hec.gzip ? await gzipAsync(text) : text;
    const res = await endpoint.send('POST', `${endpoint.basePath}${HEC_EVENT_PATH}`, headers, body);
    const answer = classifyHecAnswer(res.status, res.text, res.headers['retry-after'], Date.now());
    if (answer.kind !== 'ok') return answer;
    if (!this.#hec.indexerAck.enabled || answer.ackId === undefined) {
      return { kind: 'accepted', receipt: `hec ${res.status}` };
    }
    const indexed = await this.#ackPoller(endpoint).wait(answer.ackId);
    if (!indexed) {
      return {
        kind: 'failed',
        failure: failure(
          'transient',
          'hec_ack_timeout',
          `ackId ${answer.ackId} on channel ${this.channel} not indexed after ${this.#hec.indexerAck.maxPolls} queries`,
        ),
      };
    }
    return { kind: 'accepted', receipt: `hec ackId=${answer.ackId}` };
  }

  async check(): Promise<DeliveryFailure | null> {
    if (!this.#hec.healthCheck) return null;
    try {
      const endpoint = this.#endpointNow();
      const res = await endpoint.send('GET', `${endpoint.basePath}${HEC_HEALTH_PATH}`, this.#headers());
      if (res.status === 200) return null;
      const answer = classifyHecAnswer(res.status, res.text, res.headers['retry-after'], Date.now());
      return answer.kind === 'failed' ? answer.failure : failure('transient', `http_${res.status}`, res.text);
    } catch (err) {
      return networkFailure(err);
    }
  }

  async close(): Promise<void> {
    this.#acks?.close();
    await this.#endpoint?.close();
  }

  #headers(): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Splunk ${this.#readSecret(this.#hec.token)}`,
      'content-type': 'application/json',
      'x-splunk-request-channel': this.channel,
    };
    if (this.#hec.gzip) headers['content-encoding'] = 'gzip';
    return headers;
  }

  #endpointNow(): HttpEndpoint {
    this.#endpoint ??= new HttpEndpoint(this.#hec.endpoint, {
      connections: this.#entry.spec.concurrency + 1,
      timeoutMs: this.#entry.spec.timeoutMs,
      tls: endpointTls(this.#entry.spec.tls, this.#readSecret),
    });
    return this.#endpoint;
  }

  #ackPoller(endpoint: HttpEndpoint): HecAckPoller {
    this.#acks ??= new HecAckPoller(
      async (ids) => {
        const { 'content-encoding': _plain, ...headers } = this.#headers();
        const res = await endpoint.send(
          'POST',
          `${endpoint.basePath}${HEC_ACK_PATH}`,
          headers,
          JSON.stringify({ acks: ids }),
        );
        return res.status === 200 ? ackedIds(res.text) : [];
      },
      this.#hec.indexerAck.pollIntervalMs,
      this.#hec.indexerAck.maxPolls,
    );
    return this.#acks;
  }
}

interface PendingAck {
  polls: number;
  resolve: (indexed: boolean) => void;
}

/**
 * Indexer-ack status for one channel: every interval, one query for all pending ack ids; an id reported
 * true resolves (Splunk forgets it once reported, so the first true counts); after `maxPolls` queries
 * without it, it resolves false and the request is sent again.
 */
export class HecAckPoller {
  readonly #query: (ids: number[]) => Promise<number[]>;
  readonly #intervalMs: number;
  readonly #maxPolls: number;
  readonly #pending = new Map<number, PendingAck>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(query: (ids: number[]) => Promise<number[]>, intervalMs: number, maxPolls: number) {
    this.#query = query;
    this.#intervalMs = intervalMs;
    this.#maxPolls = maxPolls;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  wait(ackId: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.#pending.get(ackId)?.resolve(false);
      this.#pending.set(ackId, { polls: 0, resolve });
      this.#timer ??= setInterval(() => void this.#poll(), this.#intervalMs);
    });
  }

  close(): void {
    for (const p of this.#pending.values()) p.resolve(false);
    this.#pending.clear();
    this.#stop();
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#pending.size === 0) return;
    this.#polling = true;
    try {
      const ids = [...this.#pending.keys()];
      const acked = new Set(await this.#query(ids).catch(() => [] as number[]));
      for (const id of ids) {
        const p = this.#pending.get(id);
        if (!p) continue;
        p.polls += 1;
        if (acked.has(id) || p.polls >= this.#maxPolls) {
          this.#pending.delete(id);
          p.resolve(acked.has(id));
        }
      }
    } finally {
      this.#polling = false;
      if (this.#pending.size === 0) this.#stop();
    }
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
