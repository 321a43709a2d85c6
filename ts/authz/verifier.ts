/**
 * Chain verification as the decision sees it: one call, run inline on the loaded engine
 * or on the worker pool, that either answers (verified or refused, both data) or fails
 * with a {@link VerifierFailure} naming the fail-closed reason (worker crash, full queue,
 * deadline, engine threw).
 */
import type { Engine, Outcome, VerifiedChain } from '../engine/types.js';
import type { EnginePool, PoolErrorCode } from '../engine/pool.js';
import type { Reason } from './reasons.js';
import type { Placement } from './placement.js';
import type { Step } from './step.js';

/** What the engine's `verifyChain` takes. */
export interface VerifyChainInput {
  /** The presented leaf, DER. */
  leaf: Uint8Array;
  /** Presented intermediates, DER, any order. */
  intermediates: Uint8Array[];
  /** The registered CA(s) the chain must end at, DER. */
  anchors: Uint8Array[];
  /** Epoch seconds at which validity is judged. */
  at: number;
  /** The leaf must allow TLS client authentication. */
  eku: 'client';
}

export type VerifyOutcome = Outcome<VerifiedChain>;

/** The verification could not be performed; the decision denies with `reason`. */
export class VerifierFailure extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    super(message);
    this.name = 'VerifierFailure';
  }
}

type SyncVerify = Engine['verifyChain'];

function args(input: VerifyChainInput): Parameters<SyncVerify> {
  return [input.leaf, input.intermediates, input.anchors, input.at, input.eku];
}

/** Runs verifications where the placement says. */
export class Verifier {
  readonly #inline: SyncVerify;
  readonly #pool: EnginePool | undefined;

  constructor(engine: Engine, pool?: EnginePool) {
    this.#inline = engine.verifyChain.bind(engine);
    this.#pool = pool;
  }

  get hasPool(): boolean {
    return this.#pool !== undefined;
  }

  /**
   * Verify: inline, the outcome itself (no promise); on the pool, a promise of it.
   * Throws (or rejects with) {@link VerifierFailure} for every fail-closed condition.
   * `budgetMs` is what is left of the request deadline (the pool aborts a task past it).
   */
  verify(input: VerifyChainInput, placement: Placement, budgetMs: number): Step<VerifyOutcome> {
    if (placement === 'pool' && this.#pool !== undefined) return this.#onPool(input, budgetMs);
    try {
      return this.#inline(...args(input));
    } catch (err) {
      throw new VerifierFailure('ENGINE_ERROR', `engine threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async #onPool(input: VerifyChainInput, budgetMs: number): Promise<VerifyOutcome> {
    let outcome: VerifyOutcome;
    try {
      // AbortSignal.timeout (inside the pool) takes whole milliseconds only.
      outcome = await (this.#pool as EnginePool).call<VerifiedChain>('verifyChain', args(input), Math.max(1, Math.floor(budgetMs)));
    } catch (err) {
      throw new VerifierFailure('ENGINE_ERROR', `pool call threw: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!outcome.ok && outcome.code in POOL_REASONS) {
      throw new VerifierFailure(POOL_REASONS[outcome.code as PoolErrorCode], outcome.message);
    }
    return outcome;
  }
}

/** The pool's own refusal codes (`ts/engine/pool.ts`) and the reason each becomes. */
const POOL_REASONS: Record<PoolErrorCode, Reason> = {
  POOL_QUEUE_FULL: 'QUEUE_FULL',
  POOL_TIMEOUT: 'DEADLINE_EXCEEDED',
  POOL_WORKER_FAILED: 'WORKER_FAILED',
  POOL_CLOSED: 'ENGINE_ERROR',
};
