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

