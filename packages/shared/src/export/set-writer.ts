// The set-writer seam: how a set's files are named and rendered, which files of a folder are members, and which faces
// a set exports. The PNG sets use PNG_SET_WRITER; every other format (src/formats/) asks exportedMembers() which
// faces to write, so pointing that at another choice (curation) changes every format at once.
import { join } from 'node:path';
import type { MemberRecord } from '../db/identities.repository';
import type { Point, RgbImage } from '../engine/types';
import { renderCropPng } from './crops';
import { cropFileName } from './naming';
import { isPlainMemberName, realDirState, regularFiles } from './root-guard';

export interface SetWriter {
  /** Extension of the member files, with its dot. */
  ext: string;
  fileName(face: { paths: readonly string[]; sha256: string; faceIndex: number }): string;
  /** True for a name that can be one of this writer's member files (a plain base name with the extension). */
  isMember(name: unknown): name is string;
  render(img: RgbImage, kps: readonly Point[], size: number): Promise<Buffer>;
}

export const PNG_SET_WRITER: SetWriter = {
  ext: '.png',
  fileName: cropFileName,
  isMember: (name: unknown): name is string => isPlainMemberName(name, '.png'),
  render: renderCropPng,
};

/**
 * THE list of faces a set exports, in member order. For now: the identity's members whose file its set folder holds
 * (a member whose crop could not be made is in no format either). `folder` is the set's path below `root`.
 */
export async function exportedMembers(root: string, folder: string, members: readonly MemberRecord[], writer: SetWriter = PNG_SET_WRITER): Promise<MemberRecord[]> {
  if ((await realDirState(root, folder)) !== 'dir') return [];
  const have = await regularFiles(join(root, folder));
  return members.filter((m) => writer.isMember(m.file) && have.has(m.file));
}
