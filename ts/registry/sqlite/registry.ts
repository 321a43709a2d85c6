/**
 * The SQLite registry: one file shared by every `certgate serve` process and the CLI.
 * The rules are `../rules/` over this backend's store (database.ts); writes commit
 * (fsync'd WAL) before the promise resolves, so the next read in any process sees them.
 * The authorizer's reads are answered synchronously by reads.ts.
 */
import { StoreRegistry, type RegistryOptions } from '../rules/registry.js';
import type { Account, CaCertificateRecord, CaCrlMeta, CertificateRecord, CertificateStanding, RegistrySettings } from '../types.js';
import { Sqlite, SqliteStore } from './database.js';
import { SqliteReads } from './reads.js';

/** Options for `openSqliteRegistry`. Settings apply only when the file is created. */
export interface SqliteRegistryOptions extends RegistryOptions {
  path: string;
  /**
   * With the fast path on, also check "nothing committed since" through the wal-index
   * header mapped by the native addon (ts/fastpath/walIndex.ts). Default false: the
   * registry never loads the addon by itself; `certgate serve` asks for it only with
   * `--engine native`, which loads the addon anyway. Both ways are exact.
   */
  watchWalIndex?: boolean;
  /**
   * The warm-path machinery (ts/fastpath/; `--no-fast-path` turns it off): certificate
   * reads reused while nothing was committed. Default true; false reads every time.
   */
  fastPath?: boolean;
  /**
   * With the fast path: `all` holds every registered certificate's standing in memory
   * (ts/fastpath/standings.ts; `certgate serve --view-standings`, default all there);
   * `seen` (the default here) reads SQLite for a certificate not seen before.
   */
  standings?: 'all' | 'seen';
  /** With `all`: standing objects kept ready for warm decisions (`--view-cache-size`). */
  viewCacheSize?: number;
}

/** Open (creating and migrating if needed) the SQLite registry at `options.path`. */
export function openSqliteRegistry(options: SqliteRegistryOptions): SqliteRegistry {
  return new SqliteRegistry(options);
}

/** Settings the synchronous reads route by; reading them before the registry is open fails (closed). */
function settingsOnceOpen(): { fill(settings: RegistrySettings): void; view: RegistrySettings } {
  let fixed: RegistrySettings | undefined;
  const known = (): RegistrySettings => {
    if (fixed === undefined) throw new Error('the registry is still opening');
    return fixed;
  };
  const view = {
    get region() {
      return known().region;
    },
    get endpointDomain() {
      return known().endpointDomain;
    },
  };
  return { fill: (settings) => (fixed = settings), view };
}

export class SqliteRegistry extends StoreRegistry {
  /** The authorizer's reads (reads.ts). */
  private readonly reads: SqliteReads;
  private readonly sqlite: SqliteStore;
  private readonly fixed: ReturnType<typeof settingsOnceOpen>;

  constructor(options: SqliteRegistryOptions) {
    const read = new Sqlite(options.path);
    const store = new SqliteStore(read, options.path);
    const fixed = settingsOnceOpen();
    super(store, options);
    this.sqlite = store;
    this.fixed = fixed;
    this.reads = new SqliteReads(read, fixed.view, {
      ...(options.fastPath === undefined ? {} : { fastPath: options.fastPath }),
      ...(options.watchWalIndex === undefined ? {} : { watchWalIndex: options.watchWalIndex }),
      ...(options.standings === undefined ? {} : { standings: options.standings }),
      ...(options.viewCacheSize === undefined ? {} : { materialised: options.viewCacheSize }),
    });
  }

  protected override opened(settings: RegistrySettings): void {
    // Runs inside the super constructor's promise chain, after this constructor returned.
    this.fixed.fill(settings);
  }

  /** Whether certificate reads are checked through the mapped wal-index header. */
  get watchesWalIndex(): boolean {
    return this.reads.watchesWalIndex;
  }

  /** Whether every standing is held in memory (`standings: 'all'` with the fast path). */
  get holdsStandings(): boolean {
    return this.reads.holdsStandings;
  }

  /** Certificates whose standing this process holds in memory (`standings: 'all'`; else 0). */
  get standingsHeld(): number {
    return this.reads.standingsHeld;
  }

  /** With `standings: 'all'`: load them now (before serving) rather than on the first decision. */
  async loadStandings(): Promise<void> {
    await this.ctx();
    this.reads.loadStandings();
  }

  override async close(): Promise<void> {
    await super.close();
    await this.sqlite.close();
    this.reads.close();
    this.sqlite.read.close();
  }

  // ---- The authorizer's reads: answered by reads.ts (synchronously for the decision path) ----

  override async accountForHost(host: string): Promise<Account | null> {
    await this.ctx();
    return this.reads.accountForHost(host);
  }
  accountForHostSync(host: string): Account | null {
    return this.reads.accountForHost(host);
  }
  override async getCertificate(accountId: string, certificateId: string): Promise<CertificateRecord | null> {
    return this.reads.certificate(accountId, certificateId);
  }
  override async getCertificateStanding(accountId: string, certificateId: string): Promise<CertificateStanding | null> {
    await this.ctx();
    return this.reads.certificateStanding(accountId, certificateId);
  }
  getCertificateStandingSync(accountId: string, certificateId: string, seenBefore = true): CertificateStanding | null {
    return this.reads.certificateStanding(accountId, certificateId, seenBefore);
  }
  override async findCertificateRegistrations(certificateId: string): Promise<CertificateRecord[]> {
    return this.reads.certificateRegistrations(certificateId);
  }
  override async getCaCertificate(accountId: string, caCertificateId: string): Promise<CaCertificateRecord | null> {
    return this.reads.caCertificate(accountId, caCertificateId);
  }
  getCaCertificateSync(accountId: string, caCertificateId: string): CaCertificateRecord | null {
    return this.reads.caCertificate(accountId, caCertificateId);
  }
  getCaCrlMetaSync(accountId: string, caCertificateId: string): CaCrlMeta | null {
    return this.reads.caCrlMeta(accountId, caCertificateId);
  }
  commitStampSync(): number {
    return this.reads.commitStamp();
  }
}
