/**
 * Answers shared between requests while the registration they come from is unchanged.
 * With the committed-reads memo (committedReads.ts) a warm request gets back the very
 * standing object the previous one got, so the allow made from it — and each door's
 * encoding of that allow — can be made once and found by identity (WeakMaps: an entry
 * lives exactly as long as the object it belongs to, and a new read after any commit
 * brings a new object, hence a new answer). With the fast path off each request builds
 * its own.
 *
 * A shared answer is frozen, and only a shared answer is frozen ({@link isShared}): a
 * door remembers what it makes of a decision only when the decision is shared, since any
 * other decision object (a refusal, the allow of a certificate met for the first time)
 * is never seen again.
 */
import type { Decision } from '../authz/decision.js';
import type { CertificateStanding } from '../registry/types.js';
import { deepFreeze } from '../deepFreeze.js';

/**
 * Whether `decision` may come back on later requests, so that what a door makes of it is
 * worth remembering: the shared allows below and the shed answers (ts/authz/decision.ts),
 * which are the only frozen decisions.
 */
export function isShared(decision: Decision): boolean {
  return Object.isFrozen(decision);
}

/** What a door makes of a decision, made once per shared decision object when `enabled`. */
export class PerDecision<T> {
  readonly #make: (decision: Decision) => T;
  readonly #known: WeakMap<Decision, T> | undefined;

  constructor(enabled: boolean, make: (decision: Decision) => T) {
    this.#make = make;
    this.#known = enabled ? new WeakMap() : undefined;
  }

  get(decision: Decision): T {
    const known = this.#known;
    if (known === undefined || !isShared(decision)) return this.#make(decision);
    let value = known.get(decision);
    if (value === undefined) {
      value = this.#make(decision);
      known.set(decision, value);
    }
    return value;
  }
}

/**
 * The allow made from a standing: when `enabled`, one frozen allow per standing object of
 * a certificate met before (`seenBefore`: its chain's verification was cached; the
 * committed-reads memo keeps only such standings, so only their objects come back).
 * Otherwise a new, unshared allow each time.
 */
export class SharedAllows {
  readonly #make: (standing: CertificateStanding) => Decision;
  readonly #known: WeakMap<CertificateStanding, Decision> | undefined;

  constructor(enabled: boolean, make: (standing: CertificateStanding) => Decision) {
    this.#make = make;
    this.#known = enabled ? new WeakMap() : undefined;
  }

  get(standing: CertificateStanding, seenBefore: boolean): Decision {
    const known = this.#known;
    if (known === undefined || !seenBefore) return this.#make(standing);
    let decision = known.get(standing);
    if (decision === undefined) {
      decision = deepFreeze(this.#make(standing));
      known.set(standing, decision);
    }
    return decision;
  }
}
