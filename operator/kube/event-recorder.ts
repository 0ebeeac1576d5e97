// Kubernetes Events (core/v1) about AuditPolicies and AuditSinks, as `kubectl describe` shows them. Events
// are emitted on condition transitions and applies only, so an unchanged object produces none; a
// failure to record one is logged and never fails a reconcile.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../ledger/runtime/log.ts';
import { FIELD_MANAGER } from '../api/group.ts';
import type { KubeObject } from './resources.ts';
import type { KubeRest } from './rest.ts';

export type EventType = 'Normal' | 'Warning';

const MESSAGE_MAX = 1024;

export class EventRecorder {
  readonly #rest: KubeRest;
  readonly #instance: string;
  readonly #log: Logger;

  constructor(rest: KubeRest, instance: string, log: Logger) {
    this.#rest = rest;
    this.#instance = instance;
    this.#log = log;
  }

  async record(about: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const namespace = about.metadata.namespace ?? 'default';
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${about.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`,
        namespace,
      },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        namespace,
        uid: about.metadata.uid,
      },
      type,
      reason,
      message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 1)}…` : message,
      source: { component: FIELD_MANAGER },
      reportingComponent: FIELD_MANAGER,
      reportingInstance: this.#instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.#rest.create(event);
    } catch (err) {
      this.#log.warn(
        { err: (err as Error).message, reason, object: about.metadata.name },
        'event not recorded',
      );
    }
  }
}
