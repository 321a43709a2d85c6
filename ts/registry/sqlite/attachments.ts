/**
 * Things and policies attached to principals (certificate ARNs). certgate stores them
 * because delete and transfer preconditions depend on them (spec 4.16, 4.17, 4.20); it
 * does not evaluate policies. Things exist implicitly while a principal is attached.
 */
import { RegistryError, type PolicyRecord } from '../types.js';
import type { Sqlite } from './database.js';
import { policyFromRow, type PolicyRow } from './rows.js';

/** The SQLite registry's attachment methods (base class of `SqliteRegistry`). */
export class Attachments {
  constructor(protected readonly sqlite: Sqlite) {}

  async attachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void> {
    this.sqlite.run(
      'INSERT OR IGNORE INTO thing_principals (account_id, principal, thing_name) VALUES (?, ?, ?)',
      accountId,
      principal,
      thingName,
    );
  }

  async detachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void> {
    const result = this.sqlite.run(
      'DELETE FROM thing_principals WHERE account_id = ? AND principal = ? AND thing_name = ?',
      accountId,
      principal,
      thingName,
    );
    if (result.changes === 0) {
      throw new RegistryError('NOT_FOUND', `The principal is not attached to thing ${thingName}.`);
    }
  }

  async listPrincipalThings(accountId: string, principal: string): Promise<string[]> {
    return this.sqlite
      .all<{ thing_name: string }>(
        'SELECT thing_name FROM thing_principals WHERE account_id = ? AND principal = ? ORDER BY thing_name',
        accountId,
        principal,
      )
      .map((r) => r.thing_name);
  }

  async createPolicy(accountId: string, policyName: string, policyDocument: string): Promise<PolicyRecord> {
    return this.sqlite.write(() => {
      if (this.sqlite.get('SELECT 1 FROM policies WHERE account_id = ? AND policy_name = ?', accountId, policyName)) {
        throw new RegistryError('ALREADY_EXISTS', `The policy ${policyName} already exists.`, policyName);
      }
      const now = Date.now() / 1000;
      this.sqlite.run(
        `INSERT INTO policies (account_id, policy_name, policy_document, policy_version_id, creation_date, last_modified_date)
         VALUES (?, ?, ?, '1', ?, ?)`,
        accountId,
        policyName,
        policyDocument,
        now,
        now,
      );
      return this.requirePolicy(accountId, policyName);
    });
  }

  async getPolicy(accountId: string, policyName: string): Promise<PolicyRecord | null> {
    const row = this.sqlite.get<PolicyRow>('SELECT * FROM policies WHERE account_id = ? AND policy_name = ?', accountId, policyName);
    return row ? policyFromRow(row) : null;
  }

  async deletePolicy(accountId: string, policyName: string): Promise<void> {
    this.sqlite.write(() => {
      this.requirePolicy(accountId, policyName);
      const target = this.sqlite.get<{ target: string }>(
        'SELECT target FROM policy_targets WHERE account_id = ? AND policy_name = ? LIMIT 1',
        accountId,
        policyName,
      );
      if (target) {
        throw new RegistryError('POLICY_IN_USE', `The policy ${policyName} is attached to ${target.target}; detach it first.`);
      }
      this.sqlite.run('DELETE FROM policies WHERE account_id = ? AND policy_name = ?', accountId, policyName);
    });
  }

  async listPolicies(accountId: string): Promise<PolicyRecord[]> {
    return this.sqlite
      .all<PolicyRow>('SELECT * FROM policies WHERE account_id = ? ORDER BY policy_name', accountId)
      .map(policyFromRow);
  }

  async attachPolicy(accountId: string, policyName: string, target: string): Promise<void> {
    this.sqlite.write(() => {
      this.requirePolicy(accountId, policyName);
      this.sqlite.run(
        'INSERT OR IGNORE INTO policy_targets (account_id, policy_name, target) VALUES (?, ?, ?)',
        accountId,
        policyName,
        target,
      );
    });
  }

  async detachPolicy(accountId: string, policyName: string, target: string): Promise<void> {
    this.sqlite.write(() => {
      this.requirePolicy(accountId, policyName);
      const result = this.sqlite.run(
        'DELETE FROM policy_targets WHERE account_id = ? AND policy_name = ? AND target = ?',
        accountId,
        policyName,
        target,
      );
      if (result.changes === 0) {
        throw new RegistryError('NOT_FOUND', `The policy ${policyName} is not attached to ${target}.`);
      }
    });
  }

  async listAttachedPolicies(accountId: string, target: string): Promise<PolicyRecord[]> {
    return this.sqlite
      .all<PolicyRow>(
        `SELECT p.* FROM policy_targets t JOIN policies p ON p.account_id = t.account_id AND p.policy_name = t.policy_name
         WHERE t.account_id = ? AND t.target = ? ORDER BY p.policy_name`,
        accountId,
        target,
      )
      .map(policyFromRow);
  }

  async listPolicyTargets(accountId: string, policyName: string): Promise<string[]> {
    return this.sqlite
      .all<{ target: string }>(
        'SELECT target FROM policy_targets WHERE account_id = ? AND policy_name = ? ORDER BY target',
        accountId,
        policyName,
      )
      .map((r) => r.target);
  }

  private requirePolicy(accountId: string, policyName: string): PolicyRecord {
    const row = this.sqlite.get<PolicyRow>('SELECT * FROM policies WHERE account_id = ? AND policy_name = ?', accountId, policyName);
    if (!row) throw new RegistryError('NOT_FOUND', `The policy ${policyName} does not exist.`);
    return policyFromRow(row);
  }
}
