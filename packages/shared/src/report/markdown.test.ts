import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../params';
import { renderReportMarkdown } from './markdown';
import type { JobReport } from './types';

const report: JobReport = {
  jobId: 'job-42',
  mode: 'discover',
  bucket: '/mnt/x/src/osrc',
  outputRoot: '/mnt/x/facesets_swap_ready',
  params: { ...DEFAULT_PARAMS },
  modelPack: 'faceplugin-0.0.1',
  startedAt: '2026-04-26T10:00:00.000Z',
  finishedAt: '2026-04-26T10:05:00.000Z',
  scan: {
    bucket: '/mnt/x/src/osrc',
    files: {
      byExtension: { '.jpg': 171, '.jpeg': 1, '.psd': 41 },
      found: 213,
      skippedByExtension: { '.txt': 2, '': 1 },
      skipped: 3,
      aliases: 11,
      cached: 160,
      embedded: 42,
      noface: 10,
      errors: 1,
    },
    errorFiles: [{ path: '/mnt/x/src/osrc/[Originaldateien]/broken | file.jpg', reason: 'corrupt or unsupported jpeg: premature end' }],
    errorFilesTotal: 1,
    faces: {
      total: 336,
      perImageHistogram: { '0': 10, '1': 64, '2': 35, '3': 19, '4': 24, '6': 8 },
      faceShort: { median: 116, min: 40 },
      detScore: { median: 0.85, min: 0.5 },
      blur: { median: 244, min: 3 },
    },
  },
  coverage: {
    identities: [
      { name: 'faceset_002', path: 'faceset_002', members: 40, matched: 7 },
      { name: 'faceset_003', path: 'faceset_003', members: 12, matched: 0 },
      { name: 'faceset_019', path: '_thin/faceset_019', members: 3, matched: 4 },
    ],
    covered: 11,
    unmatchedMembers: 2,
  },
  discovery: {
    faces: 325,
    rawClusters: 137,
    topSizes: [37, 20, 12, 9, 7, 7, 6, 6, 6, 5],
    gateDropped: { minFaceShort: 110, minBlur: 10, minDetScore: 4 },
    outliersDropped: 0,
    tooFewSources: 130,
    clustersKept: 3,
    facesets: [
      { name: 'faceset_020', path: 'faceset_020', inputFaces: 28, sources: 28, exportGateDropped: 2, outliersDropped: 0, exported: 26, thin: false, contactSheet: '_reports/job-42/faceset_020.png' },
      { name: 'faceset_021', path: '_thin/faceset_021', inputFaces: 6, sources: 6, exportGateDropped: 3, outliersDropped: 0, exported: 2, exportFailed: 1, thin: true },
      { name: null, path: null, inputFaces: 6, sources: 6, exportGateDropped: 6, outliersDropped: 0, exported: 0, thin: false, skipped: 'empty after export gates' },
    ],
  },
};

describe('renderReportMarkdown', () => {
  const md = renderReportMarkdown(report);

  it('states the scan facts of the seed report', () => {
    expect(md).toContain('# Identity discovery in `/mnt/x/src/osrc`');
    expect(md).toContain('213 image files (171 jpg + 41 psd + 1 jpeg); 3 other files skipped (2 txt + 1 (no extension)).');
    expect(md).toContain('11 extra paths share the content');
    expect(md).toContain('202 — 160 already in the cache for this model pack, 42 embedded by this job');
    expect(md).toContain('No face: 10 sources. Unreadable: 1 file.');
    expect(md).toContain('| `/mnt/x/src/osrc/[Originaldateien]/broken \\| file.jpg` | corrupt or unsupported jpeg: premature end |');
    expect(md).toContain('10 with 0 faces / 64 with 1 face / 35 with 2 faces / 19 with 3 faces / 24 with 4 faces / 8 with 6 faces');
    expect(md).toContain('`faceShort`: median 116, min 40 px');
    expect(md).toContain('`detScore`: median 0.85');
    expect(md).toContain('`blur`: median 244');
    expect(md).toContain('Min `faceShort` 40 px is below the 90 px discovery gate');
  });

  it('lists coverage per existing identity', () => {
    expect(md).toContain('At cosine distance ≤ 0.45, **11 faces** are covered by an existing identity and left out of discovery.');
    expect(md).toContain('| faceset_002 | 40 | 7 |');
    expect(md).toContain('| faceset_019 | 3 | 4 |');
    expect(md).not.toContain('| faceset_003 |');
    expect(md).toContain('2 members of existing sets had no face record');
  });

  it('states the discovery funnel and one row per new set, linked relative to _reports/', () => {
    expect(md).toContain('- 137 raw clusters; top sizes [37, 20, 12, 9, 7, 7, 6, 6, 6, 5].');
    expect(md).toContain('124 faces dropped — 110 with `faceShort` < 90, 10 with `blur` < 40, 4 with `detScore` < 0.60');
    expect(md).toContain('centroid distance > 0.55): 0 faces dropped.');
    expect(md).toContain('130 clusters with fewer than 6 distinct source files dropped.');
    expect(md).toContain('**3 clusters kept.**');
    expect(md).toContain('| [faceset_020](../faceset_020/) | 28 | 28 | 2 | 0 | 0 | 26 | [sheet](job-42/faceset_020.png) |');
    expect(md).toContain('| [faceset_021](../_thin/faceset_021/) | 6 | 6 | 3 | 0 | 0 | 2 | thin; 1 crop(s) failed |');
    expect(md).toContain('| — | 6 | 6 | 6 | 0 | 0 | 0 (skipped: empty after export gates) |  |');
    expect(md).toContain('| `exportSize` | 512 |');
  });

  it('says how many unreadable files the bounded list leaves out, and where the full list is', () => {
    const md = renderReportMarkdown({ ...report, scan: { ...report.scan, errorFilesTotal: 1201 } });
    expect(md).toContain('…and 1200 more unreadable files: the full list is `GET /jobs/<id>/error-files`.');
    expect(renderReportMarkdown(report)).not.toContain('more unreadable');
  });

  it('renders a scan-only report without coverage or discovery sections', () => {
    const { coverage: _c, discovery: _d, ...scanOnly } = report;
    const text = renderReportMarkdown({ ...scanOnly, mode: 'scan' });
    expect(text).toContain('# Scan `/mnt/x/src/osrc`');
    expect(text).not.toContain('## 3. Coverage');
    expect(text).not.toContain('## 4. Discovery');
  });
});

