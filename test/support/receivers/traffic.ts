// Counters of what reached a receiver: requests, request-body bytes on the wire, and answers by status.
// Kept apart from stored payloads so they still count what was refused, faulted or dropped.

export interface TrafficSnapshot {
  requests: number;
  /** Request-body bytes as sent (before any Content-Encoding is undone). */
  bytes: number;
  responsesByStatus: Record<number, number>;
}

export class TrafficCounters {
  requests = 0;
  bytes = 0;
  readonly responsesByStatus = new Map<number, number>();

  countRequest(): void {
    this.requests += 1;
  }

  countBytes(n: number): void {
    this.bytes += n;
  }

  countResponse(status: number): void {
    this.responsesByStatus.set(status, (this.responsesByStatus.get(status) ?? 0) + 1);
  }

  snapshot(): TrafficSnapshot {
    return {
      requests: this.requests,
      bytes: this.bytes,
      responsesByStatus: Object.fromEntries(this.responsesByStatus),
    };
  }

  clear(): void {
    this.requests = 0;
    this.bytes = 0;
    this.responsesByStatus.clear();
  }
}
