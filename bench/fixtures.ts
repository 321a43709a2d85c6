/**
 * The registry the authorizer benchmarks run against: one account, registered CAs, and
 * registered ACTIVE device certificates, in a real SQLite file. Shared by
 * bench/authz.ts, bench/authzDecision.ts and bench/authzPlacement.ts.
 */
import { openSqliteRegistry, type SqliteRegistry } from '../ts/registry/sqlite/registry.js';
import { certificate, identity, type Cert, type Identity, type KeyKind } from '../test/authz/pki.js';

export const ACCOUNT = '111111111111';
/** Validity stored with every registration: 2020-01-01 to 2099-12-31. */
const NOT_BEFORE = 1_577_836_800;
const NOT_AFTER = 4_102_444_799;

export interface BenchCa {
  identity: Identity;
  cert: Cert;
}

export class BenchRegistry {
  private constructor(
    readonly registry: SqliteRegistry,
    readonly sni: string,
  ) {}

  /** A new registry file at `db` with the account whose data endpoint is `<prefix>-ats…`. */
  static async create(db: string, prefix: string): Promise<BenchRegistry> {
    const registry = openSqliteRegistry({ path: db });
    await registry.createAccount({ accountId: ACCOUNT, endpointPrefix: prefix });
    return new BenchRegistry(registry, `${prefix}-ats.iot.us-east-1.localhost`);
  }

  /** A self-signed CA of `kind`, registered ACTIVE. */
  async ca(name: string, kind: KeyKind): Promise<BenchCa> {
    const id = identity(name, kind, false);
    const cert = certificate({ subject: id, ca: true });
    await this.registry.insertCaCertificate({
      accountId: ACCOUNT,
      certificateId: cert.id,
      certificatePem: cert.pem,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      status: 'ACTIVE',
      certificateMode: 'DEFAULT',
      autoRegistrationStatus: 'DISABLE',
      subject: `CN=${name},O=certgate tests`,
      registrationConfig: null,
      tags: [],
    });
    return { identity: id, cert };
  }

  /**
   * `n` distinct leaves (serials differ) sharing `key`, signed by `issuer`, registered
   * ACTIVE under the registered CA `registeredCa`: each still needs a full parse and a
   * signature check, and minting them stays fast.
   */
  async leaves(n: number, key: Identity, issuer: Identity, registeredCa: Cert): Promise<Cert[]> {
    const certs = Array.from({ length: n }, () => certificate({ subject: key, issuer }));
    for (const c of certs) {
      await this.registry.insertCertificate({
        accountId: ACCOUNT,
        certificateId: c.id,
        certificatePem: c.pem,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        status: 'ACTIVE',
        certificateMode: 'DEFAULT',
        caCertificateId: registeredCa.id,
      });
    }
    return certs;
  }

  close(): Promise<void> {
    return this.registry.close();
  }
}
