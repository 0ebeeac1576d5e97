// Splitting one batch into requests by the sink's byte cap (pure): serialized events are packed in order
// into requests of at most `maxBytes` (plus per-request overhead); an event larger than the cap goes alone.

/** Half-open index ranges [start, end) into `sizes`. */
export function packRequests(
  sizes: readonly number[],
  maxBytes: number,
  overheadBytes = 0,
  separatorBytes = 0,
): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  let bytes = overheadBytes;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]! + (i > start ? separatorBytes : 0);
    if (i > start && bytes + size > maxBytes) {
      out.push([start, i]);
      start = i;
      bytes = overheadBytes + sizes[i]!;
    } else {
      bytes += size;
    }
  }
  if (start < sizes.length) out.push([start, sizes.length]);
  return out;
}
