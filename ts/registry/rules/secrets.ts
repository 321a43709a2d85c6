/**
 * The registry's secrets at rest (../secrets.ts): SigV4 secret keys and issuing CA keys
 * are stored through the secret box of the sealing state they are read or written
 * under, and `rewriteSecrets` seals, rotates or opens every one in one transaction.
 */
import { credentialFromRow, type CredentialRow } from '../rows.js';
import { binding, secretBox, type ResealReport, type SecretBox, type SecretRewrite } from '../secrets.js';
import type { Queries } from '../store.js';
import type { Credential, IssuingCaRecord } from '../types.js';
import { now, type Ctx } from './context.js';

/** The sealing key id as a column, so a secret and the state it was stored under are read in one snapshot. */
export const SEALED_WITH = '(SELECT key_id FROM secrets_sealing WHERE id = 1) AS sealed_with';

export type Sealed<Row> = Row & { sealed_with: string | null };

export async function sealedWith(db: Queries): Promise<string | null> {
  return (await db.get<{ key_id: string }>('SELECT key_id FROM secrets_sealing WHERE id = 1'))?.key_id ?? null;
}

/** The box for the sealing state `sealed` (inside the transaction that uses it, or read with SEALED_WITH). */
export const boxOf = (ctx: Ctx, sealed: string | null): SecretBox => secretBox(ctx.masterKey, sealed);

/** A stored key with its secret opened. */
export const openCredential = (ctx: Ctx, row: Sealed<CredentialRow>): Credential => ({
  ...credentialFromRow(row),
  secretAccessKey: boxOf(ctx, row.sealed_with).read(row.secret_access_key, binding.credential(row.access_key_id)),
});

type IssuingRow = Sealed<{ certificate_pem: string; private_key_pem: string; created_at: number }>;

/** The installation's issuing CA (`accountId` null) or an account's imported one. */
export async function issuingCa(ctx: Ctx, accountId: string | null): Promise<IssuingCaRecord | null> {
  const row =
    accountId === null
      ? await ctx.store.get<IssuingRow>(`SELECT *, ${SEALED_WITH} FROM issuing_ca WHERE id = 1`)
      : await ctx.store.get<IssuingRow>(`SELECT *, ${SEALED_WITH} FROM account_issuing_cas WHERE account_id = ?`, [accountId]);
  if (!row) return null;
  const bind = accountId === null ? binding.installationIssuingCa() : binding.accountIssuingCa(accountId);
  return {
    certificatePem: row.certificate_pem,
    privateKeyPem: boxOf(ctx, row.sealed_with).read(row.private_key_pem, bind),
    createdAt: row.created_at,
  };
}

/** Store the installation's issuing CA unless one exists (`replace` false) or in its place. */
export async function putIssuingCa(ctx: Ctx, tx: Queries, record: IssuingCaRecord, replace: boolean): Promise<void> {
  const onConflict = replace
    ? 'DO UPDATE SET certificate_pem = excluded.certificate_pem, private_key_pem = excluded.private_key_pem, created_at = excluded.created_at'
    : 'DO NOTHING';
  const key = boxOf(ctx, await sealedWith(tx)).store(record.privateKeyPem, binding.installationIssuingCa());
  await tx.run(
    `INSERT INTO issuing_ca (id, certificate_pem, private_key_pem, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) ${onConflict}`,
    [record.certificatePem, key, record.createdAt],
  );
}

export async function putAccountIssuingCa(ctx: Ctx, tx: Queries, record: IssuingCaRecord, accountId: string): Promise<void> {
  await tx.run(
    `INSERT INTO account_issuing_cas (account_id, certificate_pem, private_key_pem, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (account_id) DO UPDATE SET certificate_pem = excluded.certificate_pem, private_key_pem = excluded.private_key_pem, created_at = excluded.created_at`,
    [
      accountId,
      record.certificatePem,
      boxOf(ctx, await sealedWith(tx)).store(record.privateKeyPem, binding.accountIssuingCa(accountId)),
      record.createdAt,
    ],
  );
}

/** Every stored secret through `plan`, in one transaction; the store scrubs the replaced bytes. */
export function rewriteSecrets(ctx: Ctx, plan: SecretRewrite): Promise<ResealReport> {
  const rewriteAll = () =>
    ctx.store.transaction(async (tx) => {
      const current = await sealedWith(tx);
      plan.check(current);
      let secrets = 0;
      const rewrite = async (stored: string, bind: string, update: string, key: unknown[]): Promise<void> => {
        const next = plan.rewrite(stored, bind);
        if (next === stored) return;
        secrets += 1;
        await tx.run(update, [next, ...key]);
      };
      for (const row of await tx.all<{ access_key_id: string; secret_access_key: string }>(
        'SELECT access_key_id, secret_access_key FROM credentials',
      )) {
        await rewrite(
          row.secret_access_key,
          binding.credential(row.access_key_id),
          'UPDATE credentials SET secret_access_key = ? WHERE access_key_id = ?',
          [row.access_key_id],
        );
      }
      const ca = await tx.get<{ private_key_pem: string }>('SELECT private_key_pem FROM issuing_ca WHERE id = 1');
      if (ca)
        await rewrite(ca.private_key_pem, binding.installationIssuingCa(), 'UPDATE issuing_ca SET private_key_pem = ? WHERE id = 1', []);
      for (const row of await tx.all<{ account_id: string; private_key_pem: string }>(
        'SELECT account_id, private_key_pem FROM account_issuing_cas',
      )) {
        const update = 'UPDATE account_issuing_cas SET private_key_pem = ? WHERE account_id = ?';
        await rewrite(row.private_key_pem, binding.accountIssuingCa(row.account_id), update, [row.account_id]);
      }
      if (current !== plan.keyId || secrets > 0) {
        await tx.run(
          'INSERT INTO secrets_sealing (id, key_id, sealed_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, sealed_at = excluded.sealed_at',
          [plan.keyId, now()],
        );
      }
      return { secrets, keyId: plan.keyId };
    });
  return ctx.store.scrubbing(rewriteAll, (report) => report.secrets > 0);
}
