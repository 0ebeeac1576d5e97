// A renderer for the subset of Helm's Go templates the ledgerhub chart uses (helm is not installed
// here): actions with whitespace trimming, comments, define/include, if/else, range, and the functions
// default, quote, printf, nindent, indent, toYaml, trunc, trimSuffix, not, and, or, eq. Anything else
// throws, so a template that strays from the subset fails its test instead of rendering wrongly.
// scripts/kind-e2e.sh runs the real `helm lint` and `helm template` where helm exists.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

type Value = unknown;
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'out'; expr: string }
  | { kind: 'if'; branches: { cond: string | null; body: Node[] }[] }
  | { kind: 'range'; expr: string; body: Node[] };

interface Token {
  text?: string;
  action?: string;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let rest = source;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      tokens.push({ text: rest });
      break;
    }
    const close = actionEnd(rest, open + 2);
    let text = rest.slice(0, open);
    let action = rest.slice(open + 2, close);
    let after = rest.slice(close + 2);
    if (action.startsWith('-')) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    if (action.endsWith('-')) {
      action = action.slice(0, -1);
      after = after.replace(/^\s+/, '');
    }
    if (text) tokens.push({ text });
    tokens.push({ action: action.trim() });
    rest = after;
  }
  // trimming may make neighbouring texts of a later action empty: merge is not needed
  return tokens;
}

/** Where the action starting at `from` ends (`}}` outside string literals). */
function actionEnd(source: string, from: number): number {
  let quoted = false;
  for (let i = from; i < source.length - 1; i++) {
    if (source[i] === '"' && source[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && source[i] === '}' && source[i + 1] === '}') return i;
  }
  throw new Error('unclosed action');
}

function build(tokens: Token[], defines: Map<string, Node[]>): Node[] {
  let i = 0;
  const block = (stops: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.text !== undefined) {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const a = t.action!;
      if (a.startsWith('/*')) continue;
      const word = a.split(/\s+/)[0]!;
      if (stops.includes(word)) return { nodes, stop: a };
      if (word === 'define') {
        const name = JSON.parse(a.slice(6).trim()) as string;
        defines.set(name, block(['end']).nodes);
      } else if (word === 'if') {
        const branches: { cond: string | null; body: Node[] }[] = [];
        let cond: string | null = a.slice(2).trim();
        for (;;) {
          const b = block(['else', 'end']);
          branches.push({ cond, body: b.nodes });
          if (b.stop === 'end') break;
          cond = null;
        }
        nodes.push({ kind: 'if', branches });
      } else if (word === 'range') {
        nodes.push({ kind: 'range', expr: a.slice(5).trim(), body: block(['end']).nodes });
      } else if (word === 'end' || word === 'else') {
        throw new Error(`unexpected {{ ${a} }}`);
      } else nodes.push({ kind: 'out', expr: a });
    }
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function splitWords(expr: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < expr.length) {
    if (/\s/.test(expr[i]!)) {
      i++;
      continue;
    }
    if (expr[i] === '"') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== '"') j += expr[j] === '\\' ? 2 : 1;
      words.push(expr.slice(i, j + 1));
      i = j + 1;
    } else if (expr[i] === '(') {
      let depth = 0;
      let j = i;
      for (; j < expr.length; j++) {
        if (expr[j] === '(') depth++;
        if (expr[j] === ')' && --depth === 0) break;
      }
      words.push(expr.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < expr.length && !/\s/.test(expr[j]!)) j++;
      words.push(expr.slice(i, j));
      i = j;
    }
  }
  return words;
}

