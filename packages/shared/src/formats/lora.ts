// LoRA training folders in kohya-ss sd-scripts' DreamBooth layout: <repeats>_<token> <class>/ with one image per face
// and a caption .txt of the same stem (sd-scripts reads `<n>_<token> <class>` folders and `.txt` captions).
import { renderCropPng } from '../export/crops';
import { cropFileName } from '../export/naming';
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
        { rel: `${sub}/${stem}.txt`, reuseKey: null, face: null, make: null, data: loraCaption(token, p.loraClass) },
      ];
    });
  },
};
