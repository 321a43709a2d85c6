/**
 * The one DER writer of the tests (ITU-T X.690 https://www.itu.int/rec/T-REC-X.690):
 * just the universal types the test certificates, CRLs and CSRs are made of
 * (test/authz/pki.ts, test/control/x509.ts). Written by hand: it is a few dozen lines
 * and keeps the fixtures' bytes explicit.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value; `content` is concatenated. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
export const set = (...c: Buffer[]): Buffer => tlv(0x31, ...c);
/** Context-specific constructed tag `[n]`. */
export const explicit = (n: number, ...c: Buffer[]): Buffer => tlv(0xa0 + n, ...c);
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
/** BIT STRING with no unused bits. */
export const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printable = (s: string): Buffer => tlv(0x13, Buffer.from(s, 'ascii'));
export const NULL = Buffer.from([0x05, 0x00]);

/** A non-negative INTEGER in its shortest form (a 0x00 prefix when the top bit is set). */
export function integer(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [a * 40 + b];
  for (const p of rest) {
    const stack = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

/**
 * A certificate time (epoch seconds or a Date): UTCTime through 2049, GeneralizedTime
 * from 2050 (https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5).
 */
export function time(at: number | Date): Buffer {
  const date = typeof at === 'number' ? new Date(at * 1000) : at;
  const digits = date.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

/** PEM text (RFC 7468) with 64-character lines, e.g. `pem('CERTIFICATE', der)`. */
export function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
