// The formatter a sink uses, by name; each takes a (redacted) ledger event and returns a JSON object.
import type { SinkFormat } from '../../ledger/sinks/spec.ts';
import type { LedgerEvent } from '../ledger-event.ts';
import { caracalEvent } from './caracal.ts';
import { ecsEvent } from './ecs.ts';
import { ocsfEvent } from './ocsf.ts';

export type EventFormatter = (e: LedgerEvent) => Record<string, unknown>;

const FORMATTERS: Record<SinkFormat, EventFormatter> = {
  caracal: caracalEvent,
  ecs: ecsEvent,
  ocsf: ocsfEvent,
};

export function formatterFor(format: SinkFormat): EventFormatter {
  return FORMATTERS[format];
}
