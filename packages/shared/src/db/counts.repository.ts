// Whole-table counts the API's /metrics reports at every scrape (jobs by mode and state, identities by state).
import type { Db } from './pool';

export class CountsRepository {
  constructor(private readonly db: Db) {}

  /** Jobs per (mode, state); combinations with no job are absent. */
  async jobsByModeAndState(): Promise<{ mode: string; state: string; count: number }[]> {
    const { rows } = await this.db.query<{ mode: string; state: string; count: number }>(
      'SELECT mode, state, count(*) AS count FROM jobs GROUP BY mode, state',
    );
    return rows;
  }

  /** Identities of every output root per state (active, merged, deleted). */
  async identitiesByState(): Promise<{ state: string; count: number }[]> {
    const { rows } = await this.db.query<{ state: string; count: number }>(
      'SELECT state, count(*) AS count FROM identities GROUP BY state',
    );
    return rows;
  }
}
