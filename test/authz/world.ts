/**
 * A small registry world for authorizer tests: a real SQLite registry in a temp dir,
 * two accounts, a DEFAULT-mode CA in account A (auto-registration on), an SNI_ONLY CA,
 * and helpers to register certificates built by `pki.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import type { CertificateMode, CertificateStatus, Registry } from '../../ts/registry/types.js';
import { loadEngine } from '../../ts/engine/load.js';
import { certificate, identity, type Cert, type Identity } from './pki.js';

export const ACCOUNT_A = '111111111111';
export const ACCOUNT_B = '222222222222';
export const PREFIX_A = 'aaaaaaaaaaaaaa';
export const PREFIX_B = 'bbbbbbbbbbbbbb';
/** The iot:Data-ATS endpoints (region us-east-1, endpoint domain localhost). */
export const SNI_A = `${PREFIX_A}-ats.iot.us-east-1.localhost`;
export const SNI_B = `${PREFIX_B}-ats.iot.us-east-1.localhost`;
export const CUSTOM_DOMAIN_A = 'devices.example.test';
/** SigV4 credentials of account A for the admin API (AWS CLI / SDK). */
export const CREDENTIALS_A = { accessKeyId: 'AKIACERTGATETESTA001', secretAccessKey: 'certgate-test-secret-a' };

/** How {@link registerCertificate} registers: by default ACTIVE, SNI_ONLY, without a CA, in account A. */
export interface RegisterOptions {
  accountId?: string;
  status?: CertificateStatus;
  mode?: CertificateMode;
  caId?: string | null;
}

/** Register `cert` in any registry (either backend) straight through the rule layer. */
export async function registerCertificate(
  registry: Pick<Registry, 'insertCertificate'>,
  cert: Cert,
  o: RegisterOptions = {},
): Promise<void> {
  await registry.insertCertificate({
    accountId: o.accountId ?? ACCOUNT_A,
    certificateId: cert.id,
    certificatePem: cert.pem,
    notBefore: 1_577_836_800,
    notAfter: 4_102_444_799,
    status: o.status ?? 'ACTIVE',
    certificateMode: o.mode ?? 'SNI_ONLY',
    caCertificateId: o.caId ?? null,
  });
}

export interface World {
  dir: string;
  dbPath: string;
  registry: Registry;
  /** A DEFAULT-mode CA registered ACTIVE in A with auto-registration enabled. */
  ca: Cert;
  caIdentity: Identity;
  /** An RSA CA registered ACTIVE in A, auto-registration disabled. */
  rsaCa: Cert;
  rsaCaIdentity: Identity;
  /** A CA that is not registered anywhere. */
  rogueCaIdentity: Identity;
  /** Register `cert` in `accountId`. */
  register(cert: Cert, o: RegisterOptions): Promise<void>;
  setStatus(accountId: string, certificateId: string, status: CertificateStatus): Promise<void>;
  dispose(): Promise<void>;
}

/** The subject as the engine prints it (what the control plane stores for a CA). */
function subjectOf(c: Cert): string {
  const parsed = loadEngine('native').inspect(c.der);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.subject;
}

/** `open`: the registry to populate instead of a new SQLite file (e.g. PostgreSQL); `dispose` closes it. */
export async function createWorld(options: { open?: () => Registry } = {}): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-authz-'));
  const dbPath = path.join(dir, 'registry.db');
  const registry = options.open?.() ?? openSqliteRegistry({ path: dbPath });
  await registry.createAccount({ accountId: ACCOUNT_A, endpointPrefix: PREFIX_A });
  await registry.createAccount({ accountId: ACCOUNT_B, endpointPrefix: PREFIX_B });
  await registry.addDomain(ACCOUNT_A, CUSTOM_DOMAIN_A);
  await registry.addCredential({ ...CREDENTIALS_A, accountId: ACCOUNT_A });

  const caIdentity = identity('Fleet CA', 'p256');
  const ca = certificate({ subject: caIdentity, ca: true });
  const rsaCaIdentity = identity('RSA Fleet CA', 'rsa2048');
  const rsaCa = certificate({ subject: rsaCaIdentity, ca: true });
  const rogueCaIdentity = identity('Fleet CA', 'p256', false);
  const caRecord = (c: Cert, auto: boolean) => ({
    accountId: ACCOUNT_A,
    certificateId: c.id,
    certificatePem: c.pem,
    notBefore: 1_577_836_800,
    notAfter: 4_102_444_799,
    status: 'ACTIVE' as const,
    certificateMode: 'DEFAULT' as const,
    autoRegistrationStatus: auto ? ('ENABLE' as const) : ('DISABLE' as const),
    subject: subjectOf(c),
    registrationConfig: null,
    tags: [],
  });
  await registry.insertCaCertificate(caRecord(ca, true));
  await registry.insertCaCertificate(caRecord(rsaCa, false));

  return {
    dir,
    dbPath,
    registry,
    ca,
    caIdentity,
    rsaCa,
    rsaCaIdentity,
    rogueCaIdentity,
    register: (cert, o) => registerCertificate(registry, cert, o),
    async setStatus(accountId, certificateId, status) {
      await registry.setCertificateStatus(accountId, certificateId, status, [
        'ACTIVE',
        'INACTIVE',
        'PENDING_ACTIVATION',
        'PENDING_TRANSFER',
      ]);
    },
    async dispose() {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
