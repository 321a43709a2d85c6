/**
 * gRPC answers encoded once per distinct answer (ts/ingress/encodedAnswers.ts): the bytes
 * are exactly what the method's own serializer produces for that decision, and answers
 * differing in any field the response shows never share bytes.
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../ts/authz/decision.js';
import { EncodedAnswers } from '../../ts/fastpath/encodedAnswers.js';
import { deepFreeze } from '../../ts/deepFreeze.js';
import { authorizationService } from '../../ts/ingress/envoyProtos.js';
import { checkResponse } from '../../ts/ingress/grpc.js';

const ALLOW: Decision = {
  allow: true,
  reason: 'CERTIFICATE_ACTIVE',
  certificateId: 'a'.repeat(64),
  accountId: '111111111111',
  certificateMode: 'DEFAULT',
  things: ['pump-7'],
};
const VARIANTS: Decision[] = [
  ALLOW,
  { ...ALLOW, certificateId: 'b'.repeat(64) },
  { ...ALLOW, accountId: '222222222222' },
  { ...ALLOW, certificateMode: 'SNI_ONLY' },
  { ...ALLOW, things: [] },
  { ...ALLOW, things: ['pump-7', 'pump-8'] },
  { ...ALLOW, allow: false, reason: 'CERTIFICATE_REVOKED' },
  { ...ALLOW, allow: false, reason: 'CERTIFICATE_INACTIVE' },
];

/** An equal copy of a variant (a different object), shared as the authorizer shares an allow (frozen). */
const copy = (i: number): Decision => deepFreeze({ ...(VARIANTS[i] as Decision) });
/** `decision` as a shared answer (sharedAnswers.ts isShared): a frozen copy. */
const shared = (decision: Decision): Decision => deepFreeze({ ...decision, things: [...decision.things] });

describe('encoded gRPC answers', () => {
  const encode = authorizationService().service.Check?.responseSerialize;
  if (encode === undefined) throw new Error('no Check method');

  it('encodes each answer exactly as the Check serializer does, and equal answers once', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v));
    for (const decision of VARIANTS) {
      const first = answers.serialize(answers.response(shared(decision)));
      const again = answers.serialize(answers.response(shared({ ...decision, message: 'ignored' })));
      expect(first.equals(encode(checkResponse(decision)))).toBe(true);
      expect(again).toBe(first);
    }
  });

  it('never gives two different answers the same bytes', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v));
    const encoded = VARIANTS.map((d) => answers.serialize(answers.response(shared(d))).toString('hex'));
    expect(new Set(encoded).size).toBe(VARIANTS.length);
  });

  it('keeps at most its bound of answers', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v), 2);
    // Equal copies: found by their fields (the bounded map), not by object identity.
    const first = answers.response(copy(0));
    answers.response(copy(1));
    answers.response(copy(2));
    expect(answers.response(copy(0))).not.toBe(first);
    expect(answers.response(copy(0))).toEqual(first);
  });

  it('answers a shared decision object from its first response', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v), 1);
    const one = copy(0);
    const first = answers.response(one);
    answers.response(copy(1));
    expect(answers.response(one)).toBe(first);
  });

  it('builds an unshared allow (a certificate met for the first time) afresh and keeps nothing of it', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v), 1);
    const remembered = answers.response(copy(0));
    const once = { ...(VARIANTS[0] as Decision) };
    const built = answers.response(once);
    expect(built).not.toBe(remembered);
    expect(answers.response(once)).not.toBe(built);
    expect(Object.isFrozen(built)).toBe(false);
    expect(answers.serialize(built).equals(encode(checkResponse(once)))).toBe(true);
    // The one remembered answer was not evicted by it.
    expect(answers.response(copy(0))).toBe(remembered);
  });

  it('remembers a refusal by its fields (a refused device retrying), whether shared or not', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v));
    const refusal = { ...(VARIANTS[6] as Decision) };
    const first = answers.response(refusal);
    expect(answers.response({ ...refusal })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});
