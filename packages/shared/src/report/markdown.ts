// Renders a job's report (SPEC.md step 8) as Markdown in the shape of the hand-run seed report.
import { poseCoverageText } from './pose-coverage';
import { displayPath } from '../jobs/fs-path';
import { posix } from 'node:path';
import type { CoverageReport, DiscoveryReport, Distribution, EraSplitReport, ImportReport, JobReport, ScanReport } from './types';

/** Folder of the report inside an output root; the Markdown is `_reports/<jobId>.md`, sheets `_reports/<jobId>/`. */
export const REPORTS_DIR = '_reports';

/** Inline code that survives backticks in the text (odd folder names). */
function code(s: string): string {
  const ticks = '`'.repeat(Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${s}${pad}${ticks}`;
}

/** A table cell: pipes and line breaks would break the row. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** Link target with spaces and parentheses escaped, so any file name works as a relative link. */
const href = (p: string): string => encodeURI(p).replace(/\(/g, '%28').replace(/\)/g, '%29');

function table(head: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : ':---'));
  return [head, sep, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

function num(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return digits === 0 ? String(Math.round(v)) : v.toFixed(digits);
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function byCount(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function extensionList(counts: Record<string, number>): string {
  const list = byCount(counts).map(([ext, n]) => `${n} ${ext === '' ? '(no extension)' : ext.replace(/^\./, '')}`);
  return list.length ? list.join(' + ') : 'none';
}

function param(report: JobReport, name: string): number | undefined {
  const v = report.params[name];
  return typeof v === 'number' ? v : undefined;
}

function renderSource(scan: ScanReport): string {
  const f = scan.files;
  const lines = [
    `## 1. Source`,
    '',
    `${code(scan.bucket)}: ${plural(f.found, 'image file')} (${extensionList(f.byExtension)})` +
      (f.skipped ? `; ${f.skipped} other ${f.skipped === 1 ? 'file' : 'files'} skipped (${extensionList(f.skippedByExtension)}).` : '; nothing else skipped.'),
    '',
    `- Byte-duplicates: ${plural(f.aliases, 'extra path')} share the content of another file (aliases: embedded once, every path kept).`,
    `- Distinct sources: ${f.cached + f.embedded} — ${f.cached} already in the cache for this model pack, ${f.embedded} embedded by this job.`,
    `- No face: ${plural(f.noface, 'source')}. Unreadable: ${plural(f.errors, 'file')}.`,
  ];
  if (scan.errorFiles.length) {
    lines.push('', table(['unreadable file', 'reason'], scan.errorFiles.map((e) => [code(displayPath(e.path)), e.reason]), ['l', 'l']));
    const more = (scan.errorFilesTotal ?? scan.errorFiles.length) - scan.errorFiles.length;
    if (more > 0) lines.push('', `…and ${plural(more, 'more unreadable file')}: the full list is \`GET /jobs/<id>/error-files\`.`);
  }
  const examples = Object.entries(f.skippedExamples ?? {}).filter(([, paths]) => paths.length > 0).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (examples.length) {
    const rows = examples.map(([key, paths]) => {
      const more = (f.skippedByExtension[key] ?? paths.length) - paths.length;
      return [key === '' ? '(no extension)' : key, paths.map((p) => code(displayPath(p))).join(', ') + (more > 0 ? ` and ${more} more` : '')];
    });
    lines.push('', table(['skipped', 'files'], rows, ['l', 'l']));
  }
  return lines.join('\n');
}

function histogramLine(h: Record<string, number>): string {
  const entries = Object.entries(h)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  if (!entries.length) return 'no decoded images';
  return entries.map(([faces, images]) => `${images} with ${plural(faces, 'face')}`).join(' / ');
}

