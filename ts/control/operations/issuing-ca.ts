/**
 * certgate's issuing CA for CreateKeysAndCertificate / CreateCertificateFromCsr. It is
 * created on first use (RSA 2048 key from node:crypto, certificate built by the engine)
 * and stored in the registry, so every process signs with the same CA.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IssuingCaRecord } from '../../registry/types.js';
import type { ControlContext } from '../context.js';
import { AwsError } from '../errors.js';

/** Validity of the issuing CA: 2020-01-01 to 2049-12-31T23:59:59Z, covering every certificate it signs (spec 5). */
const CA_NOT_BEFORE = 1577836800;
const CA_NOT_AFTER = 2524607999;

/** The stored issuing CA, creating it when the registry has none. */
export async function issuingCa(ctx: ControlContext): Promise<IssuingCaRecord> {
  const existing = await ctx.registry.getIssuingCa();
  if (existing) return existing;
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const made = ctx.engine.createIssuingCa(
    Buffer.from(privateKeyPem, 'utf8'),
    `CN=certgate issuing CA ${ctx.settings.region},O=certgate`,
    randomBytes(20),
    CA_NOT_BEFORE,
    CA_NOT_AFTER,
  );
  if (!made.ok) throw new AwsError('InternalFailureException', `Creating the issuing CA failed: ${made.message}`);
  // Another process may have raced us; the registry keeps the first one stored.
  return ctx.registry.ensureIssuingCa({ certificatePem: made.certificatePem, privateKeyPem, createdAt: ctx.now() });
}
