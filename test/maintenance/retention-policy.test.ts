// Retention policy, pure: the effective number of days, partition names, and which days are past it.
import { describe, expect, it } from 'vitest';
import { ProducerSequences, producerSequenceOf } from '../../ledger/producer-completeness.ts';
import {
  effectivePolicy,
  partitionDay,
  partitionsAhead,
  partitionsPastRetention,
} from '../../ledger/retention-policy.ts';
import { TombstoneIndex } from '../../ledger/tombstone.ts';

describe('retention policy', () => {
  it('uses the setting only below the ceiling', () => {
    expect(effectivePolicy(365, null)).toEqual({ retention_days: 365, max_days: 365, source: 'ceiling' });
    expect(effectivePolicy(365, 30)).toEqual({ retention_days: 30, max_days: 365, source: 'setting' });
    expect(effectivePolicy(20, 30)).toEqual({ retention_days: 20, max_days: 20, source: 'ceiling' });
  });

  it('reads daily partition names and nothing else', () => {
    expect(partitionDay('audit_events_p20260131')).toBe('2026-01-31');
    expect(partitionDay('audit_events_p20260230')).toBeNull();
    expect(partitionDay('audit_events_default')).toBeNull();
    expect(partitionDay('audit_events_p2026013')).toBeNull();
  });

  it('drops a day only once all of it is older than the retention window', () => {
    const now = Date.UTC(2026, 2, 31, 12, 0); // 2026-03-31T12:00Z
    const names = [
      'audit_events_p20260228',
      'audit_events_p20260229x',
      'audit_events_p20260301',
      'audit_events_p20260302',
      'audit_events_default',
    ];
    // 30 days: the cutoff is 2026-03-01T12:00Z; 2026-03-01 still has hours inside the window
    expect(partitionsPastRetention(names, now, 30)).toEqual([
      { name: 'audit_events_p20260228', day: '2026-02-28' },
    ]);
    expect(partitionsPastRetention(names, now, 29).map((p) => p.day)).toEqual(['2026-02-28', '2026-03-01']);
  });

  it('keeps yesterday, today and the days ahead created', () => {
    expect(partitionsAhead(Date.UTC(2026, 11, 31, 23), 2)).toEqual([
      'audit_events_p20261230',
      'audit_events_p20261231',
      'audit_events_p20270101',
      'audit_events_p20270102',
    ]);
  });
});

describe('producer completeness', () => {
  it('reads producer_id and producer_seq from the top level of metadata only', () => {
    expect(producerSequenceOf('{"producer_id": "sts-1", "producer_seq": 7}')).toEqual({
      id: 'sts-1',
      seq: 7,
    });
    expect(producerSequenceOf('{"nested": {"producer_id": "x", "producer_seq": 1}}')).toBeNull();
    expect(producerSequenceOf('{"producer_id": "x", "producer_seq": "7"}')).toBeNull();
    expect(producerSequenceOf('{"producer_id": "x", "producer_seq": 0}')).toBeNull();
    expect(producerSequenceOf(null)).toBeNull();
  });

  it('finds gaps between stored sequence numbers and before the first, where the event after them is', () => {
    const p = new ProducerSequences();
    for (const [seq, chain] of [
      [3, 30],
      [4, 31],
      [7, 32],
      [8, 33],
      [8, 34],
    ] as const)
      p.observe({ id: 'a', seq }, 'z', chain);
    for (const seq of [1, 2, 3]) p.observe({ id: 'b', seq }, 'y', seq);
    expect(p.gaps(null)).toEqual([
      { producer_id: 'a', from: 1, to: 2, zone_id: 'z', chain_seq: 30, event_seq: 3 },
      { producer_id: 'a', from: 5, to: 6, zone_id: 'z', chain_seq: 32, event_seq: 7 },
    ]);
  });

  it('does not report what retention removed', () => {
    const p = new ProducerSequences();
    for (const seq of [4, 5]) p.observe({ id: 'a', seq }, 'z', seq);
    const index = new TombstoneIndex();
    index.add({
      type: 'ledgerhub.tombstone',
      version: 1,
      partition: 'audit_events_p20260101',
      day: '2026-01-01',
      range: { from: '', to: '' },
      dropped_at: '',
      policy: { retention_days: 1, max_days: 1, source: 'ceiling' },
      event_count: 3,
      zones: [],
      producers: [{ producer_id: 'a', count: 3, runs: [[1, 3]] }],
    });
    expect(p.gaps(index)).toEqual([]);
  });
});
