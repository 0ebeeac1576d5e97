// Stand-in Splunk HTTP Event Collector: /services/collector/{event,health,ack} with Splunk's auth,
// channel, batch, indexer-ack and error-code rules (siem-wire.md §1), plus inspection and fault switches.

import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BoundedLog, DEFAULT_STORED_ENTRIES } from './bounded-log.ts';
import { CredentialRegistry } from './credentials.ts';
import { ArmedPlan, FaultSwitches } from './faults.ts';
import {
  type AckIndexing,
  AckLedger,
  DEFAULT_MAX_ACK_CHANNELS,
  DEFAULT_MAX_PENDING_ACKS_PER_CHANNEL,
  isChannelId,
} from './hec-acks.ts';
import { readHecCredential } from './hec-auth.ts';
import { type HecBatch, type HecEventInput, parseHecBatch } from './hec-batch.ts';
import { HEC_JSON_CONTENT_TYPE, HecCodes, hecFailureBody, hecNotFound, hecReply } from './hec-replies.ts';
import { type LoopbackServer, listenLoopback } from './http-server.ts';
import { receiverRequestListener } from './receiver-pipeline.ts';
import type { Reply } from './reply.ts';
import { decodeContent, type ReceivedBody } from './request-body.ts';
import { StateWatch } from './state-watch.ts';
import { TrafficCounters } from './traffic.ts';

/** [unconfirmed] Splunk Cloud is often quoted at ~1 MB per request; Enterprise defaults to 800 MiB. */
export const DEFAULT_HEC_MAX_CONTENT_LENGTH = 1024 * 1024;
export const DEFAULT_WAIT_MS = 5_000;

const EVENT_PATHS = new Set([
  '/services/collector',
  '/services/collector/event',
  '/services/collector/event/1.0',
]);
const HEALTH_PATHS = new Set(['/services/collector/health', '/services/collector/health/1.0']);
const ACK_PATH = '/services/collector/ack';

export interface HecTokenSettings {
  /** Indexes the token may name in events; absent means any. */
  indexes?: string[];
  /** Index for events that name none: this, else the first of `indexes`, else "main". */
  defaultIndex?: string;
  /** Indexer acknowledgement (useACK). */
  ack?: boolean;
  disabled?: boolean;
  /** Accept the token as `?token=` (otherwise code 16). */
  allowQueryString?: boolean;
}

export interface SplunkHecOptions {
  /** Token → settings. Default: one random GUID token with default settings. */
  tokens?: Record<string, HecTokenSettings>;
  /** Request body cap in bytes, on the wire and after gunzip; over it → 413 ([unconfirmed] status and body). */
  maxContentLength?: number;
  /**
   * Store the valid events before the first bad one of a rejected batch (Vector's behaviour;
   * [unconfirmed] for Splunk, see siem-wire.md §1.6). Default true.
   */
  acceptPartialPrefix?: boolean;
  /** When issued ack ids turn true. Default 'immediate'. */
  ackIndexing?: AckIndexing;
  /** Unqueried ack ids one channel may hold; beyond it /event answers 503 code 9 ([unconfirmed]). */
  maxPendingAcksPerChannel?: number;
  /** Ack channels tracked at once; the oldest is forgotten beyond it. */
  maxAckChannels?: number;
  /** Accepted events kept for inspection (oldest dropped first). */
  maxStoredEvents?: number;
  port?: number;
}

export interface HecRequestRecord {
  /** 1-based order of arrival among /event and /ack requests. */
  seq: number;
  path: string;
  receivedAt: Date;
  headers: IncomingHttpHeaders;
  token: string | undefined;
  channel: string | undefined;
  contentEncoding: string | undefined;
  /** Body bytes as sent. */
  wireBytes: number;
  status: number;
  /** The reply body. */
  reply: unknown;
  /** Events stored from this request. */
  storedEvents: number;
}

export interface HecStoredEvent extends HecEventInput {
  /** The index the event lands in (its own `index`, else the token's default). */
  index: string;
  positionInBatch: number;
  request: HecRequestRecord;
}

