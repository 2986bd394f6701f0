// Parts of a job's candidate graph handed from its cluster step to cluster-part workers, and their answers.
import { endianness } from 'node:os';
import type { PartWork } from '../clustering/distributed-linkage';
import { EdgeList } from '../clustering/threshold-graph';
import type { Db } from './pool';

if (endianness() !== 'LE') throw new Error('cluster parts are stored little-endian; this host is big-endian');

const bytesOf = (a: Float32Array | Int32Array | Uint32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const int32s = (b: Buffer): Int32Array => new Int32Array(new Uint8Array(b).buffer);

export interface PartAnswer {
  part: number;
  labels: Int32Array | null;
  error: string | null;
  worker: string | null;
}

export class ClusterPartsRepository {
  constructor(private readonly db: Db) {}

  /** Stores the parts of a job (replacing any from an earlier attempt). */
  async save(jobId: string, parts: PartWork[]): Promise<void> {
    await this.db.query('DELETE FROM cluster_parts WHERE job_id = $1', [jobId]);
    for (const [part, w] of parts.entries()) {
      const edges = new Int32Array(2 * w.edges.length);
      edges.set(w.edges.a.subarray(0, w.edges.length));
      edges.set(w.edges.b.subarray(0, w.edges.length), w.edges.length);
      await this.db.query(
        `INSERT INTO cluster_parts (job_id, part, faces, dim, embeddings, sources, edges, threshold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [jobId, part, w.m.n, w.m.dim, bytesOf(w.m.data.subarray(0, w.m.n * w.m.dim)), bytesOf(w.sources), bytesOf(edges), w.threshold],
      );
    }
  }

  async load(jobId: string, part: number): Promise<PartWork | null> {
    const { rows } = await this.db.query<{ faces: number; dim: number; embeddings: Buffer; sources: Buffer; edges: Buffer; threshold: number }>(
      'SELECT faces, dim, embeddings, sources, edges, threshold FROM cluster_parts WHERE job_id = $1 AND part = $2',
      [jobId, part],
    );
    const r = rows[0];
    if (!r) return null;
    const pairs = int32s(r.edges);
    const count = pairs.length / 2;
    const edges = new EdgeList(Math.max(1, count));
    for (let k = 0; k < count; k++) edges.push(pairs[k]!, pairs[count + k]!);
    return {
      m: { data: new Float32Array(new Uint8Array(r.embeddings).buffer), n: r.faces, dim: r.dim },
      sources: int32s(r.sources),
      edges,
      threshold: r.threshold,
    };
  }

  async answer(jobId: string, part: number, answer: { labels: Int32Array; worker: string } | { error: string; worker: string }): Promise<void> {
    await this.db.query('UPDATE cluster_parts SET labels = $3, error = $4, worker = $5 WHERE job_id = $1 AND part = $2', [
      jobId,
      part,
      'labels' in answer ? bytesOf(answer.labels) : null,
      'error' in answer ? answer.error : null,
      answer.worker,
    ]);
  }

  /** Every part's answer so far (labels null while a part is still being clustered). */
  async answers(jobId: string): Promise<PartAnswer[]> {
    const { rows } = await this.db.query<{ part: number; labels: Buffer | null; error: string | null; worker: string | null }>(
      'SELECT part, labels, error, worker FROM cluster_parts WHERE job_id = $1 ORDER BY part',
      [jobId],
    );
    return rows.map((r) => ({ part: r.part, labels: r.labels ? int32s(r.labels) : null, error: r.error, worker: r.worker }));
  }

  async clear(jobId: string): Promise<void> {
    await this.db.query('DELETE FROM cluster_parts WHERE job_id = $1', [jobId]);
  }
}
