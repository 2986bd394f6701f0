// The formats each output root keeps (output_root_formats): which, and with what settings.
import { FORMATS, formatParamsOf, type FormatName, type FormatParams } from '../formats/write-formats';
import type { Db, DbClient } from './pool';

type Queryable = Pick<Db, 'query'> | DbClient;

export interface RootFormats {
  formats: FormatName[];
  params: FormatParams;
}

export class FormatsRepository {
  constructor(private readonly db: Queryable) {}

  async get(root: string): Promise<RootFormats> {
    const { rows } = await this.db.query<{ formats: string[]; params: unknown }>('SELECT formats, params FROM output_root_formats WHERE output_root = $1', [root]);
    const row = rows[0];
    return { formats: FORMATS.filter((f) => row?.formats.includes(f)), params: formatParamsOf(row?.params) };
  }

  async set(root: string, formats: readonly FormatName[], params: FormatParams): Promise<void> {
    await this.db.query(
      `INSERT INTO output_root_formats (output_root, formats, params) VALUES ($1, $2, $3)
       ON CONFLICT (output_root) DO UPDATE SET formats = EXCLUDED.formats, params = EXCLUDED.params, updated_at = now()`,
      [root, FORMATS.filter((f) => formats.includes(f)), JSON.stringify(params)],
    );
  }
}
