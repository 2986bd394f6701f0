#!/usr/bin/env node
// Installs the CUDA build of ONNX Runtime (npm registry only, every file sha256-checked) into .gpu/ and proves it runs.
// `npm run gpu:install` on a GPU host; `-- --fetch-only` fetches and verifies without a GPU. The CPU install is not touched.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifestPath = join(root, 'packages', 'shared', 'src', 'engine', 'gpu-runtime.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const target = join(root, manifest.dir);
const binDir = (base) => join(base, manifest.providers.into);
const fetchOnly = process.argv.includes('--fetch-only');

class InstallError extends Error {}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const manifestHash = createHash('sha256').update(readFileSync(manifestPath)).digest('hex').slice(0, 16);

/** Every native file the manifest pins, with its expected hash, under an install folder. */
function pinnedFiles(base) {
  return [
    ...Object.entries(manifest.providers.files).map(([name, hash]) => [join(binDir(base), name), hash]),
    ...Object.entries(manifest.core).map(([name, hash]) => [join(binDir(base), name), hash]),
  ];
}

function verifyPinned(base) {
  for (const [file, expected] of pinnedFiles(base)) {
    if (!existsSync(file)) throw new InstallError(`gpu: ${file} is missing`);
    const got = sha256(file);
    if (got !== expected) throw new InstallError(`gpu: ${file} has sha256 ${got}, expected ${expected}`);
  }
}

/** Whether the dynamic loader finds `name` where ORT's dlopen looks: LD_LIBRARY_PATH, then the ldconfig cache. */
function findLibrary(name) {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  if (dirs.some((d) => existsSync(join(d, name)))) return true;
  try {
    const cache = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return cache.split('\n').some((line) => line.trim().startsWith(`${name} `));
  } catch {
    return false;
  }
}

/** The host must have an NVIDIA GPU with its driver, and CUDA 13 + cuDNN 9 libraries the provider links against. */
function checkHost() {
  const problems = [];
  const smi = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' });
  if (smi.error) problems.push('no NVIDIA driver: `nvidia-smi` is not installed (this host has no usable NVIDIA GPU)');
  else if (smi.status !== 0 || !/^GPU \d+:/m.test(smi.stdout)) {
    problems.push(`no NVIDIA GPU found: \`nvidia-smi -L\` said: ${(smi.stdout + smi.stderr).trim().split('\n')[0] || `exit ${smi.status}`}`);
  } else {
    console.log(`gpu: ${smi.stdout.trim().split('\n').join('; ')}`);
  }
  const missing = Object.entries(manifest.hostLibraries).filter(([lib]) => !findLibrary(lib));
  if (missing.length > 0) {
    problems.push(
      `missing libraries the CUDA provider (ONNX Runtime ${manifest.ortVersion}) loads: ` +
        missing.map(([lib, what]) => `${lib} (${what})`).join(', ') +
        '; install the CUDA 13 runtime and cuDNN 9 for CUDA 13 (e.g. NVIDIA\'s cuda-runtime-13 / libcudnn9-cuda-13 packages) ' +
        'or point LD_LIBRARY_PATH at their lib folders',
    );
  }
  if (problems.length > 0) throw new InstallError(`gpu: this host cannot run the CUDA provider:\n  - ${problems.join('\n  - ')}`);
}

/** npm pack every pinned tarball into work/, check its sha256, unpack the runtime into stage/. */
function fetchInto(work, stage) {
  const unpacked = {};
  for (const [spec, expected] of Object.entries(manifest.tarballs)) {
    console.log(`gpu: fetching ${spec} with npm pack`);
    const dir = join(work, spec.replace(/[^a-z0-9.-]+/gi, '_'));
    mkdirSync(dir);
    execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', dir], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new InstallError(`gpu: npm pack ${spec} wrote no tarball`);
    const got = sha256(join(dir, tgz));
    if (got !== expected) throw new InstallError(`gpu: ${spec} tarball has sha256 ${got}, expected ${expected}`);
    unpacked[spec] = join(dir, tgz);
  }
  for (const name of ['onnxruntime-node', 'onnxruntime-common']) {
    const dest = join(stage, 'node_modules', name);
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', unpacked[`${name}@${manifest.ortVersion}`], '-C', dest, '--strip-components=1'], { stdio: 'inherit' });
  }
  const members = Object.keys(manifest.providers.files).map((f) => `package/${manifest.providers.folder}/${f}`);
  execFileSync('tar', ['-xzf', unpacked[manifest.providers.from], '-C', work, ...members], { stdio: 'inherit' });
  for (const f of Object.keys(manifest.providers.files)) {
    copyFileSync(join(work, 'package', manifest.providers.folder, f), join(binDir(stage), f));
  }
  verifyPinned(stage);
}

