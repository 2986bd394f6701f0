// Typed failure of image decoding, and the background that alpha is flattened onto.

/** A file that is not a decodable image; `reason` is what a report shows. */
export class DecodeError extends Error {
  readonly reason: string;
  readonly path: string | undefined;
  constructor(reason: string, path?: string, options?: { cause?: unknown }) {
    super(path === undefined ? `decode: ${reason}` : `decode ${path}: ${reason}`, options);
    this.name = 'DecodeError';
    this.reason = reason;
    this.path = path;
  }
}

/** Alpha is flattened onto white: what a viewer shows on a page, and what PSD compositing starts from. */
export const FLATTEN_BACKGROUND = { r: 255, g: 255, b: 255 } as const;

