/**
 * gRPC answers encoded once per distinct answer (ts/ingress/encodedAnswers.ts): the bytes
 * are exactly what the method's own serializer produces for that decision, and answers
 * differing in any field the response shows never share bytes.
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../ts/authz/decision.js';
import { EncodedAnswers } from '../../ts/fastpath/encodedAnswers.js';
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

/** An equal copy of a variant (a different object). */
const copy = (i: number): Decision => ({ ...(VARIANTS[i] as Decision) });

describe('encoded gRPC answers', () => {
  const encode = authorizationService().service.Check?.responseSerialize;
  if (encode === undefined) throw new Error('no Check method');

  it('encodes each answer exactly as the Check serializer does, and equal answers once', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v));
    for (const decision of VARIANTS) {
      const first = answers.serialize(answers.response(decision));
      const again = answers.serialize(answers.response({ ...decision, things: [...decision.things], message: 'ignored' }));
      expect(first.equals(encode(checkResponse(decision)))).toBe(true);
      expect(again).toBe(first);
    }
  });

  it('never gives two different answers the same bytes', () => {
    const answers = new EncodedAnswers(checkResponse, (v) => encode(v));
    const encoded = VARIANTS.map((d) => answers.serialize(answers.response(d)).toString('hex'));
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
    const shared = VARIANTS[0] as Decision;
    const first = answers.response(shared);
    answers.response({ ...(VARIANTS[1] as Decision) });
    expect(answers.response(shared)).toBe(first);
  });
});
