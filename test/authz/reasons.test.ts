import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REASON_CODES, REASONS } from '../../ts/authz/reasons.js';
import { projectRoot } from '../../ts/paths.js';

describe('the reason catalogue', () => {
  const doc = readFileSync(path.join(projectRoot, 'docs', 'authorizer.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (allow|deny|unavailable) \|/gm)].map((m) => [m[1], m[2]]);

  it('is documented in docs/authorizer.md, code for code and kind for kind, in the same order', () => {
    expect(rows).toEqual(REASON_CODES.map((code) => [code, REASONS[code].kind]));
  });

  it('has exactly one allow reason', () => {
    expect(REASON_CODES.filter((c) => REASONS[c].kind === 'allow')).toEqual(['CERTIFICATE_ACTIVE']);
  });
});
