// Whether an owned object must be applied. The applied-hash annotation says what the operator last
// applied; a record of the generation (resourceVersion for kinds without one) its own apply produced
// tells a later change by someone else, which is then applied back.
import { ANNOTATION_APPLIED } from '../desired/names.ts';
import type { KubeObject } from '../kube/resources.ts';

export interface AppliedRecord {
  hash: string;
  generation?: number;
  resourceVersion?: string;
}

export function appliedRecord(hash: string, obj: KubeObject): AppliedRecord {
  return { hash, generation: obj.metadata.generation, resourceVersion: obj.metadata.resourceVersion };
}

/** True when `live` is what was applied with `hash` and nobody changed it since (as far as `record` knows). */
export function isUpToDate(
  hash: string,
  live: KubeObject | undefined,
  record: AppliedRecord | undefined,
): boolean {
  if (!live || live.metadata.annotations?.[ANNOTATION_APPLIED] !== hash) return false;
  if (!record || record.hash !== hash) return true;
  return live.metadata.generation !== undefined
    ? live.metadata.generation === record.generation
    : live.metadata.resourceVersion === record.resourceVersion;
}
