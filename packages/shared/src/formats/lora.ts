// LoRA training folders in kohya-ss sd-scripts' DreamBooth layout: <repeats>_<token> <class>/ with one image per face
// and a caption .txt of the same stem (sd-scripts reads `<n>_<token> <class>` folders and `.txt` captions).
import { renderCropPng } from '../export/crops';
import { cropFileName } from '../export/naming';
import type { Pose } from '../curation/pose';
import { faceKey, type PlannedFile, type SetFormat } from './format-types';

/** Defaults of the loraRepeats / loraClass / loraSize params (documented in params.ts and the README). */
export const LORA_DEFAULTS = { repeats: 10, className: 'person', size: 1024 } as const;

/** The instance token: the label as a slug (lower case letters, digits, `_`), else the set name. */
export function loraToken(label: string | null | undefined, setName: string): string {
  const slug = (s: string) =>
    s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return (label ? slug(label) : '') || slug(setName) || 'face';
}

/** `<repeats>_<token> <class>`: the class is kept to letters, digits and spaces, as a folder name allows. */
export function loraFolderName(repeats: number, token: string, className: string): string {
  const cls = className.replace(/[^\p{L}\p{N} ]+/gu, ' ').replace(/\s+/g, ' ').trim() || LORA_DEFAULTS.className;
  return `${repeats}_${token} ${cls}`;
}

/**
 * What a caption says of a head pose (yaw > 0: the nose points to the image's right; pitch > 0: looking up; README):
 * frontal under 15° of yaw, three-quarter under 50°, profile beyond, with the side; up or down past 15° of pitch; a
 * tilted head past 20° of roll.
 */
export function poseWords(pose: Pose | undefined): string[] {
  if (!pose) return [];
  const yaw = Math.abs(pose.yaw);
  const side = pose.yaw > 0 ? 'facing right' : 'facing left';
  const words = [yaw < 15 ? 'frontal' : yaw < 50 ? `three-quarter view, ${side}` : `profile, ${side}`];
  if (pose.pitch > 15) words.push('looking up');
  else if (pose.pitch < -15) words.push('looking down');
  if (Math.abs(pose.roll) > 20) words.push('tilted head');
  return words;
}

/** The caption: token and class first (what the folder name also says), then what we know of the face. */
export function loraCaption(token: string, className: string, extra: readonly string[] = []): string {
  return `${[`${token} ${className.trim() || LORA_DEFAULTS.className}`, ...extra].join(', ')}\n`;
}

/** `_formats/lora/<set>/<repeats>_<token> <class>/`: an aligned crop per face at loraSize and its caption. */
export const loraFormat: SetFormat = {
  name: 'lora',
  files(set, p) {
    const token = loraToken(set.label, set.name);
    const sub = loraFolderName(p.loraRepeats, token, p.loraClass);
    return set.faces.flatMap((face): PlannedFile[] => {
      const stem = cropFileName({ paths: face.paths, sha256: face.sha256, faceIndex: face.faceIndex }).replace(/\.png$/, '');
      return [
        { rel: `${sub}/${stem}.png`, reuseKey: `${faceKey(face)}|lora|${p.loraSize}`, face, data: null, make: (img) => renderCropPng(img, face.kps, p.loraSize) },
        { rel: `${sub}/${stem}.txt`, reuseKey: null, face: null, make: null, data: loraCaption(token, p.loraClass, poseWords(face.pose)) },
      ];
    });
  },
};
