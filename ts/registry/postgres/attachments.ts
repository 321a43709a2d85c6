/**
 * Things and policies attached to principals (certificate ARNs) in the PostgreSQL
 * backend: the same rules as `../sqlite/attachments.ts` (stored for the delete and
 * transfer preconditions, not evaluated).
 */
import { RegistryError, type PolicyRecord } from '../types.js';
import { policyFromRow, type PolicyRow } from '../sqlite/rows.js';
import type { Pg, Queryable } from './database.js';

const POLICY = 'SELECT * FROM policies WHERE account_id = $1 AND policy_name = $2';

async function requirePolicy(tx: Queryable, accountId: string, policyName: string): Promise<PolicyRecord> {
  const row = await tx.get<PolicyRow>(POLICY, [accountId, policyName]);
  if (!row) throw new RegistryError('NOT_FOUND', `The policy ${policyName} does not exist.`);
  return policyFromRow(row);
}

/** The PostgreSQL registry's attachment methods (base class of `PostgresRegistry`). */
export class Attachments {
  constructor(protected readonly db: Pg) {}

  /** Resolves once the schema is migrated; every method waits for it. */
  protected async ready(): Promise<void> {}

  async attachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void> {
    await this.ready();
    await this.db.run(
      'INSERT INTO thing_principals (account_id, principal, thing_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [accountId, principal, thingName],
    );
  }

  async detachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void> {
    await this.ready();
    const changes = await this.db.run('DELETE FROM thing_principals WHERE account_id = $1 AND principal = $2 AND thing_name = $3', [
      accountId,
      principal,
      thingName,
    ]);
    if (changes === 0) throw new RegistryError('NOT_FOUND', `The principal is not attached to thing ${thingName}.`);
  }

  async listPrincipalThings(accountId: string, principal: string): Promise<string[]> {
    await this.ready();
    const rows = await this.db.all<{ thing_name: string }>(
      'SELECT thing_name FROM thing_principals WHERE account_id = $1 AND principal = $2 ORDER BY thing_name',
      [accountId, principal],
    );
    return rows.map((r) => r.thing_name);
  }

  async createPolicy(accountId: string, policyName: string, policyDocument: string): Promise<PolicyRecord> {
    await this.ready();
    return this.db.write(async (tx) => {
      if (await tx.get(POLICY, [accountId, policyName])) {
        throw new RegistryError('ALREADY_EXISTS', `The policy ${policyName} already exists.`, policyName);
      }
      await tx.run(
        `INSERT INTO policies (account_id, policy_name, policy_document, policy_version_id, creation_date, last_modified_date)
         VALUES ($1, $2, $3, '1', $4, $4)`,
        [accountId, policyName, policyDocument, Date.now() / 1000],
      );
      return requirePolicy(tx, accountId, policyName);
    });
  }

  async getPolicy(accountId: string, policyName: string): Promise<PolicyRecord | null> {
    await this.ready();
    const row = await this.db.get<PolicyRow>(POLICY, [accountId, policyName]);
    return row ? policyFromRow(row) : null;
  }

  async deletePolicy(accountId: string, policyName: string): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      await requirePolicy(tx, accountId, policyName);
      const target = await tx.get<{ target: string }>('SELECT target FROM policy_targets WHERE account_id = $1 AND policy_name = $2 LIMIT 1', [
        accountId,
        policyName,
      ]);
      if (target) throw new RegistryError('POLICY_IN_USE', `The policy ${policyName} is attached to ${target.target}; detach it first.`);
      await tx.run('DELETE FROM policies WHERE account_id = $1 AND policy_name = $2', [accountId, policyName]);
    });
  }

  async listPolicies(accountId: string): Promise<PolicyRecord[]> {
    await this.ready();
    return (await this.db.all<PolicyRow>('SELECT * FROM policies WHERE account_id = $1 ORDER BY policy_name', [accountId])).map(policyFromRow);
  }

  async attachPolicy(accountId: string, policyName: string, target: string): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      await requirePolicy(tx, accountId, policyName);
      await tx.run('INSERT INTO policy_targets (account_id, policy_name, target) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        accountId,
        policyName,
        target,
      ]);
    });
  }

  async detachPolicy(accountId: string, policyName: string, target: string): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      await requirePolicy(tx, accountId, policyName);
      const changes = await tx.run('DELETE FROM policy_targets WHERE account_id = $1 AND policy_name = $2 AND target = $3', [
        accountId,
        policyName,
        target,
      ]);
      if (changes === 0) throw new RegistryError('NOT_FOUND', `The policy ${policyName} is not attached to ${target}.`);
    });
  }

  async listAttachedPolicies(accountId: string, target: string): Promise<PolicyRecord[]> {
    await this.ready();
    const rows = await this.db.all<PolicyRow>(
      `SELECT p.* FROM policy_targets t JOIN policies p ON p.account_id = t.account_id AND p.policy_name = t.policy_name
       WHERE t.account_id = $1 AND t.target = $2 ORDER BY p.policy_name`,
      [accountId, target],
    );
    return rows.map(policyFromRow);
  }

  async listPolicyTargets(accountId: string, policyName: string): Promise<string[]> {
    await this.ready();
    const rows = await this.db.all<{ target: string }>(
      'SELECT target FROM policy_targets WHERE account_id = $1 AND policy_name = $2 ORDER BY target',
      [accountId, policyName],
    );
    return rows.map((r) => r.target);
  }
}
