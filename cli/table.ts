// Plain-text tables for the CLI: columns sized to their content (or fixed, so a followed stream of rows
// stays aligned), cells flattened to one line and clipped.
export interface TableOptions {
  /** Fixed column widths; otherwise each column is as wide as its widest cell, up to maxWidth. */
  widths?: number[];
  maxWidth?: number;
}

type Cell = string | number | null | undefined;

export function tableWidths(headers: string[], rows: Cell[][], maxWidth = 48): number[] {
  return headers.map((h, i) => Math.min(maxWidth, Math.max(h.length, ...rows.map((r) => text(r[i]).length))));
}

export function tableRow(cells: Cell[], widths: number[]): string {
  return cells
    .map((c, i) => clip(text(c), widths[i]!).padEnd(widths[i]!))
    .join('  ')
    .trimEnd();
}

export function renderTable(headers: string[], rows: Cell[][], opts: TableOptions = {}): string {
  const widths = opts.widths ?? tableWidths(headers, rows, opts.maxWidth);
  return [
    tableRow(
      headers.map((h) => h.toUpperCase()),
      widths,
    ),
    ...rows.map((r) => tableRow(r, widths)),
  ].join('\n');
}

function text(c: Cell): string {
  return c === null || c === undefined ? '-' : String(c).replace(/\s+/g, ' ');
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