function splitPipes(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' && expr[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === '|' && depth === 0) {
      parts.push(expr.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts;
}

const indentLines = (s: string, n: number) =>
  s
    .split('\n')
    .map((l) => (l ? ' '.repeat(n) + l : l))
    .join('\n');

export class HelmTemplates {
  readonly #defines = new Map<string, Node[]>();
  readonly #files = new Map<string, Node[]>();

  constructor(templatesDir: string) {
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path, `${rel}${name}/`);
        else this.#files.set(`${rel}${name}`, build(tokenize(readFileSync(path, 'utf8')), this.#defines));
      }
    };
    walk(templatesDir, '');
  }

  /** Every manifest template rendered (helpers and NOTES.txt skipped), as YAML text by file. */
  render(root: Record<string, Value>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [file, nodes] of this.#files) {
      if (file.startsWith('_') || !file.endsWith('.yaml')) continue;
      out[file] = this.#nodes(nodes, root, root);
    }
    return out;
  }

  /** The rendered objects, all files, in file order. */
  objects(root: Record<string, Value>): Record<string, Value>[] {
    return Object.values(this.render(root)).flatMap((text) =>
      text
        .split(/^---$/m)
        .map((doc) => parse(doc) as Record<string, Value> | null)
        .filter((d): d is Record<string, Value> => d !== null && d !== undefined),
    );
  }

  #nodes(nodes: Node[], dot: Value, root: Record<string, Value>): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'out') out += this.#string(this.#pipeline(n.expr, dot, root));
      else if (n.kind === 'if') {
        const branch = n.branches.find((b) => b.cond === null || truthy(this.#pipeline(b.cond, dot, root)));
        if (branch) out += this.#nodes(branch.body, dot, root);
      } else {
        const items = this.#pipeline(n.expr, dot, root);
        for (const item of (items as Value[] | undefined) ?? []) out += this.#nodes(n.body, item, root);
      }
    }
    return out;
  }

  #string(v: Value): string {
    if (v === undefined || v === null) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }

  #pipeline(expr: string, dot: Value, root: Record<string, Value>): Value {
    let value: Value;
    splitPipes(expr).forEach((part, i) => {
      const words = splitWords(part);
      const args = words.slice(1).map((w) => this.#term(w, dot, root));
      if (i > 0) args.push(value);
      value =
        words.length === 1 && i === 0 ? this.#term(words[0]!, dot, root) : this.#call(words[0]!, args, root);
    });
    return value;
  }

  #term(word: string, dot: Value, root: Record<string, Value>): Value {
    if (word.startsWith('"')) return JSON.parse(word);
    if (/^-?\d+$/.test(word)) return Number(word);
    if (word.startsWith('(')) return this.#pipeline(word.slice(1, -1), dot, root);
    if (word === '.') return dot;
    if (word.startsWith('.')) {
      let v: Value =
        word.startsWith('.Values') || word.startsWith('.Release') || word.startsWith('.Chart') ? root : dot;
      for (const key of word.slice(1).split('.')) v = (v as Record<string, Value> | undefined)?.[key];
      return v;
    }
    return this.#call(word, [], root);
  }

  #call(fn: string, args: Value[], root: Record<string, Value>): Value {
    const [a, b] = args;
    switch (fn) {
      case 'include': {
        const body = this.#defines.get(a as string);
        if (!body) throw new Error(`no template named ${String(a)}`);
        return this.#nodes(body, b, root);
      }
      case 'printf': {
        let k = 1;
        return String(a).replace(/%[sd]/g, () => this.#string(args[k++]));
      }
      case 'default':
        return truthy(b) ? b : a;
      case 'quote':
        return JSON.stringify(this.#string(a));
      case 'toYaml':
        return stringify(a).replace(/\n$/, '');
      case 'nindent':
        return `\n${indentLines(String(b), Number(a))}`;
      case 'indent':
        return indentLines(String(b), Number(a));
      case 'trunc':
        return String(b).slice(0, Number(a));
      case 'trimSuffix':
        return String(b).endsWith(String(a)) ? String(b).slice(0, -String(a).length) : b;
      case 'not':
        return !truthy(a);
      case 'and':
        return args.every(truthy);
      case 'or':
        return args.some(truthy);
      case 'eq':
        return a === b;
      default:
        throw new Error(`template function ${fn} is not supported by this renderer`);
    }
  }
}

/** The root Helm passes to templates: .Values merged over values.yaml, .Release and .Chart. */
export function helmRoot(
  chartDir: string,
  overrides: Record<string, Value> = {},
  release = { Name: 'ledgerhub', Namespace: 'ledgerhub-system' },
): Record<string, Value> {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, Value>;
  const values = mergeValues(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')), overrides);
  return {
    Values: values,
    Release: { ...release, Service: 'Helm' },
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
  };
}

/** Helm's values coalescing: maps merge key by key, everything else is replaced. */
export function mergeValues(base: Value, over: Value): Value {
  if (over === undefined) return base;
  if (
    base &&
    over &&
    typeof base === 'object' &&
    typeof over === 'object' &&
    !Array.isArray(base) &&
    !Array.isArray(over)
  ) {
    const out: Record<string, Value> = { ...(base as Record<string, Value>) };
    for (const [k, v] of Object.entries(over as Record<string, Value>)) out[k] = mergeValues(out[k], v);
    return out;
  }
  return over;
}
