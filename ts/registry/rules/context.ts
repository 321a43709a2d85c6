/** What every rule module is given: the store, the installation's settings, the master key. */
import { certificateArn } from '../arn.js';
import type { MasterKey } from '../secrets.js';
import type { Store } from '../store.js';
import type { RegistrySettings } from '../types.js';

export interface Ctx {
  readonly store: Store;
  readonly settings: RegistrySettings;
  readonly masterKey: MasterKey | undefined;
}

/** Epoch seconds, fractional (every timestamp column). */
export const now = (): number => Date.now() / 1000;

/** The principal ARN that things and policies attach to for a device certificate. */
export const arnOf = (ctx: Ctx, accountId: string, certificateId: string): string =>
  certificateArn(ctx.settings.region, accountId, certificateId);

/** A count as returned by either driver (PostgreSQL returns bigint as text). */
export const count = (row: { n: number | string } | undefined): number => Number(row?.n ?? 0);
