// Writes docs/configuration.md from the role key definitions (`npm run gen:docs`); a test fails when
// the checked-in file differs, so the table can never drift from the code.
import { writeFileSync } from 'node:fs';
import { ROLE_CONFIGS } from '../ledger/config/catalog.ts';

export function renderConfigDocs(): string {
  const lines = [
    '# Configuration',
    '',
    'Generated from `ledger/config/*.ts` by `npm run gen:docs`; do not edit by hand.',
    '',
    'Every role reads environment variables. Keys marked *secret* are never logged or rendered into',
    'ConfigMaps, and can also be given as a file path in `<KEY>_FILE` (for mounted Kubernetes Secrets).',
    'An invalid value stops the role at start-up with an error naming the key, the value and what was',
    'expected (exit code 3).',
    '',
    '## All keys',
    '',
    '| Key | Default | Roles | Meaning |',
    '| --- | --- | --- | --- |',
  ];
  const seen = new Map<string, { def: (typeof ROLE_CONFIGS)[number]['keys'][string]; roles: string[] }>();
  for (const { role, keys } of ROLE_CONFIGS) {
    for (const def of Object.values(keys)) {
      const entry = seen.get(def.env) ?? { def, roles: [] };
      entry.roles.push(role);
      seen.set(def.env, entry);
    }
  }
  for (const [env, { def, roles }] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    const meaning = `${def.doc}${def.secret ? ' *secret*' : ''} Expects ${def.expects}.`;
    lines.push(
      `| \`${env}\` | ${def.defaultDoc.replaceAll('|', '\\|')} | ${roles.join(', ')} | ${meaning.replaceAll('|', '\\|')} |`,
    );
  }
  lines.push('', '## By role', '');
  for (const { role, summary, keys } of ROLE_CONFIGS) {
    lines.push(
      `- **${role}**, ${summary}: ${Object.values(keys)
        .map((k) => `\`${k.env}\``)
        .join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('../docs/configuration.md', import.meta.url).pathname;
  writeFileSync(path, renderConfigDocs());
  console.log(`wrote ${path}`);
}
