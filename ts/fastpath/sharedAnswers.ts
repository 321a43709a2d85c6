/**
 * Answers shared between requests while the registration they come from is unchanged.
 * With the committed-reads memo (committedReads.ts) a warm request gets back the very
 * standing object the previous one got, so the allow made from it — and each door's
 * encoding of that allow — can be made once and found by identity (WeakMaps: an entry
 * lives exactly as long as the object it belongs to, and a new read after any commit
 * brings a new object, hence a new answer). With the fast path off each request builds
 * its own.
 */
import type { Decision } from '../authz/decision.js';
import type { CertificateStanding } from '../registry/types.js';

/** What a door makes of a decision, made once per decision object when `enabled`. */
export class PerDecision<T> {
  readonly #make: (decision: Decision) => T;
  readonly #known: WeakMap<Decision, T> | undefined;

  constructor(enabled: boolean, make: (decision: Decision) => T) {
    this.#make = make;
    this.#known = enabled ? new WeakMap() : undefined;
  }

  get(decision: Decision): T {
    const known = this.#known;
    if (known === undefined) return this.#make(decision);
    let value = known.get(decision);
    if (value === undefined) {
      value = this.#make(decision);
      known.set(decision, value);
    }
    return value;
  }
}

/** The allow made from a standing, made once per standing object when `enabled`. */
export class SharedAllows {
  readonly #make: (standing: CertificateStanding) => Decision;
  readonly #known: WeakMap<CertificateStanding, Decision> | undefined;

  constructor(enabled: boolean, make: (standing: CertificateStanding) => Decision) {
    this.#make = make;
    this.#known = enabled ? new WeakMap() : undefined;
  }

  get(standing: CertificateStanding): Decision {
    const known = this.#known;
    if (known === undefined) return this.#make(standing);
    let decision = known.get(standing);
    if (decision === undefined) {
      decision = this.#make(standing);
      known.set(standing, decision);
    }
    return decision;
  }
}
