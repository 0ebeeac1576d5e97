// The Elasticsearch sink: POSTs NDJSON to /_bulk (index or data stream) with an API key or basic
// authentication, and applies the reply item by item.
import type { ForwarderSinkEntry } from '../../ledger/sinks/sinks-file.ts';
import { sinkFormat } from '../../ledger/sinks/spec.ts';
import { type DeliveryFailure, httpStatusFailure, networkFailure } from '../delivery-failure.ts';
import { type EventFormatter, formatterFor } from '../formats/event-format.ts';
import { type ChunkAnswer, deliverInChunks, type SerializedEvent } from './chunked-delivery.ts';
import { bulkEntry, bulkPath, classifyBulkAnswer, esDocument } from './elasticsearch-payload.ts';
import { endpointTls } from './endpoint-tls.ts';
import { HttpEndpoint } from './http-endpoint.ts';
import { localFailure, type OutgoingBatch, type ReadSecret, type SendReport, type Sink } from './sink.ts';

export class ElasticsearchSink implements Sink {
  readonly name: string;
  readonly type = 'elasticsearch' as const;
  readonly format;
  readonly #entry: ForwarderSinkEntry;
  readonly #es: NonNullable<ForwarderSinkEntry['spec']['elasticsearch']>;
  readonly #target: string;
  readonly #readSecret: ReadSecret;
  readonly #format: EventFormatter;
  #endpoint: HttpEndpoint | undefined;

  constructor(entry: ForwarderSinkEntry, readSecret: ReadSecret) {
    const es = entry.spec.elasticsearch;
    if (!es) throw new Error(`sink ${entry.name}: the elasticsearch block is missing`);
    this.name = entry.name;
    this.#entry = entry;
    this.#es = es;
    this.#target = (es.dataStream ?? es.index)!;
    this.#readSecret = readSecret;
    this.format = sinkFormat(entry.spec);
    this.#format = formatterFor(this.format);
  }

  async send(batch: OutgoingBatch): Promise<SendReport> {
    let endpoint: HttpEndpoint;
    let headers: Record<string, string>;
    try {
      endpoint = this.#endpointNow();
      headers = { authorization: this.#authorization(), 'content-type': 'application/x-ndjson' };
    } catch (err) {
      return localFailure(batch, err);
    }
    const path = bulkPath(endpoint.basePath, this.#es.pipeline);
    const serialized: SerializedEvent[] = batch.events.map((e) => {
      const text = bulkEntry(this.#target, e.id, esDocument(e, this.#format(e), batch.meta, this.format));
      return { seq: e.ledger_seq, text, bytes: Buffer.byteLength(text) };
    });
    return deliverInChunks(
      serialized,
      { maxBytes: this.#entry.spec.batch.bytes },
      async (chunk): Promise<ChunkAnswer> => {
        const res = await endpoint.send('POST', path, headers, chunk.map((e) => e.text).join(''));
        return classifyBulkAnswer(res.status, res.text, res.headers['retry-after'], Date.now(), chunk.length);
      },
    );
  }

  /** GET / answers only with valid credentials, so a wrong key shows at start. */
  async check(): Promise<DeliveryFailure | null> {
    try {
      const endpoint = this.#endpointNow();
      const res = await endpoint.send('GET', `${endpoint.basePath}/`, {
        authorization: this.#authorization(),
      });
      return res.status === 200
        ? null
        : httpStatusFailure(res.status, res.text.slice(0, 200) || `HTTP ${res.status}`);
    } catch (err) {
      return networkFailure(err);
    }
  }

  async close(): Promise<void> {
    await this.#endpoint?.close();
  }

  #authorization(): string {
    if (this.#es.apiKey) {
      const key = this.#readSecret(this.#es.apiKey);
      return `ApiKey ${key.includes(':') ? Buffer.from(key).toString('base64') : key}`;
    }
    const password = this.#readSecret(this.#es.password!);
    return `Basic ${Buffer.from(`${this.#es.username}:${password}`).toString('base64')}`;
  }

  #endpointNow(): HttpEndpoint {
    this.#endpoint ??= new HttpEndpoint(this.#es.endpoint, {
      connections: this.#entry.spec.concurrency + 1,
      timeoutMs: this.#entry.spec.timeoutMs,
      tls: endpointTls(this.#entry.spec.tls, this.#readSecret),
    });
    return this.#endpoint;
  }
}
