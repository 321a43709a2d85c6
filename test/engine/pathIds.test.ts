/**
 * The certificateIds of a verified path are the SHA-256 of each certificate's DER, also
 * for the issuers whose ids the engine remembers by their exact bytes
 * (crates/certgate-core/src/certificate.rs `recurring_id`, 8 per thread): paths under
 * more CAs than it keeps, and intermediates, verified in turn and again after eviction.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../../ts/engine/load.js';
import { certificate, DATES, identity } from '../authz/pki.js';

const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');

for (const engineName of ['native', 'wasm'] as const) {
  describe(`verified path ids with the ${engineName} engine`, () => {
    const engine = loadEngine(engineName);

    it('names each certificate on the path by its SHA-256, under 12 CAs in turn, twice', () => {
      const cas = Array.from({ length: 12 }, (_, i) => {
        const id = identity(`Path CA ${i}`, i % 4 === 0 ? 'rsa2048' : 'p256', false);
        return { id, cert: certificate({ subject: id, ca: true }) };
      });
      const leaves = cas.map((ca, i) => certificate({ subject: identity(`device ${i}`, 'p256'), issuer: ca.id }));
      for (let round = 0; round < 2; round++) {
        for (const [i, ca] of cas.entries()) {
          const leaf = leaves[i]!;
          const verified = engine.verifyChain(leaf.der, [], [ca.cert.der], DATES.now, 'client');
          if (!verified.ok) throw new Error(verified.message);
          expect(verified.path).toEqual([sha256(leaf.der), sha256(ca.cert.der)]);
          expect(verified.anchorCertificateId).toBe(sha256(ca.cert.der));
        }
      }
    });

    it('names an intermediate by its SHA-256, before and after other paths', () => {
      const root = identity('Path root', 'p256', false);
      const rootCert = certificate({ subject: root, ca: true });
      const intermediateId = identity('Path intermediate', 'p256', false);
      const intermediate = certificate({ subject: intermediateId, issuer: root, ca: true });
      const leaf = certificate({ subject: identity('deep device', 'p256'), issuer: intermediateId });
      const direct = certificate({ subject: identity('direct device', 'p256'), issuer: root });
      const expected = [sha256(leaf.der), sha256(intermediate.der), sha256(rootCert.der)];
      for (let i = 0; i < 3; i++) {
        const deep = engine.verifyChain(leaf.der, [intermediate.der], [rootCert.der], DATES.now, 'client');
        expect(deep.ok && deep.path).toEqual(expected);
        const shallow = engine.verifyChain(direct.der, [], [rootCert.der], DATES.now, 'client');
        expect(shallow.ok && shallow.path).toEqual([sha256(direct.der), sha256(rootCert.der)]);
      }
    });
  });
}
