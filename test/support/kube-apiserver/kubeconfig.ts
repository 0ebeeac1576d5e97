// Client configuration for the fake: a kubeconfig file (for kubectl and KubeConfig.loadFromFile) and the
// equivalent options object for KubeConfig.loadFromOptions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const CONTEXT_NAME = 'fake-kube-apiserver';

export interface KubeConfigOptions {
  clusters: { name: string; server: string; skipTLSVerify: boolean }[];
  users: { name: string }[];
  contexts: { name: string; cluster: string; user: string; namespace: string }[];
  currentContext: string;
}

export function kubeConfigOptions(url: string): KubeConfigOptions {
  return {
    clusters: [{ name: CONTEXT_NAME, server: url, skipTLSVerify: true }],
    users: [{ name: CONTEXT_NAME }],
    contexts: [{ name: CONTEXT_NAME, cluster: CONTEXT_NAME, user: CONTEXT_NAME, namespace: 'default' }],
    currentContext: CONTEXT_NAME,
  };
}

/** Writes a kubeconfig into a fresh temp directory; returns its path and a cleanup. */
export function writeKubeconfig(url: string): { path: string; directory: string; remove(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  const path = join(directory, 'kubeconfig');
  const document = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT_NAME, cluster: { server: url } }],
    users: [{ name: CONTEXT_NAME, user: {} }],
    contexts: [
      { name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: CONTEXT_NAME, namespace: 'default' } },
    ],
    'current-context': CONTEXT_NAME,
  };
  writeFileSync(path, stringify(document));
  return { path, directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
