// Postgres side of discovery: a job's faces with every bucket path of their sources, and faces of existing members.
import type { MemberKey } from '@facesets/shared/discovery/coverage';
import type { DiscoveryFace, StoredFace } from '@facesets/shared/discovery/types';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import type { Db } from '@facesets/shared/db/pool';
import { shaToHex } from '@facesets/shared/db/sha';

export interface DiscoveryStore {
  loadJobFaces(): Promise<DiscoveryFace[]>;
  findFaces(keys: MemberKey[]): Promise<StoredFace[]>;
}

/** Sources per findFaces query: keeps the bytea[] parameter and the result set of one round trip moderate. */
const SHAS_PER_QUERY = 5_000;

export function createDiscoveryStore(db: Db, job: { id: string; modelPack: string }): DiscoveryStore {
  const faces = new FacesRepository(db);
  return {
    async loadJobFaces() {
      const [records, paths] = await Promise.all([
        faces.facesOfJob(job.id, job.modelPack),
        db.query<{ sha256: Buffer; path: string }>('SELECT sha256, path FROM job_paths WHERE job_id = $1 ORDER BY path', [job.id]),
      ]);
      const bySha = new Map<string, string[]>();
      for (const r of paths.rows) {
        const sha = shaToHex(r.sha256);
        const list = bySha.get(sha);
        if (list) list.push(r.path);
        else bySha.set(sha, [r.path]);
      }
      return records.map((f) => ({ ...f, paths: bySha.get(f.sha256) ?? [] }));
    },
    async findFaces(keys) {
      const shas = [...new Set(keys.map((k) => k.sha256))];
      const out: StoredFace[] = [];
      for (let i = 0; i < shas.length; i += SHAS_PER_QUERY) {
        out.push(...(await faces.facesOf(shas.slice(i, i + SHAS_PER_QUERY), job.modelPack)));
      }
      return out;
    },
  };
}
