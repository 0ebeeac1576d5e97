// Applying manifests to the fake API server the way a user does: with kubectl when it is installed,
// otherwise with server-side apply through the same REST client the operator uses, so the API server's
// acceptance and refusals are what the tests see either way.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { FIELD_MANAGER } from '../../operator/api/group.ts';
import { type KubeObject, objectPath, resourceOf } from '../../operator/kube/resources.ts';
import { rawRequest } from '../kube/raw-request.ts';
import type { FakeKubeApiServer } from '../support/kube-apiserver/index.ts';

export const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

export interface ApplyResult {
  ok: boolean;
  /** kubectl's output, or the API server's Status messages. */
  output: string;
}

export interface Kubectl {
  /** `kubectl apply -n <namespace> -f -` of a YAML text. */
  apply(yaml: string, namespace: string): Promise<ApplyResult>;
  /** `kubectl <args>` (only when kubectl is installed). */
  run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): void;
}

export function kubectlFor(kube: FakeKubeApiServer, kc: KubeConfig): Kubectl {
  const scratch = mkdtempSync(join(tmpdir(), 'kubectl-'));
  let n = 0;
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      if (!KUBECTL) throw new Error('kubectl is not installed');
      execFile(
        KUBECTL,
        [
          '--kubeconfig',
          kube.kubeconfigPath,
          '--cache-dir',
          join(scratch, 'cache'),
          '--request-timeout',
          '20s',
          ...args,
        ],
        { env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, HOME: scratch } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  return {
    run,
    async apply(yaml, namespace) {
      if (KUBECTL) {
        const file = join(scratch, `manifest-${n++}.yaml`);
        writeFileSync(file, yaml);
        const r = await run('apply', '-n', namespace, '-f', file);
        return { ok: r.code === 0, output: `${r.stdout}${r.stderr}` };
      }
      const messages: string[] = [];
      let ok = true;
      for (const doc of parseAllDocuments(yaml)) {
        const obj = doc.toJS() as KubeObject | null;
        if (!obj) continue;
        const path = objectPath(resourceOf(obj), namespace, obj.metadata.name);
        const res = await rawRequest(kc, 'PATCH', `${path}?fieldManager=${FIELD_MANAGER}-test&force=true`, {
          body: { ...obj, metadata: { ...obj.metadata, namespace } },
          contentType: 'application/apply-patch+yaml',
        });
        ok &&= res.status < 300;
        messages.push(
          res.status < 300 ? `${obj.kind} ${obj.metadata.name} configured` : String(res.json?.message),
        );
      }
      return { ok, output: messages.join('\n') };
    },
    close: () => rmSync(scratch, { recursive: true, force: true }),
  };
}
