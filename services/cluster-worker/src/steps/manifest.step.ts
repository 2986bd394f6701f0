// Manifest step: the new sets appended and the extended sets' counts updated, written atomically once.
import { appendEntries, setEntryCount, writeManifest, type Manifest } from '@facesets/shared/export/manifest';
import { applyIdentities } from '@facesets/shared/identities/manifest-entries';
import type { ExportResult } from './export.step';

/**
 * Call under the output-root lock with the manifest read at its start. A discover job always writes it (an output
 * root it ran on has a manifest afterwards); an extend job only when a count changed.
 */
export async function manifestStep(root: string, before: Manifest, exported: Pick<ExportResult, 'entries' | 'counts' | 'discovery' | 'changed'>): Promise<Manifest> {
  let manifest = before;
  for (const [name, count] of exported.counts) manifest = setEntryCount(manifest, name, count);
  // Placement too: a set that grew past thinBelow moves from thin_eras to facesets, as its folder left _thin/.
  if (exported.changed?.length) manifest = applyIdentities(manifest, exported.changed, new Date().toISOString());
  if (exported.discovery) manifest = appendEntries(manifest, exported.entries);
  if (manifest !== before) await writeManifest(root, manifest);
  return manifest;
}
