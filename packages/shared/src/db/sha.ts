// sha256 travels as 64 hex chars in code and payloads, and as 32 bytes (bytea) in Postgres.

export function shaToBytes(hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a sha256 hex digest: ${hex}`);
  return Buffer.from(hex, 'hex');
}

export function shaToHex(bytes: Buffer): string {
  return bytes.toString('hex');
}
