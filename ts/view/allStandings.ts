/**
 * The standing (status, mode, CA, thing names) of EVERY registered certificate, held by a
 * fleet view in `--view-standings all` (the default): a certificate absent from a current
 * view is not registered, so no decision reads PostgreSQL for a standing. Kept current by
 * the view (fleetView.ts): a whole load in one snapshot at start and after a gap, and the
 * state the change log names applied as it arrives (ts/view/index.ts, argument step 2).
 *
 * Why this is written by hand, and packed: memory per entry. A fleet registry holds a
 * million certificates, and every serving process holds all of them. An object per
 * standing (the `CertificateStanding` a decision reads, its key string and a cache
 * entry) cost ~285 B of heap each (bench/fleetView.ts), ~285 MB per process at
 * 1,000,000. No cache or map library stores packed values, so here:
 * - one `Map` per account, keyed by the certificate id packed to its 32 bytes as a
 *   one-byte string (48 B of heap instead of 80 B for the 64-character hex id; an id that
 *   is not 64 lowercase hex digits is kept whole behind a marker character above U+00FF,
 *   so it never equals a packed key);
 * - the value a small integer (a V8 Smi: no allocation) packing the status and mode (as
 *   indices into tiny interned tables) and the CA id (an index into an interned table of
 *   CA ids, 0 = none);
 * - thing names in a second, lazily created map, only for certificates that have things
 *   (the name itself when there is one, as most devices have: no array per entry).
 * A decision gets a `CertificateStanding` built on read, and the same object again while
 * the registration is unchanged from a small lru of materialised ones (bounded by
 * `--view-cache-size`): the warm path shares the allow made from a standing, and each
 * door's encoding of it, by the standing object's identity (ts/fastpath/sharedAnswers.ts),
 * so a fresh object per read cost a warm decision its shared answer. Every write of a
 * certificate's standing drops its materialised object first. Measured heap per standing:
 * docs/fleet.md, bench/README.md "Fleet view".
 */
import { LRUCache } from 'lru-cache';
import type { CertificateMode, CertificateStanding, CertificateStatus } from '../registry/types.js';

/** What a registry row says of a certificate's standing (things apart). */
export interface StandingState {
  readonly status: string;
  readonly mode: string;
  readonly caCertificateId: string | null;
}

/**
 * A change-log row read together with its certificate's state in the same snapshot (the
 * SQLite and PostgreSQL catch-ups both read it so): for a certificate or attachment
 * change, the certificate's standing now, `status` null when it is not registered in
 * that account (deleted, transferred away).
 */
export interface StandingChange {
  kind: string;
  account_id: string;
  resource_id: string;
  status: string | null;
  certificate_mode: string | null;
  ca_certificate_id: string | null;
}

const STATUS_BITS = 4;
const MODE_BITS = 2;
const CA_SHIFT = STATUS_BITS + MODE_BITS;
/** A Smi is 31 bits on every V8 build: the CA index gets what the status and mode leave. */
const MAX_CA_INDEX = 2 ** (31 - CA_SHIFT) - 1;

interface AccountStandings {
  readonly packed: Map<string, number>;
  things: Map<string, string | readonly string[]> | undefined;
}

const NO_THINGS: readonly string[] = Object.freeze([]);
const thingList = (held: string | readonly string[] | undefined): readonly string[] =>
  held === undefined ? NO_THINGS : typeof held === 'string' ? [held] : held;
const HEX_ID = /^[0-9a-f]{64}$/;
const scratch = Buffer.alloc(32);

/** The map key of a certificate id: 32 one-byte characters for the usual SHA-256 hex id. */
export function packId(certificateId: string): string {
  if (certificateId.length === 64 && HEX_ID.test(certificateId)) {
    scratch.write(certificateId, 'hex');
    return scratch.toString('latin1');
  }
  return `\u0100${certificateId}`;
}

/** A small table of distinct strings, each named by its index. */
class Interned {
  readonly #values: string[] = [];
  readonly #index = new Map<string, number>();

  constructor(
    private readonly limit: number,
    first: readonly string[] = [],
  ) {
    for (const v of first) this.index(v);
  }

  index(value: string): number {
    let i = this.#index.get(value);
    if (i === undefined) {
      i = this.#values.length;
      if (i > this.limit) throw new RangeError(`more than ${this.limit + 1} distinct values to hold (${value})`);
      this.#values.push(value);
      this.#index.set(value, i);
    }
    return i;
  }

  value(i: number): string {
    return this.#values[i] as string;
  }
}

