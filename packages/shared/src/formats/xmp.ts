// XMP sidecars with face regions, MWG-RS (mwg-rs:Regions, as digiKam, Lightroom and exiftool's MWG module read them)
// and Microsoft Photo's MP regions (MP:RegionInfo / MPRI:Regions / MPReg:Rectangle).
import type { Box } from '../engine/types';

export interface XmpRegion {
  name: string;
  /** Face box in pixels of the displayed image (EXIF orientation applied). */
  box: Box;
}

const esc = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => String(Number(Math.min(1, Math.max(0, v)).toFixed(6)));

/** One sidecar: `width`×`height` is the displayed image (its AppliedToDimensions); boxes are clipped to it. */
export function xmpSidecar(width: number, height: number, regions: readonly XmpRegion[]): string {
  const norm = regions.map((r) => {
    const x1 = Math.max(0, r.box[0]) / width, y1 = Math.max(0, r.box[1]) / height;
    const x2 = Math.min(width, r.box[2]) / width, y2 = Math.min(height, r.box[3]) / height;
    return { name: r.name, x: x1, y: y1, w: Math.max(0, x2 - x1), h: Math.max(0, y2 - y1) };
  });
  const mwg = norm.map((r) => [
    '       <rdf:li>',
    `        <rdf:Description mwg-rs:Name="${esc(r.name)}" mwg-rs:Type="Face">`,
    // MWG: stArea x/y are the centre of the area, normalised, as are w/h.
    `         <mwg-rs:Area stArea:x="${num(r.x + r.w / 2)}" stArea:y="${num(r.y + r.h / 2)}" stArea:w="${num(r.w)}" stArea:h="${num(r.h)}" stArea:unit="normalized"/>`,
    '        </rdf:Description>',
    '       </rdf:li>',
  ].join('\n'));
  // Microsoft: "x, y, w, h" of the top-left corner and size, normalised.
  const mp = norm.map((r) => `       <rdf:li MPReg:PersonDisplayName="${esc(r.name)}" MPReg:Rectangle="${num(r.x)}, ${num(r.y)}, ${num(r.w)}, ${num(r.h)}"/>`);
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="facesets">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"',
    '    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"',
    '    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"',
    '    xmlns:MP="http://ns.microsoft.com/photo/1.2/"',
    '    xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"',
    '    xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">',
    '   <mwg-rs:Regions rdf:parseType="Resource">',
    `    <mwg-rs:AppliedToDimensions stDim:w="${width}" stDim:h="${height}" stDim:unit="pixel"/>`,
    '    <mwg-rs:RegionList>',
    '     <rdf:Bag>',
    ...mwg,
    '     </rdf:Bag>',
    '    </mwg-rs:RegionList>',
    '   </mwg-rs:Regions>',
    '   <MP:RegionInfo rdf:parseType="Resource">',
    '    <MPRI:Regions>',
    '     <rdf:Bag>',
    ...mp,
    '     </rdf:Bag>',
    '    </MPRI:Regions>',
    '   </MP:RegionInfo>',
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="w"?>',
    '',
  ].join('\n');
}

/** Displayed size of a photo: EXIF orientations 5–8 turn it a quarter, swapping width and height. */
export function displayedSize(width: number, height: number, orientation: number | undefined): { width: number; height: number } {
  return orientation !== undefined && orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
}