/** Runs the landmark model on the CUDA provider in a child process (a crash there cannot take this script down). */
function probe(stage) {
  const model = join(process.env.MODEL_DIR ?? join(root, 'models'), 'fr_landmark.onnx');
  if (!existsSync(model)) throw new InstallError(`gpu: ${model} is missing: run \`npm run models\` first`);
  const code = `
    const ort = require(${JSON.stringify(join(stage, 'node_modules', 'onnxruntime-node'))});
    (async () => {
      const input = new ort.Tensor('float32', Float32Array.from({ length: 4096 }, (_, i) => (i % 64) / 64), [1, 1, 64, 64]);
      const run = async (eps) => (await (await ort.InferenceSession.create(${JSON.stringify(model)}, { executionProviders: eps })).run({ input })).output.data;
      const [gpu, cpu] = [await run([{ name: 'cuda', deviceId: 0 }]), await run(['cpu'])];
      let worst = 0;
      for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - cpu[i]));
      console.log('gpu: CUDA provider ran the landmark model; largest difference to CPU ' + worst.toExponential(2));
      // Landmarks are 0..1 box coordinates; TF32 convolutions on recent GPUs stay far inside this.
      if (!(worst < 1e-2)) process.exit(3);
    })().catch((e) => { console.error('gpu: ' + e.message); process.exit(2); });`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status !== 0) {
    const detail = (r.stderr || '').split('\n').filter((l) => /error|fail|cannot/i.test(l)).slice(-3).join('\n    ');
    throw new InstallError(`gpu: the CUDA provider does not run on this host (exit ${r.status ?? r.signal}):\n    ${detail || r.stderr.trim()}`);
  }
}

function main() {
  if (`${platform()}/${arch()}` !== 'linux/x64') {
    throw new InstallError(`gpu: the npm registry carries ONNX Runtime's CUDA provider for linux/x64 only, not ${platform()}/${arch()}`);
  }
  const marker = join(target, 'installed.json');
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8'));
    if (m.manifest === manifestHash && (m.probed || fetchOnly)) {
      verifyPinned(target);
      console.log(`gpu: ONNX Runtime ${manifest.ortVersion} with the CUDA provider already installed and verified in ${target}`);
      return;
    }
    if (m.manifest === manifestHash) {
      // Fetched earlier with --fetch-only (e.g. while building an image): check this host and run it, no refetch.
      checkHost();
      verifyPinned(target);
      probe(target);
      writeFileSync(marker, `${JSON.stringify({ ...m, probed: true, at: new Date().toISOString() }, null, 2)}\n`);
      console.log(`gpu: ONNX Runtime ${manifest.ortVersion} with the CUDA provider in ${target} runs on this host; use EXECUTION_PROVIDER=cuda`);
      return;
    }
  }
  if (!fetchOnly) checkHost();
  const work = mkdtempSync(join(tmpdir(), 'facesets-gpu-'));
  const stage = `${target}.staging`;
  rmSync(stage, { recursive: true, force: true });
  try {
    fetchInto(work, stage);
    if (!fetchOnly) probe(stage);
    writeFileSync(join(stage, 'installed.json'), `${JSON.stringify({ ortVersion: manifest.ortVersion, manifest: manifestHash, probed: !fetchOnly, at: new Date().toISOString() }, null, 2)}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(stage, target);
    console.log(
      fetchOnly
        ? `gpu: fetched and verified ONNX Runtime ${manifest.ortVersion} + CUDA provider into ${target} (not run: --fetch-only)`
        : `gpu: installed ONNX Runtime ${manifest.ortVersion} with the CUDA provider into ${target}; use EXECUTION_PROVIDER=cuda`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(stage, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(err instanceof InstallError ? err.message : err);
  process.exit(1);
}
