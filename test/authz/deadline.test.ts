/**
 * The shared deadline timer (ts/authz/deadline.ts): each decision gets the timeout
 * answer exactly when its own deadline passes, not an earlier one's, and a decision that
 * finishes in time gets its own answer.
 */
import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../ts/authz/deadline.js';

const never = new Promise<string>(() => {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const expired = () => 'expired';

describe('shared deadline timer', () => {
  it('expires each pending decision at its own deadline, oldest first', async () => {
    const deadlines = new Deadlines<string>(40);
    const settled: { name: string; value: string; afterMs: number }[] = [];
    const track = (name: string, startedAt: number, work: Promise<string>) =>
      deadlines.race(work, startedAt, expired).then((value) => settled.push({ name, value, afterMs: performance.now() - startedAt }));
    const first = track('first', performance.now(), never);
    await sleep(20);
    const second = track('second', performance.now(), never);
    const third = track(
      'third',
      performance.now(),
      sleep(5).then(() => 'answered'),
    );
    await Promise.all([first, second, third]);
    expect(settled.map((s) => [s.name, s.value])).toEqual([
      ['third', 'answered'],
      ['first', 'expired'],
      ['second', 'expired'],
    ]);
    // Never before its own deadline, by the same clock the decision started on.
    for (const s of settled.filter((x) => x.value === 'expired')) expect(s.afterMs).toBeGreaterThanOrEqual(40);
  });

  it('passes a rejection of the work through and keeps serving later decisions', async () => {
    const deadlines = new Deadlines<string>(30);
    await expect(deadlines.race(Promise.reject(new Error('bug')), performance.now(), expired)).rejects.toThrow('bug');
    await expect(deadlines.race(never, performance.now(), expired)).resolves.toBe('expired');
    await expect(deadlines.race(Promise.resolve('ok'), performance.now(), expired)).resolves.toBe('ok');
  });
});
