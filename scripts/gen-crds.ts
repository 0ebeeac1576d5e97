// Writes crds/*.yaml and the chart's CRD templates from the zod schemas in operator/api (`npm run
// gen:crds`); test/operator/crds.test.ts fails when the checked-in files differ from a fresh generation.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CRD_FILES, customResourceDefinitions, renderCrdFiles } from '../operator/crd/crd-manifest.ts';

const ROOT = new URL('..', import.meta.url).pathname;
export const CRDS_DIR = join(ROOT, 'crds');
export const CHART_CRDS_DIR = join(ROOT, 'charts/ledgerhub/templates/crds');

/**
 * The chart's copies: the same objects, kept on `helm uninstall` (deleting a CRD deletes every audit
 * policy and sink), installed and upgraded with the release unless `crds.install` is false.
 */
export function renderChartCrdTemplates(): Record<string, string> {
  const crds = customResourceDefinitions();
  return Object.fromEntries(
    Object.entries(CRD_FILES).map(([file, i]) => {
      const crd = structuredClone(crds[i]!) as { metadata: Record<string, unknown> };
      crd.metadata['annotations'] = { 'helm.sh/resource-policy': 'keep' };
      const body = stringify(crd, { lineWidth: 0 });
      return [
        file,
        '{{- /* Generated from operator/api/*.ts by `npm run gen:crds`; do not edit by hand. */ -}}\n' +
          `{{- if .Values.crds.install }}\n${body}{{- end }}\n`,
      ];
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(CRDS_DIR, { recursive: true });
  mkdirSync(CHART_CRDS_DIR, { recursive: true });
  for (const [file, text] of Object.entries(renderCrdFiles())) writeFileSync(join(CRDS_DIR, file), text);
  for (const [file, text] of Object.entries(renderChartCrdTemplates())) {
    writeFileSync(join(CHART_CRDS_DIR, file), text);
  }
  console.log(`wrote ${Object.keys(CRD_FILES).length} CRDs to crds/ and charts/ledgerhub/templates/crds/`);
}
