// 12-megapixel camera-like JPEGs made from the fixture photos, for the engine's large-photo path.
import sharp from 'sharp';

/** Fixture photos rendered at 4000×3000: group shots and portraits, so faces of 150–1400 px appear. */
export const CAMERA_RENDERS = [
  'groups/bbt1.jpg',
  'groups/obama_and_biden.jpg',
  'groups/two_people.jpg',
  'groups/kit_with_rose.jpg',
  'people/rose_leslie/img1.jpg',
  'people/alex_lacamoire/img1.jpg',
];

/** The photo scaled to cover 4000×3000 (centre crop), written as a quality-90 JPEG at `dest`; returns `dest`. */
export async function renderCameraPhoto(photo: string, dest: string): Promise<string> {
  await sharp(photo).rotate().resize(4000, 3000, { fit: 'cover' }).jpeg({ quality: 90 }).toFile(dest);
  return dest;
}
