#!/usr/bin/env node
// Bundles the review page (src/main.tsx + CSS) with esbuild into dist/: content-hashed assets and an index.html.
// Runs at set-up (the root postinstall, `npm run ui:build`); the API serves dist/ at /ui, nothing loads from elsewhere.
import { build } from 'esbuild';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
// Built beside dist/ and renamed into place, so a running API never serves half a build.
const work = join(here, `.dist-${process.pid}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

try {
  const result = await build({
    entryPoints: [join(here, 'src', 'main.tsx')],
    outdir: join(work, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'linked',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js || !css) throw new Error(`ui: esbuild produced no ${js ? 'CSS' : 'JS'} bundle (${outputs.join(', ')})`);
  // Absolute asset URLs: the page is reached as /ui, /ui/ and /ui?outputRoot=….
  writeFileSync(
    join(work, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>facesets review</title>
<link rel="stylesheet" href="/ui/assets/${css}">
<script type="module" src="/ui/assets/${js}"></script>
</head>
<body>
<div id="app"><noscript>The facesets review page needs JavaScript.</noscript></div>
</body>
</html>
`,
  );
  rmSync(`${dist}.old`, { recursive: true, force: true });
  if (existsSync(dist)) renameSync(dist, `${dist}.old`);
  renameSync(work, dist);
  rmSync(`${dist}.old`, { recursive: true, force: true });
  console.log(`ui: built ${js} and ${css} into ${dist}`);
} catch (err) {
  rmSync(work, { recursive: true, force: true });
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
