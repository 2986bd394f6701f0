// Face ids: one opaque, URL-safe string per face key (sha256, face index, model pack) that every route accepts.
import { shaToHex } from '../db/sha';

export interface FaceKey {
  sha256: string;
  faceIndex: number;
  modelPack: string;
}

/** base64url of sha256 (32 bytes) · face index (uint16 BE) · model pack id (UTF-8): stable across re-embeds. */
export function encodeFaceId(k: FaceKey): string {
  const idx = Buffer.alloc(2);
  idx.writeUInt16BE(k.faceIndex);
  return Buffer.concat([Buffer.from(k.sha256, 'hex'), idx, Buffer.from(k.modelPack, 'utf8')]).toString('base64url');
}

/** The key of a face id, or null when the string is not one. */
export function decodeFaceId(id: string): FaceKey | null {
  if (!/^[A-Za-z0-9_-]{46,400}$/.test(id)) return null;
  const b = Buffer.from(id, 'base64url');
  if (b.length < 35 || b.toString('base64url') !== id) return null;
  const modelPack = b.subarray(34).toString('utf8');
  if (!modelPack || Buffer.from(modelPack, 'utf8').length !== b.length - 34) return null;
  return { sha256: shaToHex(b.subarray(0, 32)), faceIndex: b.readUInt16BE(32), modelPack };
}

/** Map key of a face key (not for clients: they get face ids). */
export const faceKeyOf = (k: FaceKey): string => `${k.sha256}:${k.faceIndex}:${k.modelPack}`;