describe('renderReportMarkdown: hand-sorted folders and eras', () => {
  const { coverage: _c, discovery: _d, ...base } = report;
  const md = renderReportMarkdown({
    ...base,
    mode: 'import',
    params: { ...DEFAULT_PARAMS, eras: 'date' },
    imports: {
      folders: [
        {
          folder: 'Anna Keller', label: 'Anna Keller', photos: 5, basis: 'single-face photos', taken: 4,
          leftOut: [{ path: '/b/Anna Keller/wrong.jpg', reason: 'disagrees', distance: 0.8123, faces: 1 }],
          action: 'created', name: 'faceset_004', path: 'faceset_004', gateDropped: 1, outliersDropped: 0, exported: 3, thin: true,
        },
        {
          folder: 'Frank & co', label: 'Frank & co', photos: 3, basis: 'all photos', taken: 3, leftOut: [],
          action: 'extended', name: 'faceset_002', path: 'faceset_002', matchDistance: 0.2104, gateDropped: 0, outliersDropped: 0, exported: 3, thin: false,
        },
        {
          folder: 'bob_2019 [alt]', label: 'bob_2019 [alt]', photos: 2, basis: null, taken: 0,
          leftOut: [
            { path: '/b/bob_2019 [alt]/a.jpg', reason: 'no consensus', faces: 1 },
            { path: '/b/bob_2019 [alt]/b.jpg', reason: 'unreadable', faces: 0, detail: 'empty file (0 bytes)' },
          ],
          action: 'skipped', name: null, path: null, gateDropped: 0, outliersDropped: 0, exported: 0, thin: false, skipped: 'no consensus',
        },
      ],
      skippedFiles: ['/b/loose.jpg'],
    },
    eras: [
      {
        parent: 'faceset_004', label: 'Anna Keller', by: 'date', unplaced: 1,
        eras: [
          { name: 'faceset_005', path: 'faceset_005', from: '1999-05-01', to: '2001-02-01', faces: 6, exported: 5, thin: false },
          { name: 'faceset_006', path: '_thin/faceset_006', from: '2016-07-01', to: '2016-07-01', faces: 2, exported: 2, thin: true },
        ],
      },
    ],
  });

  it('has a row per folder with what was taken, left out and what the folder became', () => {
    expect(md).toContain('# Importing hand-sorted folders from `/mnt/x/src/osrc`');
    expect(md).toContain('## 4. Hand-sorted folders');
    expect(md).toContain('| `Anna Keller` | 5 | 4 | 1 | new identity [faceset_004](../faceset_004/) | 3 | thin; 1 below the gates |');
    expect(md).toContain('| `Frank & co` | 3 | 3 | 0 | extended [faceset_002](../faceset_002/) | 3 | match 0.210 |');
    expect(md).toContain('| `bob_2019 [alt]` | 2 | 0 | 2 | skipped | 0 | no consensus |');
  });

  it('names every photo left out with why, and the files in the bucket root', () => {
    expect(md).toContain('| `Anna Keller` | `/b/Anna Keller/wrong.jpg` | disagrees with the folder: nearest of 1 face at 0.812 |');
    expect(md).toContain('| `bob_2019 [alt]` | `/b/bob_2019 [alt]/a.jpg` | no consensus in the folder (1 face) |');
    expect(md).toContain('| `bob_2019 [alt]` | `/b/bob_2019 [alt]/b.jpg` | unreadable: empty file (0 bytes) |');
    expect(md).toContain('1 image directly in the bucket root (in no folder) skipped:\n\n- `/b/loose.jpg`');
  });

  it('lists each era split with spans and sizes', () => {
    expect(md).toContain('## 6. Eras');
    expect(md).toContain('**faceset_004** (Anna Keller), by date: 2 eras; 1 undated face in no era (kept in the parent).');
    expect(md).toContain('| [faceset_005](../faceset_005/) | 1999-05-01 – 2001-02-01 | 6 | 5 |  |');
    expect(md).toContain('| [faceset_006](../_thin/faceset_006/) | 2016-07-01 | 2 | 2 | thin |');
  });
});
