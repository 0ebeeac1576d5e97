// Enforces the design's import rules: cli -> worker|forwarder|api|operator -> ledger, no role importing
// another role, ledger depending on nothing else in the repo, production code never importing test
// code (except dev-only modules), and no import cycles anywhere.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const SOURCE_DIRS = ['ledger', 'worker', 'forwarder', 'api', 'operator', 'cli', 'test', 'bench', 'scripts'];
const ROLES = ['worker', 'forwarder', 'api', 'operator'];

function walk(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (spec?.startsWith('.')) out.push(relative(ROOT, resolve(dirname(file), spec)));
  }
  return out;
}

const top = (p: string) => p.split('/')[0] ?? '';
const isDevOnly = (p: string) => /(^|\/)dev(-[\w-]+)?\.ts$/.test(p);

function violation(from: string, to: string): string | null {
  const a = top(from);
  const b = top(to);
  if (a === 'test' || a === 'bench' || a === 'scripts') return null;
  if (b === 'test' && !isDevOnly(from))
    return 'production code imports test code (only dev-only modules may)';
  if (a === 'ledger' && b !== 'ledger' && b !== 'test')
    return 'ledger/ must not depend on anything else in the repo';
  if (ROLES.includes(a) && b !== a && b !== 'ledger' && b !== 'test')
    return `role ${a}/ must import only ledger/`;
  if (b === 'cli' && a !== 'cli') return 'only cli/ may import cli/';
  return null;
}

const files = SOURCE_DIRS.flatMap((d) => walk(join(ROOT, d))).map((f) => relative(ROOT, f));
const graph = new Map(files.map((f) => [f, importsOf(join(ROOT, f))]));
const problems: string[] = [];

for (const [from, tos] of graph) {
  for (const to of tos) {
    const why = violation(from, to);
    if (why) problems.push(`${from} -> ${to}: ${why}`);
  }
}

// cycles: iterative DFS with colours
const colour = new Map<string, 0 | 1 | 2>();
const stack: string[] = [];
function visit(node: string): void {
  colour.set(node, 1);
  stack.push(node);
  for (const next of graph.get(node) ?? []) {
    if (!graph.has(next)) continue;
    const c = colour.get(next) ?? 0;
    if (c === 1) problems.push(`import cycle: ${[...stack.slice(stack.indexOf(next)), next].join(' -> ')}`);
    else if (c === 0) visit(next);
  }
  stack.pop();
  colour.set(node, 2);
}
for (const f of files) if (!colour.get(f)) visit(f);

if (problems.length > 0) {
  console.error(`import rules: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`import rules: ${files.length} files, no cycles, layering respected`);
