/**
 * Opaque pagination markers shared by every backend: keyset pagination on
 * (creationDate, id), encoded as base64 so markers match the AWS model pattern
 * `[A-Za-z0-9+/]+={0,2}` (max 1024 chars,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_ListCertificates.html).
 */
import { RegistryError } from './types.js';

/** The position after which the next page starts. */
export interface Cursor {
  creationDate: number;
  id: string;
}

const MARKER_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;
/** AWS IoT model: markers are at most 1024 characters (API_ListCertificates.html, `marker`). */
export const MAX_MARKER_LENGTH = 1024;

export function encodeMarker(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.creationDate, cursor.id]), 'utf8').toString('base64');
}

/** Decode a marker produced by `encodeMarker`; anything else throws INVALID_MARKER. */
export function decodeMarker(marker: string): Cursor {
  const invalid = new RegistryError('INVALID_MARKER', 'INVALID_MARKER');
  if (marker.length > MAX_MARKER_LENGTH || !MARKER_PATTERN.test(marker)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(marker, 'base64').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid;
  const [creationDate, id] = parsed as unknown[];
  if (typeof creationDate !== 'number' || !Number.isFinite(creationDate) || typeof id !== 'string') throw invalid;
  return { creationDate, id };
}
