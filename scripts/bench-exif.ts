// Cost of reading the EXIF capture time per file next to decoding it, over the fixture photos (shared-machine noise!).
// Usage: npx tsx scripts/bench-exif.ts [fixtures dir]
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from '@facesets/shared/config';
import { sniffFormat } from '@facesets/shared/image/decode';
import { readCaptureTime } from '@facesets/shared/image/exif';

async function main(): Promise<void> {
  const root = resolve(process.argv[2] ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'faces'));
  const bufs: Buffer[] = [];
  for (const dir of ['people/obama', 'people/biden', 'people/amy', 'people/kit_harington', 'groups']) {
    for (const f of (await readdir(join(root, dir))).sort()) bufs.push(await readFile(join(root, dir, f)));
  }
  const formatOf = (b: Buffer) => sniffFormat(b) ?? 'jpeg';
  for (const b of bufs) await readCaptureTime(b, formatOf(b)); // warm-up
  const rounds = 20;
  let t = performance.now();
  for (let i = 0; i < rounds; i++) for (const b of bufs) await readCaptureTime(b, formatOf(b));
  const exifMs = (performance.now() - t) / (rounds * bufs.length);
  t = performance.now();
  for (let i = 0; i < 3; i++) for (const b of bufs) await sharp(b).rotate().raw().toBuffer();
  const decodeMs = (performance.now() - t) / (3 * bufs.length);
  console.log(`${bufs.length} files: readCaptureTime ${exifMs.toFixed(3)} ms/file, full decode ${decodeMs.toFixed(1)} ms/file (${((100 * exifMs) / decodeMs).toFixed(1)} %)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
