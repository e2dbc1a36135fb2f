import { createHash } from 'node:crypto';

/** SHA-256 of a file's text with CRLF/CR folded to LF, so a checkout on Windows is not "modified". */
export function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n?/g, '\n')).digest('hex');
}
