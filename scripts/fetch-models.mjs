#!/usr/bin/env node
// Extracts the default model pack out of its npm tarball into MODEL_DIR and verifies every sha256.
// Runs once at set-up (npm install's postinstall, or `npm run models`); nothing downloads at run time.
// Then derives the batch-symbolic copies (*.batch.onnx, see onnx-batch.mjs) and verifies their sha256 too.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, copyFileSync, rmSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withSymbolicBatch } from './onnx-batch.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(join(here, '..', 'packages', 'shared', 'src', 'models', 'model-pack.json'), 'utf8'));
const modelDir = resolve(process.env.MODEL_DIR ?? join(here, '..', 'models'));

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const isGood = (name) => existsSync(join(modelDir, name)) && sha256(join(modelDir, name)) === manifest.files[name];

const names = Object.keys(manifest.files);

/** Writes each batch copy whose file is missing or stale, from its verified original, and checks its sha256. */
function writeBatchCopies() {
  const batch = Object.entries(manifest.batchFiles);
  for (const [name, { from, sha256: expected }] of batch) {
    if (existsSync(join(modelDir, name)) && sha256(join(modelDir, name)) === expected) continue;
    const bytes = withSymbolicBatch(readFileSync(join(modelDir, from)));
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== expected) throw new Error(`models: batch copy ${name} of ${from} has sha256 ${got}, expected ${expected}`);
    const tmp = join(modelDir, `.${name}.tmp`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, join(modelDir, name));
  }
  console.log(`models: ${batch.length} batch-symbolic copies verified in ${modelDir}`);
}

if (names.every(isGood)) {
  console.log(`models: ${names.length} files verified in ${modelDir}`);
  try {
    writeBatchCopies();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'facesets-models-'));
try {
  const spec = `${manifest.package}@${manifest.version}`;
  console.log(`models: fetching ${spec} with npm pack`);
  const out = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', work], {
    cwd: work,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz')) ?? out.trim();
  const members = names.map((n) => `package/${manifest.folder}/${n}`);
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, ...members], { stdio: 'inherit' });
  mkdirSync(modelDir, { recursive: true });
  for (const name of names) {
    const src = join(work, 'package', manifest.folder, name);
    const got = sha256(src);
    if (got !== manifest.files[name]) {
      throw new Error(`models: ${name} from ${spec} has sha256 ${got}, expected ${manifest.files[name]}`);
    }
    const tmp = join(modelDir, `.${name}.tmp`);
    copyFileSync(src, tmp);
    renameSync(tmp, join(modelDir, name));
  }
  console.log(`models: ${names.length} files extracted and verified into ${modelDir}`);
  writeBatchCopies();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
} finally {
  rmSync(work, { recursive: true, force: true });
}
