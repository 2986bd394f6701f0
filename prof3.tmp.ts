import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FaceEngine } from './packages/shared/src/engine/engine';
import { loadModelPack } from './packages/shared/src/models/model-pack';
const dir = '/tmp/i9e/cam';
const files = readdirSync(dir).map((f) => join(dir, f));
const engine = await FaceEngine.create({ pack: loadModelPack('models'), intraOpThreads: 1, executionProvider: 'cpu', maxImagePixels: 1e8 });
await engine.processFile(files[0]!);
const sum = { decode: 0, detect: 0, landmark: 0, embed: 0 };
let faces = 0;
const a = performance.now();
for (const f of files) { const r = await engine.processFile(f); if (r.ok) { faces += r.faces.length; for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += r.timings[k]; } }
console.log('total ms/img', ((performance.now() - a) / files.length).toFixed(1), 'faces', faces, Object.entries(sum).map(([k, v]) => `${k} ${(v / files.length).toFixed(1)}`).join(' '));
await engine.close();
