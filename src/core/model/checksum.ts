/** SHA-256 of a file's text with CRLF/CR folded to LF, so a checkout on Windows is not "modified". */
export function checksumOf(text: string): string {
  return sha256(text.replace(/\r\n?/g, '\n'));
}

export function sha256(text: string): string {
  return crypto().createHash('sha256').update(text).digest('hex');
}

/**
 * node:crypto on first use: loading it costs ~4 ms of every CLI start, and a status of files
 * the result cache already knows hashes nothing.
 */
export function crypto(): typeof import('node:crypto') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:crypto') as typeof import('node:crypto');
}

/** FNV-1a, 64 bits, as hex: a name for a cache file, not a checksum. */
export function shortHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}
