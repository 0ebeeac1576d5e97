// What a container of a rendered pod spec would see, on this machine: its args, its environment (envFrom
// ConfigMaps, values, secretKeyRefs) and its volumes written under a temp directory (projected Secrets,
// ConfigMap items, emptyDirs), with env values that name a mount path pointed at the local copy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// biome-ignore lint/suspicious/noExplicitAny: pod specs are arbitrary Kubernetes JSON
type Json = any;

export interface ObjectSource {
  configMap(name: string): Record<string, string> | undefined;
  /** Decoded values. */
  secret(name: string): Record<string, string> | undefined;
}

export interface ContainerEnvironment {
  args: string[];
  env: Record<string, string>;
  /** mountPath -> local directory */
  mounts: Record<string, string>;
  /** The container's named ports. */
  ports: Record<string, number>;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} not found`);
  return value;
}

/** Writes the pod's volumes under `root`; returns volume name -> local directory. */
export function materializeVolumes(pod: Json, source: ObjectSource, root: string): Record<string, string> {
  const dirs: Record<string, string> = {};
  for (const volume of pod.volumes ?? []) {
    const dir = join(root, volume.name);
    mkdirSync(dir, { recursive: true });
    dirs[volume.name] = dir;
    const write = (path: string, value: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), value);
    };
    if (volume.configMap) {
      const data = need(source.configMap(volume.configMap.name), `ConfigMap ${volume.configMap.name}`);
      const items = volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) write(item.path, need(data[item.key], `key ${item.key}`));
    }
    for (const projected of volume.projected?.sources ?? []) {
      if (!projected.secret) continue;
      const data = need(source.secret(projected.secret.name), `Secret ${projected.secret.name}`);
      const items = projected.secret.items ?? Object.keys(data).map((key: string) => ({ key, path: key }));
      for (const item of items)
        write(item.path, need(data[item.key], `Secret key ${projected.secret.name}/${item.key}`));
    }
    if (volume.secret) {
      const data = need(source.secret(volume.secret.secretName), `Secret ${volume.secret.secretName}`);
      for (const [key, value] of Object.entries(data)) write(key, value);
    }
  }
  return dirs;
}

export function containerEnvironment(
  container: Json,
  source: ObjectSource,
  volumeDirs: Record<string, string>,
): ContainerEnvironment {
  const mounts: Record<string, string> = {};
  for (const m of container.volumeMounts ?? [])
    mounts[m.mountPath] = need(volumeDirs[m.name], `volume ${m.name}`);
  const local = (value: string) => {
    for (const [path, dir] of Object.entries(mounts)) {
      if (value === path || value.startsWith(`${path}/`)) return dir + value.slice(path.length);
    }
    return value;
  };
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const name = from.configMapRef?.name;
    if (!name) continue;
    for (const [k, v] of Object.entries(need(source.configMap(name), `ConfigMap ${name}`))) env[k] = local(v);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = local(e.value);
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      env[e.name] = need(
        need(source.secret(ref.name), `Secret ${ref.name}`)[ref.key],
        `Secret key ${ref.name}/${ref.key}`,
      );
    }
  }
  const ports: Record<string, number> = {};
  for (const p of container.ports ?? []) ports[p.name ?? String(p.containerPort)] = p.containerPort;
  return { args: container.args ?? [], env, mounts, ports };
}