export interface HecPartialPlan {
  /** 0-based event of the next batch that has one at this position to refuse with code 6. */
  rejectEvent: number;
}

export class HecFaults extends FaultSwitches {
  readonly #partial = new ArmedPlan<HecPartialPlan>();
  readonly #refused: HecEventInput[] = [];
  readonly #tokens: CredentialRegistry<HecTokenSettings>;

  constructor(server: LoopbackServer, tokens: CredentialRegistry<HecTokenSettings>, acks: AckLedger) {
    super(server, tokens);
    this.#tokens = tokens;
    this.onReset(() => {
      this.#partial.disarm();
      this.#refused.length = 0;
      acks.restoreIndexing();
    });
  }

  /** The next batch with an event at `rejectEvent` gets 400 code 6 for it (events before it follow acceptPartialPrefix). */
  partial(plan: HecPartialPlan): void {
    if (!Number.isInteger(plan.rejectEvent) || plan.rejectEvent < 0) {
      throw new RangeError(`partial: rejectEvent must be a non-negative integer, got ${plan.rejectEvent}`);
    }
    this.#partial.arm(plan);
  }

  /** `from` becomes an unknown token (403 code 4); `to` takes over its settings. */
  rotateToken(from: string, to: string): void {
    this.#tokens.rotate(from, to);
  }

  /**
   * For the receiver: the armed partial plan if it applies to `events` (it has an event at the plan's
   * position); that event is then recorded as refused.
   */
  takePartial(events: HecEventInput[]): HecPartialPlan | undefined {
    const plan = this.#partial.takeIf((p) => p.rejectEvent < events.length);
    if (plan) this.#refused.push(events[plan.rejectEvent]!);
    return plan;
  }

