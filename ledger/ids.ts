// Identifiers as Caracal producers make them: UUIDv7 (time-ordered, so a request id also says when).
import { randomBytes } from 'node:crypto';

/** RFC 9562 UUIDv7 for the given millisecond timestamp. `random` supplies 10 random bytes when given. */
export function uuidv7(ms = Date.now(), random: () => number = () => randomBytes(1)[0]!): string {
  const b = new Uint8Array(16);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  for (let i = 6; i < 16; i++) b[i] = random() & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The millisecond timestamp inside a UUIDv7, or null for anything else. */
export function uuidv7Time(id: string): number | null {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.exec(id);
  if (!m) return null;
  return Number.parseInt(m[1]! + m[2]!, 16);
}