function renderFaces(report: JobReport): string {
  const { faces } = report.scan;
  const dist = (d: Distribution, digits = 0): string => `median ${num(d.median, digits)}, min ${num(d.min, digits)}`;
  const lines = [
    `## 2. Faces`,
    '',
    `**${plural(faces.total, 'face record')}**; faces per image: ${histogramLine(faces.perImageHistogram)}.`,
    '',
    `- \`faceShort\`: ${dist(faces.faceShort)} px`,
    `- \`detScore\`: ${dist(faces.detScore, 2)}`,
    `- \`blur\`: ${dist(faces.blur)}`,
  ];
  const gate = param(report, 'minFaceShort');
  if (gate !== undefined && faces.faceShort.min !== null && faces.faceShort.min < gate) {
    lines.push('', `Min \`faceShort\` ${num(faces.faceShort.min)} px is below the ${gate} px discovery gate: such faces are not clustered into new sets.`);
  }
  return lines.join('\n');
}

function renderCoverage(report: JobReport, c: CoverageReport): string {
  const t = param(report, 'routeThreshold');
  const extend = report.mode === 'extend';
  const lines = [`## 3. Coverage by existing identities`, ''];
  if (!c.identities.length) {
    lines.push(`The output root holds no face sets yet: nothing is covered.`);
    return lines.join('\n');
  }
  lines.push(
    `Each bucket face was compared with the centroids of the ${plural(c.identities.length, 'existing face set')}` +
      ` (built from each set's member list). At cosine distance ≤ ${num(t, 2)}, **${plural(c.covered, 'face')}** ` +
      `${c.covered === 1 ? 'is' : 'are'} covered by an existing identity${extend ? ' and added to it where it passes the export gates' : ' and left out of discovery'}.`,
    '',
  );
  const rows = c.identities
    .filter((i) => i.matched > 0 || extend)
    .map((i) => [i.name, String(i.members), String(i.matched), ...(extend ? [String(i.extendedWith ?? 0)] : [])]);
  if (rows.length) {
    lines.push(
      table(
        ['existing identity', 'members', 'bucket faces matched', ...(extend ? ['PNGs added'] : [])],
        rows,
        ['l', 'r', 'r', ...(extend ? (['r'] as const) : [])],
      ),
    );
  } else {
    lines.push('No bucket face is close enough to any existing identity.');
  }
  if (c.unmatchedMembers) {
    lines.push('', `${plural(c.unmatchedMembers, 'member')} of existing sets had no face record of this model pack and did not count towards their centroid.`);
  }
  return lines.join('\n');
}

function renderDiscovery(report: JobReport, d: DiscoveryReport): string {
  const p = (n: string, digits = 0): string => num(param(report, n), digits);
  const g = d.gateDropped;
  const gateTotal = g.minFaceShort + g.minBlur + g.minDetScore;
  return [
    `## 4. Discovery`,
    '',
    `${plural(d.faces, 'uncovered face')} clustered among themselves (average linkage, cosine distance ${p('clusterThreshold', 2)}, never two faces of one file in one cluster).`,
    '',
    `- ${plural(d.rawClusters, 'raw cluster')}; top sizes [${d.topSizes.join(', ')}].`,
    `- Quality gates: ${plural(gateTotal, 'face')} dropped — ${g.minFaceShort} with \`faceShort\` < ${p('minFaceShort')}, ` +
      `${g.minBlur} with \`blur\` < ${p('minBlur')}, ${g.minDetScore} with \`detScore\` < ${p('minDetScore', 2)} (a face failing several gates counts under the first).`,
    `- Outlier rejection (clusters of ≥ 4 faces, centroid distance > ${p('outlierThreshold', 2)}): ${plural(d.outliersDropped, 'face')} dropped.`,
    `- ${plural(d.tooFewSources, 'cluster')} with fewer than ${p('minFaces')} distinct source files dropped.`,
    `- **${plural(d.clustersKept, 'cluster')} kept.**`,
  ].join('\n');
}