  /** Events refused by partial() plans, oldest first (which batch a plan hits depends on arrival order). */
  refused(): HecEventInput[] {
    return [...this.#refused];
  }
}

export interface SplunkHecReceiver {
  readonly url: string;
  /** The first configured token. */
  readonly token: string;
  readonly faults: HecFaults;
  readonly traffic: TrafficCounters;
  readonly acks: {
    setIndexing(indexing: AckIndexing): void;
    /** Release every issued ack (for the 'never' policy). */
    indexPending(): void;
    /** Ack ids issued on `channel` and not yet reported true. */
    pending(channel: string): number[];
  };
  /** Retained accepted events, oldest first. */
  events(): HecStoredEvent[];
  /** Events ever accepted, including those dropped from the retained list. */
  readonly acceptedCount: number;
  readonly droppedCount: number;
  /** Retained /event and /ack requests, oldest first. */
  requests(): HecRequestRecord[];
  /** Resolves once `n` events have been accepted in total. */
  waitForEvents(n: number, timeoutMs?: number): Promise<HecStoredEvent[]>;
  /** Forgets stored events, requests, acks and counters (faults are reset separately). */
  clear(): void;
  stop(): Promise<void>;
}

export async function startSplunkHec(opts: SplunkHecOptions = {}): Promise<SplunkHecReceiver> {
  const tokenEntries = Object.entries(opts.tokens ?? { [randomUUID()]: {} });
  const firstToken = tokenEntries[0]?.[0];
  if (firstToken === undefined) throw new Error('startSplunkHec: tokens must name at least one token');
  const tokens = new CredentialRegistry(tokenEntries);
  const maxContentLength = opts.maxContentLength ?? DEFAULT_HEC_MAX_CONTENT_LENGTH;
  const acceptPartialPrefix = opts.acceptPartialPrefix ?? true;
  const acks = new AckLedger(
    opts.ackIndexing ?? 'immediate',
    opts.maxPendingAcksPerChannel ?? DEFAULT_MAX_PENDING_ACKS_PER_CHANNEL,
    opts.maxAckChannels ?? DEFAULT_MAX_ACK_CHANNELS,
  );
  const stored = new BoundedLog<HecStoredEvent>(opts.maxStoredEvents ?? DEFAULT_STORED_ENTRIES);
  const requestLog = new BoundedLog<HecRequestRecord>(opts.maxStoredEvents ?? DEFAULT_STORED_ENTRIES);
  const traffic = new TrafficCounters();
  const watch = new StateWatch();
  let requestSeq = 0;

  // The listener is bound below; no request can arrive before this function yields again.
  const server = await listenLoopback((req, res) => listener(req, res), opts.port ?? 0);
  const faults = new HecFaults(server, tokens, acks);
  const listener = receiverRequestListener({
    faults,
    traffic,
    maxContentLength: () => maxContentLength,
    jsonContentType: () => HEC_JSON_CONTENT_TYPE,
    isDelivery: (req, url) =>
      req.method === 'POST' && (EVENT_PATHS.has(url.pathname) || url.pathname === ACK_PATH),
    failureBody: hecFailureBody,
    handle,
  });

  function handle(req: IncomingMessage, url: URL, body: ReceivedBody): Reply {
    const path = url.pathname;
    if (req.method === 'GET' && HEALTH_PATHS.has(path)) return hecReply(HecCodes.healthy);
    const isEvent = req.method === 'POST' && EVENT_PATHS.has(path);
    const isAck = req.method === 'POST' && path === ACK_PATH;
    if (!isEvent && !isAck) return hecNotFound();

    requestSeq += 1;
    const record: HecRequestRecord = {
      seq: requestSeq,
      path,
      receivedAt: new Date(),
      headers: { ...req.headers },
      token: undefined,
      channel: undefined,
      contentEncoding: req.headers['content-encoding'],
      wireBytes: body.kind === 'complete' ? body.raw.length : body.receivedBytes,
      status: 0,
      reply: undefined,
      storedEvents: 0,
    };
    const reply = isEvent ? handleEvents(req, url, body, record) : handleAckQuery(req, url, body, record);
    record.status = reply.status;
    record.reply = reply.json ?? reply.text;
    requestLog.append(record);
    return reply;
  }

  function authenticate(req: IncomingMessage, url: URL, record: HecRequestRecord): Reply | HecTokenSettings {
    const credential = readHecCredential(req.headers.authorization, url.searchParams.get('token'));
    if (credential.kind === 'refused') return hecReply(credential.code);
    record.token = credential.token;
    const settings = tokens.lookup(credential.token);
    if (settings === undefined) return hecReply(HecCodes.invalidToken);
    if (settings.disabled) return hecReply(HecCodes.tokenDisabled);
    if (credential.via === 'query' && !settings.allowQueryString)
      return hecReply(HecCodes.queryStringAuthDisabled);
    return settings;
  }

  /** The request's channel, or the reply refusing it. */
  function readChannel(req: IncomingMessage, url: URL, required: boolean): Reply | string | undefined {
    const header = req.headers['x-splunk-request-channel'];
    const channel =
      (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('channel') ?? undefined;
    if (channel === undefined || channel === '') {
      return required ? hecReply(HecCodes.channelMissing) : undefined;
    }
    return isChannelId(channel) ? channel : hecReply(HecCodes.invalidChannel);
  }

  function decodeBody(req: IncomingMessage, body: ReceivedBody): Reply | string {
    if (body.kind === 'too-large') return tooLarge(body.declaredBytes ?? body.receivedBytes);
    // Vector's emulator: gzip or nothing; any other Content-Encoding (identity included) → empty 415.
    const decoded = decodeContent(body.raw, req.headers['content-encoding'], ['gzip'], maxContentLength);
    if (decoded.kind === 'unsupported-encoding') return { status: 415 };
    if (decoded.kind === 'too-large') return tooLarge(maxContentLength + 1);
    // Vector answers an undecodable gzip body with an empty 400.
    if (decoded.kind === 'corrupt') return { status: 400 };
    return decoded.bytes.toString('utf8');
  }

  /** [unconfirmed] Splunk's 413 body; this one names the size and the cap like splunkd's log line. */
  function tooLarge(bytes: number): Reply {
    return {
      status: 413,
      json: { text: `Content-Length of ${bytes} too large (maximum is ${maxContentLength})`, code: 413 },
    };
  }

  function handleEvents(req: IncomingMessage, url: URL, body: ReceivedBody, record: HecRequestRecord): Reply {
    const settings = authenticate(req, url, record);
    if ('status' in settings) return settings;
    const channel = readChannel(req, url, settings.ack === true);
    if (typeof channel === 'object') return channel;
    record.channel = channel;
    const text = decodeBody(req, body);
    if (typeof text !== 'string') return text;
    if (text.trim() === '') return hecReply(HecCodes.noData);

    const allowed = settings.indexes;
    const batch: HecBatch = parseHecBatch(text, (index) => allowed === undefined || allowed.includes(index));
    const injected = faults.takePartial(batch.events);
    if (injected) {
      batch.events = batch.events.slice(0, injected.rejectEvent);
      batch.error = {
        code: HecCodes.invalidDataFormat,
        eventNumber: injected.rejectEvent,
        detail: 'refused by faults.partial()',
      };
    }
    if (batch.error) {
      if (acceptPartialPrefix) store(batch.events, settings, record);
      return hecReply(batch.error.code, { invalidEventNumber: batch.error.eventNumber });
    }
    let ackId: number | undefined;
    if (settings.ack && channel !== undefined) {
      ackId = acks.issue(channel);
      if (ackId === undefined) return hecReply(HecCodes.serverBusy);
    }
    store(batch.events, settings, record);
    return hecReply(HecCodes.success, { ackId });
  }

  function store(events: HecEventInput[], settings: HecTokenSettings, record: HecRequestRecord): void {
    const fallbackIndex = settings.defaultIndex ?? settings.indexes?.[0] ?? 'main';
    events.forEach((event, positionInBatch) => {
      stored.append({ ...event, index: event.index ?? fallbackIndex, positionInBatch, request: record });
    });
    record.storedEvents = events.length;
    if (events.length > 0) watch.notify();
  }

  function handleAckQuery(
    req: IncomingMessage,
    url: URL,
    body: ReceivedBody,
    record: HecRequestRecord,
  ): Reply {
    const settings = authenticate(req, url, record);
    if ('status' in settings) return settings;
    if (!settings.ack) return hecReply(HecCodes.ackDisabled);
    const channel = readChannel(req, url, true);
    if (typeof channel !== 'string') return channel ?? hecReply(HecCodes.channelMissing);
    record.channel = channel;
    const text = decodeBody(req, body);
    if (typeof text !== 'string') return text;
    const ids = parseAckQuery(text);
    if (ids === undefined) return hecReply(HecCodes.invalidDataFormat);
    return { status: 200, json: { acks: acks.query(channel, ids) } };
  }

  return {
    url: server.url,
    token: firstToken,
    faults,
    traffic,
    acks: {
      setIndexing: (indexing) => acks.setIndexing(indexing),
      indexPending: () => acks.indexPending(),
      pending: (channel) => acks.pending(channel),
    },
    events: () => stored.list(),
    get acceptedCount() {
      return stored.appended;
    },
    get droppedCount() {
      return stored.dropped;
    },
    requests: () => requestLog.list(),
    waitForEvents: (n, timeoutMs = DEFAULT_WAIT_MS) =>
      watch.until(
        () => stored.appended >= n,
        () => stored.list(),
        timeoutMs,
        () => `waiting for ${n} HEC events, ${stored.appended} accepted`,
      ),
    clear() {
      stored.clear();
      requestLog.clear();
      acks.clear();
      traffic.clear();
      requestSeq = 0;
    },
    stop: () => server.close(),
  };
}

/** `{"acks":[0,1,2]}` → the ids; undefined when the body is not that shape. */
function parseAckQuery(text: string): number[] | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || !('acks' in body)) return undefined;
  const ids = (body as { acks: unknown }).acks;
  if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && id >= 0)) return undefined;
  return ids as number[];
}
