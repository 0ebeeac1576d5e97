// The `filter_path` response filter Elasticsearch applies to every JSON answer: comma-separated
// dotted paths, `*` within a segment, `**` for any depth; objects and arrays left empty are dropped.

export function applyFilterPath(value: unknown, filterPath: string | null): unknown {
  if (filterPath === null || filterPath.trim() === '') return value;
  const patterns = filterPath
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith('-'))
    .map((p) => p.split('.'));
  if (patterns.length === 0) return value;
  return filter(value, patterns) ?? {};
}

function filter(value: unknown, patterns: string[][]): unknown {
  if (patterns.some((p) => p.length === 0)) return value;
  if (Array.isArray(value)) {
    const kept = value.map((v) => filter(v, patterns)).filter((v) => v !== undefined);
    return kept.length > 0 ? kept : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const next: string[][] = [];
    for (const [head, ...rest] of patterns) {
      if (head === '**') {
        next.push([head, ...rest]);
        if (rest.length > 0 && segmentMatches(rest[0] as string, key)) next.push(rest.slice(1));
        else if (rest.length === 0) next.push([]);
      } else if (head !== undefined && segmentMatches(head, key)) {
        next.push(rest);
      }
    }
    if (next.length === 0) continue;
    const kept = filter(child, next);
    if (kept !== undefined) out[key] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function segmentMatches(pattern: string, key: string): boolean {
  if (!pattern.includes('*')) return pattern === key;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(key);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
