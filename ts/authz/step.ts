/**
 * A value now, or later: what a decision step returns. A registry that answers
 * synchronously (SQLite) keeps the whole decision synchronous — no promise is allocated
 * on that path — while an asynchronous one (PostgreSQL) makes the same steps return
 * promises. One sequence of steps serves both (decision.ts); there is no second copy for
 * the synchronous case.
 */
export type Step<T> = T | Promise<T>;

/** `next(value)` now when `step` is a value, else once the promise settles. */
export function andThen<T, U>(step: Step<T>, next: (value: T) => Step<U>): Step<U> {
  return step instanceof Promise ? step.then(next) : next(step);
}
