/**
 * Replacing a CA's certificate revocation list (branch crl): the one path both the admin
 * API (`PUT /certgate/cas/{caId}/crl`) and the distribution-point refresh take. The
 * engine verifies the CRL against the registered CA (RFC 5280 section 5 and 6.3,
 * https://www.rfc-editor.org/rfc/rfc5280#section-6.3) with the current CRL's number as
 * the floor; a CRL already past its nextUpdate is refused too. Only then is it stored,
 * and only over the CRL it was checked against (compare-and-set), so a bad or stale
 * CRL changes nothing.
 */
import type { Engine, Refusal, VerifiedCrl } from '../engine/types.js';
import type { CaCrlMeta, CrlSource, Registry } from '../registry/types.js';

export interface CrlUpload {
  accountId: string;
  caCertificateId: string;
  /** DER, or PEM with an `X509 CRL` block (and optionally the delegated signer's certificate). */
  bytes: Uint8Array;
  source: CrlSource;
  sourceUrl: string | null;
}

/**
 * Codes of this layer (the engine's are in docs/errors.md): `CA_NOT_FOUND`, the CA is not
 * registered in the account; `CRL_EXPIRED`, the CRL's nextUpdate has passed.
 */
export type CrlUploadCode = 'CA_NOT_FOUND' | 'CRL_EXPIRED';

/** Why a CRL was not stored: an engine error code or one of this module's. */
export type CrlRefusal = { ok: false; code: CrlUploadCode | Refusal['code']; message: string };
export type CrlReplaced = { ok: true; meta: CaCrlMeta; crl: VerifiedCrl; unchanged: boolean };

/** Verify `upload` against its registered CA at `now` (epoch seconds) and store it. */
export async function replaceCrl(registry: Registry, engine: Engine, upload: CrlUpload, now: number): Promise<CrlReplaced | CrlRefusal> {
  const ca = await registry.getCaCertificate(upload.accountId, upload.caCertificateId);
  if (ca === null)
    return { ok: false, code: 'CA_NOT_FOUND', message: `The CA certificate ${upload.caCertificateId} does not exist in this account.` };
  const current = await registry.getCaCrlMeta(upload.accountId, upload.caCertificateId);
  const at = Math.floor(now);
  const verified = engine.verifyCrl(upload.bytes, Buffer.from(ca.certificatePem), at, current?.crlNumber ?? null);
  if (!verified.ok) return { ok: false, code: verified.code, message: verified.message };
  if (verified.nextUpdate !== null && verified.nextUpdate < at) {
    return {
      ok: false,
      code: 'CRL_EXPIRED',
      message: `The CRL's nextUpdate (${new Date(verified.nextUpdate * 1000).toISOString()}) has passed.`,
    };
  }
  if (current !== null && current.crlId === verified.crlId) return { ok: true, meta: current, crl: verified, unchanged: true };
  const meta = await registry.putCaCrl(
    {
      accountId: upload.accountId,
      caCertificateId: upload.caCertificateId,
      crl: upload.bytes,
      crlId: verified.crlId,
      crlNumber: verified.crlNumber,
      thisUpdate: verified.thisUpdate,
      nextUpdate: verified.nextUpdate,
      entries: verified.revokedSerials.length,
      source: upload.source,
      sourceUrl: upload.sourceUrl,
      verifiedAt: at,
    },
    current?.crlId ?? null,
  );
  return { ok: true, meta, crl: verified, unchanged: false };
}
