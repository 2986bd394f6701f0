// The other tools' own readers, in Python 3's standard library: what DeepFaceLab and faceswap do on loading a file.
import { execFileSync } from 'node:child_process';

export const py = (script: string, ...args: string[]): string => execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' });

/** DFLJPG.load_raw's chunk walk, then pickle.loads of the APP15 chunk: what DeepFaceLab does on loading a face. */
export const DFL_READ = String.raw`
import pickle, struct, sys, json
data = open(sys.argv[1], 'rb').read()
c = 0; d = None; names = []
while c < len(data):
    ml, mh = struct.unpack('BB', data[c:c+2]); c += 2
    assert ml == 0xFF
    size = None; name = None
    if mh & 0xF0 == 0xD0:
        n = mh & 0x0F
        if n <= 7 or n in (8, 9): size = 0
        if n == 8: name = 'SOI'
        if n == 9: name = 'EOI'
        if n == 0xA: name = 'SOS'
        if n == 0xD: size = 2
    elif mh & 0xF0 == 0xE0: name = 'APP%d' % (mh & 0x0F)
    if size is None:
        size, = struct.unpack('>H', data[c:c+2]); size -= 2; c += 2
    chunk = data[c:c+size] if size > 0 else None
    c += max(size, 0)
    if name == 'SOS':
        while c < len(data) and (data[c] != 0xFF or data[c+1] != 0xD9): c += 1
    names.append(name)
    if name == 'APP15': d = pickle.loads(chunk)
print(json.dumps({'names': [n for n in names if n], 'dict': d}))
`;

/** png_read_meta of faceswap's lib/image.py. */
export const FS_READ = String.raw`
import struct, sys, json
from ast import literal_eval
image = open(sys.argv[1], 'rb').read()
pointer = image.find(b"iTXt") - 4
length = struct.unpack(">I", image[pointer:pointer + 4])[0]
pointer += 8
keyword, value = image[pointer:pointer + length].split(b"\0", 1)
assert keyword == b"faceswap"
meta = literal_eval(value[4:].decode("utf-8", errors="ignore"))
assert isinstance(meta["source"]["source_frame_dims"], tuple)
assert isinstance(meta["source"]["alignments_version"], float)
print(json.dumps(meta))
`;

/** _CompressedSerializer._unmarshal of faceswap's lib/serializer.py. */
export const FSA_READ = String.raw`
import pickle, zlib, sys, json
print(json.dumps(pickle.loads(zlib.decompress(open(sys.argv[1], 'rb').read()))))
`;


/** A Python 3 with OpenCV (Debian's python3-opencv), or null: checks against cv2 itself run only where it is. */
export function pythonWithCv2(): string | null {
  for (const bin of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(bin, ['-c', 'import cv2, numpy'], { stdio: 'ignore' });
      return bin;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * faceswap's head offset (lib/align/pose.py: cv2.solvePnP of the 26 core points, SOLVEPNP_ITERATIVE, camera of focal
 * 4 at (0.5, 0.5), no distortion; [0, 0, -2.3] projected, less 0.5) for landmarks in the legacy unit space. The
 * constants are faceswap's (lib/align/constants.py MEAN_FACE[LM_3D_26], pose.py _CORE_LMS).
 */
export const FS_HEAD_OFFSET_CV2 = String.raw`
import sys, json, numpy as np, cv2
mean3d = np.array([[4.056931, -11.432347, 1.636229], [1.833492, -12.542305, 4.061275], [0.0, -12.901019, 4.070434],
  [-1.833492, -12.542305, 4.061275], [-4.056931, -11.432347, 1.636229], [6.825897, 1.275284, 4.402142],
  [1.330353, 1.636816, 6.903745], [-1.330353, 1.636816, 6.903745], [-6.825897, 1.275284, 4.402142],
  [1.930245, -5.060977, 5.914376], [0.746313, -5.136947, 6.263227], [0.0, -5.485328, 6.76343],
  [-0.746313, -5.136947, 6.263227], [-1.930245, -5.060977, 5.914376], [5.311432, 0.0, 3.987654],
  [1.78993, -0.091703, 4.413414], [-1.78993, -0.091703, 4.413414], [-5.311432, 0.0, 3.987654],
  [2.774015, -7.566103, 5.048531], [0.509714, -7.056507, 6.566167], [0.0, -7.131772, 6.704956],
  [-0.509714, -7.056507, 6.566167], [-2.774015, -7.566103, 5.048531], [-0.589441, -8.443925, 6.109526],
  [0.0, -8.601736, 6.097667], [0.589441, -8.443925, 6.109526]])
core = np.array([6, 7, 8, 9, 10, 17, 21, 22, 26, 31, 32, 33, 34, 35, 36, 39, 42, 45, 48, 50, 51, 52, 54, 56, 57, 58])
K = np.array([[4, 0, 0.5], [0, 4, 0.5], [0, 0, 1]], dtype="double")
D = np.zeros((4, 1), dtype="float32")
out = []
for lms in json.loads(sys.stdin.read()):
    lms = np.array(lms, dtype=np.float32)
    _, r, t = cv2.solvePnP(mean3d, lms[core], K, D, flags=cv2.SOLVEPNP_ITERATIVE)
    c = cv2.projectPoints(np.array([[0.0, 0.0, -2.3]]).astype("float32"), r, t, K, D)[0].squeeze().astype("float32")
    out.append((c - np.array([0.5, 0.5], dtype="float32")).tolist())
print(json.dumps(out))
`;
