import { describe, expect, it } from 'vitest';
import { PROBE_CHARS, TextMemo } from '../../ts/fastpath/textMemo.js';

describe('the text memo', () => {
  const tail = 'x'.repeat(PROBE_CHARS);
  // Same length, same last PROBE_CHARS characters: the same probe.
  const one = `A${tail}`;
  const other = `B${tail}`;

  it('finds a text only by the whole text, even when another shares its probe', () => {
    const memo = new TextMemo<string>(4, 1000);
    memo.set(one, 'one');
    expect(memo.get(one)).toBe('one');
    expect(memo.get(other)).toBeUndefined();
    memo.set(other, 'other');
    expect(memo.get(other)).toBe('other');
    expect(memo.get(one)).toBeUndefined();
  });

  it('keeps at most its bound, and nothing when off or for texts over the size limit', () => {
    const memo = new TextMemo<number>(2, 10);
    memo.set('a', 1);
    memo.set('b', 2);
    memo.set('c', 3);
    expect([memo.get('a'), memo.get('b'), memo.get('c')]).toEqual([undefined, 2, 3]);
    memo.set('x'.repeat(11), 4);
    expect(memo.get('x'.repeat(11))).toBeUndefined();
    const off = new TextMemo<number>(0, 10);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
    expect(() => new TextMemo(-1, 10)).toThrow(RangeError);
  });
});
