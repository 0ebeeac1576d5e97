import { describe, expect, it } from 'vitest';
import {
  DeadLetterReason,
  deadLetterFields,
  isReplayable,
  parseDeadLetter,
  reasonKind,
} from '../../ledger/dead-letter.ts';
import { decodeStreamEntry } from '../../ledger/stream-codec.ts';

describe('dead letters', () => {
  it("uses Caracal's reason strings and replays only transient and permanent Postgres failures", () => {
    expect(DeadLetterReason.missingData).toBe('missing_data_field');
    expect(DeadLetterReason.jsonParseError('bad')).toBe('json_parse_error:bad');
    expect(isReplayable(DeadLetterReason.transientExceeded('57P01 down'))).toBe(true);
    expect(isReplayable(DeadLetterReason.pgPermanent('23514 check'))).toBe(true);
    for (const r of [
      DeadLetterReason.hmacFailed,
      DeadLetterReason.tamperOnReplay,
      DeadLetterReason.tooLarge(2, 1),
    ]) {
      expect(isReplayable(r)).toBe(false);
    }
    expect(reasonKind('json_parse_error:Unexpected token')).toBe('json_parse_error');
  });

  it('keeps reasons to one bounded line, whatever the error text', () => {
    const reason = DeadLetterReason.jsonParseError(`line1\nline2\r\u0000${'x'.repeat(1000)}`);
    expect(reason).not.toMatch(/[\r\n\u0000]/);
    expect(reason.length).toBeLessThan(330);
  });

  it('copies every source field, puts the event id in src_id and keeps the stream id', () => {
    const entry = decodeStreamEntry(
      '1700000000000-3',
      ['id', 'evt-1', 'data', '{x', 'sig', 'ff'].map((s) => Buffer.from(s)),
    );
    const flat = deadLetterFields(entry, 'json_parse_error:x', 42).map(String);
    const dl = parseDeadLetter('1700000000001-0', flat);
    expect(dl.reason).toBe('json_parse_error:x');
    expect(dl.receivedAt).toBe(42);
    expect(dl.source).toEqual({ id: 'evt-1', data: '{x', sig: 'ff' });
    expect(dl.sourceStreamId).toBe('1700000000000-3');
    expect(flat.filter((f) => f === 'src_id')).toHaveLength(1);
  });

  it('falls back to the stream id in src_id when the source had no id field', () => {
    const entry = decodeStreamEntry('5-0', [Buffer.from('data'), Buffer.from('{}')]);
    const dl = parseDeadLetter('6-0', deadLetterFields(entry, 'r', 1).map(String));
    expect(dl.source.id).toBe('5-0');
  });
});
