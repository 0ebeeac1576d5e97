// Thrift's compact protocol, write side: the subset Parquet's page headers and file metadata use
// (i16, i32, i64, bool, binary, struct and list fields; integers up to 2^53).

/** A struct field: id, type, value. Fields must come in increasing id order; undefined ones are left out. */
export type ThriftField =
  | [id: number, type: 'i16' | 'i32' | 'i64', value: number | undefined]
  | [id: number, type: 'bool', value: boolean | undefined]
  | [id: number, type: 'binary', value: string | Uint8Array | undefined]
  | [id: number, type: 'struct', value: ThriftStruct | undefined]
  | [id: number, type: 'list', value: ThriftList | undefined];
export type ThriftStruct = ThriftField[];
export type ThriftList =
  | { i32: readonly number[] }
  | { binary: readonly (string | Uint8Array)[] }
  | { struct: readonly ThriftStruct[] };

/** Compact-protocol type codes (as field types; a bool field carries its value in the code). */
const CT = { TRUE: 1, FALSE: 2, I16: 4, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

/** Unsigned LEB128 up to 2^53 (arithmetic, not bit operators, which stop at 32 bits). */
export function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

class CompactWriter {
  readonly bytes: number[] = [];

  varint(n: number): void {
    pushVarint(this.bytes, n);
  }

  zigzag(n: number): void {
    if (!Number.isSafeInteger(n)) throw new RangeError(`thrift: ${n} is not a safe integer`);
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  binary(v: string | Uint8Array): void {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.varint(b.length);
    for (const x of b) this.bytes.push(x);
  }

  struct(fields: ThriftStruct): void {
    let last = 0;
    for (const [id, type, value] of fields) {
      if (value === undefined) continue;
      if (id <= last) throw new Error(`thrift: field ${id} after ${last}`);
      const code =
        type === 'bool'
          ? value
            ? CT.TRUE
            : CT.FALSE
          : { i16: CT.I16, i32: CT.I32, i64: CT.I64, binary: CT.BINARY, struct: CT.STRUCT, list: CT.LIST }[
              type
            ];
      if (id - last <= 15) this.bytes.push(((id - last) << 4) | code);
      else {
        this.bytes.push(code);
        this.zigzag(id);
      }
      last = id;
      this.#value(type, value);
    }
    this.bytes.push(0); // stop
  }

  #value(type: ThriftField[1], value: ThriftField[2]): void {
    if (type === 'i16' || type === 'i32' || type === 'i64') this.zigzag(value as number);
    else if (type === 'binary') this.binary(value as string | Uint8Array);
    else if (type === 'struct') this.struct(value as ThriftStruct);
    else if (type === 'list') this.#list(value as ThriftList);
  }

  #list(list: ThriftList): void {
    const [code, items] =
      'i32' in list
        ? [CT.I32, list.i32]
        : 'binary' in list
          ? [CT.BINARY, list.binary]
          : [CT.STRUCT, list.struct];
    if (items.length < 15) this.bytes.push((items.length << 4) | code);
    else {
      this.bytes.push(0xf0 | code);
      this.varint(items.length);
    }
    for (const item of items) {
      if (code === CT.I32) this.zigzag(item as number);
      else if (code === CT.BINARY) this.binary(item as string | Uint8Array);
      else this.struct(item as ThriftStruct);
    }
  }
}

/** A struct serialised with the compact protocol. */
export function compactStruct(fields: ThriftStruct): Buffer {
  const w = new CompactWriter();
  w.struct(fields);
  return Buffer.from(w.bytes);
}