export class AllStandings {
  readonly #accounts = new Map<string, AccountStandings>();
  readonly #statuses = new Interned(2 ** STATUS_BITS - 1, [
    'ACTIVE',
    'INACTIVE',
    'REVOKED',
    'PENDING_TRANSFER',
    'REGISTER_INACTIVE',
    'PENDING_ACTIVATION',
  ]);
  readonly #modes = new Interned(2 ** MODE_BITS - 1, ['DEFAULT', 'SNI_ONLY']);
  /** CA ids; index 0 stands for "no CA". */
  readonly #cas = new Interned(MAX_CA_INDEX, ['']);
  /**
   * Standings materialised for decisions, by certificateId alone (the string the decision
   * already holds, its hash computed: no key built per lookup), each answered only for
   * its own account: a certificate in two accounts has its two objects evict each other.
   */
  readonly #made: LRUCache<string, CertificateStanding>;
  #size = 0;
  hits = 0;

  constructor(materialised = 10_000) {
    this.#made = new LRUCache({ max: Math.max(1, materialised) });
  }

  /** Standings held (registered certificates). */
  get size(): number {
    return this.#size;
  }

  /**
   * The standing, or null: not registered (the view holds every registered certificate).
   * `seenBefore` false (a certificate met for the first time, ts/fastpath/index.ts
   * "Remembered on second sight"): a fresh object, neither looked up among nor added to
   * the materialised ones.
   */
  get(accountId: string, certificateId: string, seenBefore = true): CertificateStanding | null {
    this.hits++;
    const made = seenBefore ? this.#made.get(certificateId) : undefined;
    if (made !== undefined && made.accountId === accountId) return made;
    const account = this.#accounts.get(accountId);
    if (account === undefined) return null;
    const key = packId(certificateId);
    const packed = account.packed.get(key);
    if (packed === undefined) return null;
    const ca = packed >>> CA_SHIFT;
    const standing: CertificateStanding = {
      accountId,
      certificateId,
      status: this.#statuses.value(packed & (2 ** STATUS_BITS - 1)) as CertificateStatus,
      certificateMode: this.#modes.value((packed >>> STATUS_BITS) & (2 ** MODE_BITS - 1)) as CertificateMode,
      caCertificateId: ca === 0 ? null : this.#cas.value(ca),
      things: thingList(account.things?.get(key)),
    };
    if (!seenBefore) return standing;
    // Kept and shared by every later decision: frozen, so no caller can change it under another.
    Object.freeze(standing.things);
    this.#made.set(certificateId, Object.freeze(standing));
    return standing;
  }

  /**
   * Hold `state` (null: not registered, dropped) and, when given, the thing names
   * (sorted; an empty list drops them).
   */
  set(accountId: string, certificateId: string, state: StandingState | null, things?: readonly string[]): void {
    this.#made.delete(certificateId);
    const key = packId(certificateId);
    let account = this.#accounts.get(accountId);
    if (state === null) {
      if (account === undefined) return;
      if (account.packed.delete(key)) this.#size--;
      account.things?.delete(key);
      return;
    }
    if (account === undefined) {
      account = { packed: new Map(), things: undefined };
      this.#accounts.set(accountId, account);
    }
    const packed =
      this.#statuses.index(state.status) |
      (this.#modes.index(state.mode) << STATUS_BITS) |
      (this.#cas.index(state.caCertificateId ?? '') << CA_SHIFT);
    const before = account.packed.size;
    account.packed.set(key, packed);
    this.#size += account.packed.size - before;
    if (things !== undefined) this.#setThings(account, key, things);
  }

  /**
   * Apply a change read with its certificate's state (and its things, sorted): the state
   * replaces what is held, or drops it when the certificate is no longer registered there.
   * False when the change is not about a certificate's standing (another kind: routing,
   * CAs, CRLs), which the caller handles. `caId` may give an interned copy of the CA id.
   */
  applyChange(change: StandingChange, things: readonly string[], caId: (id: string) => string = (id) => id): boolean {
    if (change.kind !== 'certificate' && change.kind !== 'attachment') return false;
    const ca = change.ca_certificate_id;
    const state =
      change.status === null
        ? null
        : { status: change.status, mode: change.certificate_mode ?? '', caCertificateId: ca === null ? null : caId(ca) };
    this.set(change.account_id, change.resource_id, state, things);
    return true;
  }

  /** Add `thingName` to a held certificate's things (a whole load streams them after the standings); false if not held. */
  addThing(accountId: string, certificateId: string, thingName: string): boolean {
    const account = this.#accounts.get(accountId);
    const key = packId(certificateId);
    if (account === undefined || !account.packed.has(key)) return false;
    this.#made.delete(certificateId);
    this.#setThings(account, key, [...thingList(account.things?.get(key)), thingName]);
    return true;
  }

  #setThings(account: AccountStandings, key: string, things: readonly string[]): void {
    if (things.length === 0) {
      account.things?.delete(key);
      return;
    }
    account.things ??= new Map();
    account.things.set(key, things.length === 1 ? (things[0] as string) : Object.freeze([...things]));
  }
}
