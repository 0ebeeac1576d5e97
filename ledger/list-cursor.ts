// The audit list's opaque cursor, as Caracal encodes it: base64url of {"ts": ISO, "id": event_id},
// meaning "(occurred_at, id) < (ts, id)". Anything else is refused as invalid_cursor.
import { parseOccurredAt } from './chain.ts';

export interface ListCursor {
  ts: string;
  id: string;
}

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify({ ts: c.ts, id: c.id })).toString('base64url');
}

/** Null when the text is not a cursor this server could have issued. */
export function decodeCursor(text: string): ListCursor | null {
  if (text.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const { ts, id } = v as Record<string, unknown>;
    if (typeof ts !== 'string' || typeof id !== 'string' || id.length === 0 || id.length > 255) return null;
    const parsed = parseOccurredAt(ts);
    return parsed ? { ts: parsed.iso, id } : null;
  } catch {
    return null;
  }
}
