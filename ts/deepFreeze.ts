/**
 * Freeze an object and everything reachable from it, so a value shared between callers
 * (a cached record, an encoded answer's source) cannot be changed by one of them.
 * Already-frozen objects are not walked again, which also ends cycles.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
