/**
 * Things and policies attached to principals (certificate ARNs). The registry stores
 * them because the delete and transfer preconditions depend on them
 * (https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteCertificate.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html); it does not
 * evaluate policies. Things exist implicitly while a principal is attached.
 */
import { policyFromRow, type PolicyRow } from '../rows.js';
import type { Queries } from '../store.js';
import { RegistryError, type PolicyRecord } from '../types.js';
import { now, type Ctx } from './context.js';

const POLICY = 'SELECT * FROM policies WHERE account_id = ? AND policy_name = ?';

async function requirePolicy(tx: Queries, accountId: string, policyName: string): Promise<PolicyRecord> {
  const row = await tx.get<PolicyRow>(POLICY, [accountId, policyName]);
  if (!row) throw new RegistryError('NOT_FOUND', 'POLICY_NOT_FOUND', { policyName });
  return policyFromRow(row);
}

const column = async <K extends string>(rows: Promise<Record<K, string>[]>, key: K): Promise<string[]> => (await rows).map((r) => r[key]);

// Attach and detach are transactions, not autocommit statements: on PostgreSQL they log
// a change (ts/view/), whose sequence is drawn in the transaction and retried on a conflict.
export async function attachThingPrincipal(ctx: Ctx, accountId: string, thingName: string, principal: string): Promise<void> {
  await ctx.store.transaction((tx) =>
    tx.run('INSERT INTO thing_principals (account_id, principal, thing_name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
      accountId,
      principal,
      thingName,
    ]),
  );
}

export async function detachThingPrincipal(ctx: Ctx, accountId: string, thingName: string, principal: string): Promise<void> {
  const changes = await ctx.store.transaction((tx) =>
    tx.run('DELETE FROM thing_principals WHERE account_id = ? AND principal = ? AND thing_name = ?', [accountId, principal, thingName]),
  );
  if (changes === 0) throw new RegistryError('NOT_FOUND', 'THING_NOT_ATTACHED', { thingName });
}

export function listPrincipalThings(ctx: Ctx, accountId: string, principal: string): Promise<string[]> {
  const rows = ctx.store.all<{ thing_name: string }>(
    'SELECT thing_name FROM thing_principals WHERE account_id = ? AND principal = ? ORDER BY thing_name',
    [accountId, principal],
  );
  return column(rows, 'thing_name');
}

export function createPolicy(ctx: Ctx, accountId: string, policyName: string, policyDocument: string): Promise<PolicyRecord> {
  return ctx.store.transaction(async (tx) => {
    if (await tx.get(POLICY, [accountId, policyName]))
      throw new RegistryError('ALREADY_EXISTS', 'POLICY_EXISTS', { resourceId: policyName, policyName });
    const at = now();
    await tx.run(
      `INSERT INTO policies (account_id, policy_name, policy_document, policy_version_id, creation_date, last_modified_date)
       VALUES (?, ?, ?, '1', ?, ?)`,
      [accountId, policyName, policyDocument, at, at],
    );
    return requirePolicy(tx, accountId, policyName);
  });
}

export async function getPolicy(ctx: Ctx, accountId: string, policyName: string): Promise<PolicyRecord | null> {
  const row = await ctx.store.get<PolicyRow>(POLICY, [accountId, policyName]);
  return row ? policyFromRow(row) : null;
}

/** A policy is deleted only once it has no targets. */
export function deletePolicy(ctx: Ctx, accountId: string, policyName: string): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    await requirePolicy(tx, accountId, policyName);
    const target = await tx.get<{ target: string }>('SELECT target FROM policy_targets WHERE account_id = ? AND policy_name = ? LIMIT 1', [
      accountId,
      policyName,
    ]);
    if (target) throw new RegistryError('POLICY_IN_USE', 'POLICY_IN_USE', { policyName, target: target.target });
    await tx.run('DELETE FROM policies WHERE account_id = ? AND policy_name = ?', [accountId, policyName]);
  });
}

export async function listPolicies(ctx: Ctx, accountId: string): Promise<PolicyRecord[]> {
  return (await ctx.store.all<PolicyRow>('SELECT * FROM policies WHERE account_id = ? ORDER BY policy_name', [accountId])).map(
    policyFromRow,
  );
}

export function attachPolicy(ctx: Ctx, accountId: string, policyName: string, target: string): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    await requirePolicy(tx, accountId, policyName);
    await tx.run('INSERT INTO policy_targets (account_id, policy_name, target) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
      accountId,
      policyName,
      target,
    ]);
  });
}

export function detachPolicy(ctx: Ctx, accountId: string, policyName: string, target: string): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    await requirePolicy(tx, accountId, policyName);
    const changes = await tx.run('DELETE FROM policy_targets WHERE account_id = ? AND policy_name = ? AND target = ?', [
      accountId,
      policyName,
      target,
    ]);
    if (changes === 0) throw new RegistryError('NOT_FOUND', 'POLICY_NOT_ATTACHED', { policyName, target });
  });
}

export async function listAttachedPolicies(ctx: Ctx, accountId: string, target: string): Promise<PolicyRecord[]> {
  const rows = await ctx.store.all<PolicyRow>(
    `SELECT p.* FROM policy_targets t JOIN policies p ON p.account_id = t.account_id AND p.policy_name = t.policy_name
     WHERE t.account_id = ? AND t.target = ? ORDER BY p.policy_name`,
    [accountId, target],
  );
  return rows.map(policyFromRow);
}

export function listPolicyTargets(ctx: Ctx, accountId: string, policyName: string): Promise<string[]> {
  return column(
    ctx.store.all<{ target: string }>('SELECT target FROM policy_targets WHERE account_id = ? AND policy_name = ? ORDER BY target', [
      accountId,
      policyName,
    ]),
    'target',
  );
}