function renderFacesets(report: JobReport, d: DiscoveryReport): string {
  const lines = [`## 5. New face sets`, ''];
  if (!d.facesets.length) {
    lines.push('No cluster was kept: no new face set.');
    return lines.join('\n');
  }
  const p = (n: string, digits = 0): string => num(param(report, n), digits);
  lines.push(
    `Export gates: \`faceShort\` ≥ ${p('exportMinFaceShort')}, outliers farther than ${p('exportOutlierThreshold', 2)} from the centroid dropped; ` +
      `${p('exportSize')} px aligned PNGs; sets under ${p('thinBelow')} PNGs go to \`_thin/\`.`,
    '',
  );
  const rows = d.facesets.map((f) => {
    const name = f.name && f.path ? `[${f.name}](${href(posix.join('..', f.path))}/)` : '—';
    const sheet = f.contactSheet ? `[sheet](${href(posix.relative(REPORTS_DIR, f.contactSheet))})` : '';
    const exported = f.name ? String(f.exported) : `0 (skipped: ${f.skipped ?? 'nothing exported'})`;
    const notes = [
      f.thin ? 'thin' : '', f.exportFailed ? `${f.exportFailed} crop(s) failed` : '', f.maxFacesLeft ? `${f.maxFacesLeft} left out by maxFaces` : '',
      f.poseCoverage ? `poses ${poseCoverageText(f.poseCoverage)}` : '', sheet,
    ].filter(Boolean).join('; ');
    return [name, String(f.inputFaces), String(f.sources), String(f.exportGateDropped), String(f.outliersDropped), String(f.nearDuplicates ?? 0), exported, notes];
  });
  lines.push(
    table(
      ['name', 'input', 'sources', 'size gate drop', 'outlier drop', 'near-duplicates left out', 'exported PNGs', 'notes'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  return lines.join('\n');
}

const setLink = (name: string | null, path: string | null): string =>
  name && path ? `[${name}](${href(posix.join('..', path))}/)` : '—';

const ACTION: Record<ImportReport['folders'][number]['action'], string> = {
  created: 'new identity',
  extended: 'extended',
  unchanged: 'already there',
  skipped: 'skipped',
};

function renderImports(report: JobReport, imp: ImportReport): string {
  const t = param(report, 'outlierThreshold');
  const lines = [
    `## 4. Hand-sorted folders`,
    '',
    `${plural(imp.folders.length, 'top-level folder')}, one person each. Per folder a consensus is built from its single-face photos ` +
      `(or, failing that, from all of its photos); each photo gives the face nearest the consensus when it is within ${num(t, 2)}, ` +
      `and is left out otherwise. A folder whose consensus lies within ${num(param(report, 'routeThreshold'), 2)} of an identity ` +
      `already in the output root extends it${report.params.importAsNew === true ? ' (not in this job: importAsNew)' : ''}.`,
  ];
  if (imp.folders.length) {
    const rows = imp.folders.map((f) => {
      const notes = [
        f.thin ? 'thin' : '',
        f.matchDistance !== undefined ? `match ${num(f.matchDistance, 3)}` : '',
        f.gateDropped ? `${f.gateDropped} below the gates` : '',
        f.outliersDropped ? `${f.outliersDropped} outlier(s)` : '',
        f.skipped ?? '',
      ].filter(Boolean).join('; ');
      return [code(displayPath(f.folder)), String(f.photos), String(f.taken), String(f.leftOut.length), f.name ? `${ACTION[f.action]} ${setLink(f.name, f.path)}` : ACTION[f.action], String(f.exported), notes];
    });
    lines.push('', table(['folder', 'photos', 'faces taken', 'left out', 'identity', 'PNGs written', 'notes'], rows, ['l', 'r', 'r', 'r', 'l', 'r', 'l']));
  }
  const left = imp.folders.flatMap((f) =>
    f.leftOut.map((l) => [
      code(displayPath(f.folder)),
      code(l.path),
      l.reason === 'disagrees'
        ? `disagrees with the folder: nearest of ${plural(l.faces, 'face')} at ${num(l.distance, 3)}`
        : l.reason === 'no consensus'
          ? `no consensus in the folder (${plural(l.faces, 'face')})`
          : l.reason === 'unreadable'
            ? `unreadable${l.detail ? `: ${l.detail}` : ''}`
            : 'no face found',
    ]),
  );
  if (left.length) lines.push('', table(['folder', 'photo left out', 'why'], left, ['l', 'l', 'l']));
  if (imp.skippedFiles.length) {
    lines.push('', `${plural(imp.skippedFiles.length, 'image')} directly in the bucket root (in no folder) skipped:`, '');
    lines.push(...imp.skippedFiles.map((p) => `- ${code(p)}`));
  }
  return lines.join('\n');
}

function span(from: string | null, to: string | null): string {
  if (!from) return 'undated';
  return from === to || !to ? from : `${from} – ${to}`;
}

function renderEras(report: JobReport, splits: EraSplitReport[]): string {
  const lines = [
    `## 6. Eras`,
    '',
    `Era splits (\`${String(report.params.eras ?? 'none')}\`; date gap ${num(param(report, 'eraGapYears'), 1)} years, appearance threshold ` +
      `${num(param(report, 'eraThreshold'), 2)}): each era is its own face set with its parent kept; eras under ${num(param(report, 'thinBelow'))} PNGs go to \`_thin/\`.`,
  ];
  for (const s of splits) {
    const who = `**${s.parent}**${s.label ? ` (${s.label})` : ''}, by ${s.by}`;
    if (s.skipped) {
      lines.push('', `${who}: not split (${s.skipped}).`);
      continue;
    }
    lines.push('', `${who}: ${plural(s.eras.filter((e) => e.name).length, 'era')}` +
      (s.unplaced ? `; ${plural(s.unplaced, 'undated face')} in no era (kept in the parent)` : '') + '.');
    if (s.eras.length) {
      lines.push('', table(
        ['era', 'span', 'faces', 'PNGs', 'notes'],
        s.eras.map((e) => [setLink(e.name, e.path), span(e.from, e.to), String(e.faces), String(e.exported), [e.thin ? 'thin' : '', e.skipped ?? ''].filter(Boolean).join('; ')]),
        ['l', 'l', 'r', 'r', 'l'],
      ));
    }
  }
  return lines.join('\n');
}

function renderParams(report: JobReport): string {
  const rows = Object.entries(report.params).map(([k, v]) => [code(k), typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  return [`## Parameters`, '', rows.length ? table(['parameter', 'value'], rows, ['l', 'r']) : 'defaults'].join('\n');
}

export function renderReportMarkdown(report: JobReport): string {
  const title = { scan: 'Scan', extend: 'Extending face sets from', import: 'Importing hand-sorted folders from', discover: 'Identity discovery in' }[report.mode];
  const meta = [
    `Job ${code(report.jobId)}`,
    `mode \`${report.mode}\``,
    report.modelPack ? `model pack ${code(report.modelPack)}` : '',
    report.outputRoot ? `output root ${code(report.outputRoot)}` : '',
    report.startedAt ? `started ${report.startedAt}` : '',
    report.finishedAt ? `finished ${report.finishedAt}` : '',
  ].filter(Boolean);
  const parts = [`# ${title} ${code(report.bucket)}`, `_${meta.join(' · ')}._`, renderSource(report.scan), renderFaces(report)];
  if (report.coverage) parts.push(renderCoverage(report, report.coverage));
  if (report.discovery) parts.push(renderDiscovery(report, report.discovery), renderFacesets(report, report.discovery));
  if (report.imports) parts.push(renderImports(report, report.imports));
  if (report.eras?.length) parts.push(renderEras(report, report.eras));
  parts.push(renderParams(report));
  return `${parts.join('\n\n')}\n`;
}
