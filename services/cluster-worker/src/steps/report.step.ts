// Report step: a contact sheet per new set and the whole job report as _reports/<jobId>.md.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@facesets/shared/export/atomic-write';
import { FACESET_FILE } from '@facesets/shared/export/faceset-file';
import type { Logger } from '@facesets/shared/logger';
import type { Pose } from '@facesets/shared/curation/pose';
import { renderContactSheet } from '@facesets/shared/report/contact-sheet';
import { poseCoverage, type PoseCoverage } from '@facesets/shared/report/pose-coverage';
import { renderReportMarkdown, REPORTS_DIR } from '@facesets/shared/report/markdown';
import type { CoverageReport, DiscoveryReport, EraSplitReport, ImportReport, JobReport } from '@facesets/shared/report/types';

export interface ReportDeps {
  log: Logger;
}

export interface ReportInput {
  root: string;
  jobId: string;
  base: JobReport;
  /** Absent for import jobs (a folder's match to an existing identity is in its own row). */
  coverage?: CoverageReport;
  discovery: DiscoveryReport | null;
  imports?: ImportReport;
  eras?: EraSplitReport[];
}

/** `base` (the scan part) completed with the sections the job produced, written next to the sets it links. */
export async function reportStep(input: ReportInput, deps: ReportDeps): Promise<JobReport> {
  const newSets: SheetTarget[] = [
    ...(input.discovery?.facesets ?? []),
    ...(input.imports?.folders.filter((f) => f.action === 'created') ?? []),
    ...(input.eras ?? []).flatMap((s) => s.eras),
  ];
  await writeContactSheets(input.root, input.jobId, newSets, deps.log);
  const report: JobReport = {
    ...input.base,
    ...(input.coverage ? { coverage: input.coverage } : {}),
    ...(input.discovery ? { discovery: input.discovery } : {}),
    ...(input.imports ? { imports: input.imports } : {}),
    ...(input.eras?.length ? { eras: input.eras } : {}),
  };
  await mkdir(join(input.root, REPORTS_DIR), { recursive: true });
  await writeFileAtomic(join(input.root, REPORTS_DIR, `${input.jobId}.md`), renderReportMarkdown(report));
  return report;
}

/** A new set of the job's report that gets a contact sheet (its `contactSheet` is filled in). */
type SheetTarget = { name: string | null; path: string | null; contactSheet?: string; poseCoverage?: PoseCoverage };

/** _reports/<jobId>/<name>.png per new set: its PNGs nearest the centroid first, written atomically. */
async function writeContactSheets(root: string, jobId: string, outcomes: SheetTarget[], log: Logger): Promise<void> {
  const dir = join(root, REPORTS_DIR, jobId);
  for (const o of outcomes) {
    if (!o.name || !o.path) continue;
    try {
      const setDir = join(root, o.path);
      const file = JSON.parse(await readFile(join(setDir, FACESET_FILE), 'utf8')) as {
        members: { png: string; distance: number; pose?: Pose }[];
      };
      const pngs = [...file.members].sort((a, b) => a.distance - b.distance).map((m) => join(setDir, m.png));
      const poses = file.members.map((m) => m.pose);
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, `${o.name}.png`), await renderContactSheet(pngs, poses));
      o.contactSheet = `${REPORTS_DIR}/${jobId}/${o.name}.png`;
      o.poseCoverage = poseCoverage(poses);
    } catch (err) {
      // A report picture is not worth failing a job whose sets are already written.
      log.warn({ err, faceset: o.name }, 'contact sheet could not be written');
    }
  }
}
