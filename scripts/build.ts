// `npm run build`: the production form of the code for the container image. TypeScript is compiled to
// JavaScript (no type stripping at run time: less memory per thread, faster start) and the files the
// code reads at run time (migrations, console assets, package.json) are copied beside it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
const assets: [string, string][] = [
  ['ledger/migrations', 'ledger/migrations'],
  ['api/console', 'api/console'],
  ['package.json', 'package.json'],
];
for (const [from, to] of assets) {
  const src = join(root, from);
  if (!existsSync(src)) continue;
  mkdirSync(join(dist, to, '..'), { recursive: true });
  cpSync(src, join(dist, to), { recursive: true, filter: (p) => !p.endsWith('.ts') });
}
console.log(`built ${dist}`);
