// Cuts the COPY text of an export batch (rows in ledger_seq order, ledger_seq the last column) into
// one block per export unit, without parsing the rows: the encoding threads parse them.

/** Export units in order: each takes the rows with ledger_seq up to its lastSeq. */
export interface UnitBounds {
  lastSeq: number;
}

/**
 * Feed COPY chunks in order, then call end(). onUnit gets every unit in order, exactly once, with the
 * COPY text of its rows (complete lines; empty when the unit has no rows) in a buffer that owns its
 * whole ArrayBuffer, so it can be transferred to another thread.
 */
export class CopyUnitSplitter {
  readonly #units: readonly UnitBounds[];
  readonly #onUnit: (index: number, text: Buffer) => void;
  #unit = 0;
  /** Complete lines of the current unit, as slices of the chunks they arrived in. */
  #lines: Buffer[] = [];
  /** The start of a line whose newline has not arrived yet. */
  #partial: Buffer | null = null;

  constructor(units: readonly UnitBounds[], onUnit: (index: number, text: Buffer) => void) {
    this.#units = units;
    this.#onUnit = onUnit;
  }

  push(chunk: Buffer): void {
    const buf = this.#partial ? Buffer.concat([this.#partial, chunk]) : chunk;
    this.#partial = null;
    let start = 0; // first byte of the current unit's lines not yet taken from buf
    let line = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, line);
      if (nl === -1) break;
      const seq = lastFieldNumber(buf, line, nl);
      if (seq > this.#lastSeq()) {
        if (line > start) this.#lines.push(buf.subarray(start, line));
        start = line;
        while (seq > this.#lastSeq()) this.#finishUnit();
      }
      line = nl + 1;
    }
    if (line > start) this.#lines.push(buf.subarray(start, line));
    if (line < buf.length) this.#partial = Buffer.from(buf.subarray(line));
  }

  /** After the last chunk: hands out the current and every remaining unit. */
  end(): void {
    if (this.#partial !== null) throw new Error('COPY output ended inside a row');
    while (this.#unit < this.#units.length) this.#finishUnit();
  }

  #lastSeq(): number {
    const u = this.#units[this.#unit];
    if (u === undefined) throw new Error('a COPY row lies beyond the last export unit');
    return u.lastSeq;
  }

  #finishUnit(): void {
    const lines = this.#lines;
    this.#lines = [];
    this.#onUnit(this.#unit++, ownedCopy(lines));
  }
}

/** The unsigned integer after the last tab of the line [from, nl). */
function lastFieldNumber(buf: Buffer, from: number, nl: number): number {
  let i = nl - 1;
  let value = 0;
  let scale = 1;
  for (; i >= from; i--) {
    const c = buf[i]!;
    if (c === 0x09) break;
    if (c < 0x30 || c > 0x39) throw new Error(`unexpected ledger_seq text in COPY row at byte ${i}`);
    value += (c - 0x30) * scale;
    scale *= 10;
  }
  if (i < from || scale === 1) throw new Error('a COPY row without a ledger_seq column');
  return value;
}

/** The lines concatenated into a fresh, unpooled buffer (the chunks' memory stays with the socket). */
function ownedCopy(lines: Buffer[]): Buffer {
  let n = 0;
  for (const l of lines) n += l.length;
  const out = Buffer.allocUnsafeSlow(n);
  let at = 0;
  for (const l of lines) at += l.copy(out, at);
  return out;
}
