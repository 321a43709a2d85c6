/**
 * What the operator CLI commands (`certgate account|ca|cert ...`) share: opening the
 * registry from `--db`/`CERTGATE_DB`, picking the account, and running admin
 * operations in-process so the CLI obeys the same rules as the API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEngineName } from '../engine/load.js';
import { isPostgresUrl, openRegistry, resolveDbPath, settingsMismatch } from '../registry/open.js';
import { resolveMasterKey } from '../registry/secrets.js';
import type { Registry } from '../registry/types.js';
import { AwsError } from './errors.js';
import { LocalControlPlane, type OperationInput } from './invoke.js';

/** Options every operator command accepts. */
export interface OperatorOptions {
  db?: string;
  /** Region and endpoint domain of a database created by this command (ignored otherwise). */
  region?: string;
  endpointDomain?: string;
  account?: string;
  engine?: string;
  json?: boolean;
  /** `--master-key-file` (else CERTGATE_MASTER_KEY_FILE): needed for commands that read or write a secret of an encrypted registry. */
  masterKeyFile?: string;
  /** Create the SQLite file when it does not exist (`account create` only). */
  createRegistry?: boolean;
}

/** An open registry plus the in-process control plane, for one command. */
export class OperatorSession {
  private constructor(
    readonly registry: Registry,
    readonly plane: LocalControlPlane,
    private readonly accountOption: string | undefined,
  ) {}

  static async open(options: OperatorOptions): Promise<OperatorSession> {
    const region = options.region ?? process.env['CERTGATE_REGION'];
    const endpointDomain = options.endpointDomain ?? process.env['CERTGATE_ENDPOINT_DOMAIN'];
    const dbPath = resolveDbPath(options.db);
    // Only `account create` starts a registry; any other command on a missing file is a
    // mistyped --db / CERTGATE_DB, and would otherwise answer from an empty registry.
    if (!options.createRegistry && !isPostgresUrl(dbPath) && !existsSync(dbPath)) {
      throw new AwsError(
        'ResourceNotFoundException',
        `No registry at ${dbPath}; check --db / CERTGATE_DB, or create one with \`certgate account create\`.`,
      );
    }
    const masterKey = resolveMasterKey(options.masterKeyFile);
    const registry = openRegistry({
      path: dbPath,
      ...(masterKey !== undefined ? { masterKey } : {}),
      ...(region !== undefined ? { region } : {}),
      ...(endpointDomain !== undefined ? { endpointDomain } : {}),
    });
    // The region and endpoint domain are fixed when a registry is created; a flag that
    // asks for other values on an existing one would otherwise be ignored in silence.
    let mismatch: string | undefined;
    try {
      mismatch = settingsMismatch(dbPath, await registry.settings(), options);
    } catch (err) {
      await registry.close();
      throw err;
    }
    if (mismatch !== undefined) {
      await registry.close();
      throw new AwsError('InvalidRequestException', mismatch);
    }
    const plane = await LocalControlPlane.open(registry, parseEngineName(options.engine ?? 'native'));
    return new OperatorSession(registry, plane, options.account ?? process.env['CERTGATE_ACCOUNT']);
  }

  /** `--account`, else `CERTGATE_ACCOUNT`, else the only account in the registry. */
  async accountId(): Promise<string> {
    if (this.accountOption !== undefined) {
      if (!(await this.registry.getAccount(this.accountOption))) {
        throw new AwsError('ResourceNotFoundException', `Account ${this.accountOption} does not exist in this registry.`);
      }
      return this.accountOption;
    }
    const accounts = await this.registry.listAccounts();
    const [only, ...others] = accounts;
    if (only === undefined)
      throw new AwsError('ResourceNotFoundException', 'The registry has no account yet; run `certgate account create` first.');
    if (others.length > 0)
      throw new AwsError('InvalidRequestException', 'The registry has several accounts; choose one with --account ID.');
    return only.accountId;
  }

  /** Run an AWS operation as the selected account. */
  async call(operation: string, input: OperationInput = {}): Promise<Record<string, unknown>> {
    return (await this.plane.invoke(operation, await this.accountId(), input)) ?? {};
  }

  async close(): Promise<void> {
    await this.registry.close();
  }
}

/** Run `work` with a session, always closing it. */
export async function withSession<T>(options: OperatorOptions, work: (session: OperatorSession) => Promise<T>): Promise<T> {
  const session = await OperatorSession.open(options);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** Read a PEM (or any text) file named on the command line. */
export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new AwsError('InvalidRequestException', `Cannot read ${what} file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Epoch seconds as an ISO string for tables. */
export function isoDate(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '-';
}
