import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, fromRegistryError } from '../../ts/control/errors.js';
import { REGISTRY_REFUSALS } from '../../ts/control/refusals.js';
import { projectRoot } from '../../ts/paths.js';
import { RegistryError } from '../../ts/registry/types.js';

const doc = (name: string) => readFileSync(path.join(projectRoot, 'docs', name), 'utf8');

/** The rows of docs/errors.md "Registry refusals": reason, AWS error, status. */
function documented(): string[][] {
  const section = doc('errors.md').split('## Registry refusals')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([A-Z_]+)` \| (\w+) \| (\d+) \|/gm)].map((m) => [m[1] ?? '', m[2] ?? '', m[3] ?? '']);
}

describe('the registry refusal catalogue (ts/control/refusals.ts)', () => {
  it('is listed in docs/errors.md exactly, in order, with each AWS error and status', () => {
    const catalogue = Object.entries(REGISTRY_REFUSALS).map(([reason, entry]) => [reason, entry.error, String(ERROR_STATUS[entry.error])]);
    expect(documented()).toEqual(catalogue);
  });

  it('uses only AWS errors that docs/api.md documents', () => {
    const api = doc('api.md');
    for (const entry of Object.values(REGISTRY_REFUSALS)) expect(api).toContain(entry.error);
  });

  it('words a refusal from its details, and names the conflicting resource', () => {
    const error = new RegistryError('ALREADY_EXISTS', 'CERTIFICATE_EXISTS', { resourceId: 'abc' });
    const aws = fromRegistryError(error, (id) => `arn:aws:iot:us-east-1:111111111111:cert/${id}`);
    expect(aws).toMatchObject({
      errorType: 'ResourceAlreadyExistsException',
      message: 'The certificate is already provisioned or registered',
    });
    expect(aws.extra).toEqual({ resourceId: 'abc', resourceArn: 'arn:aws:iot:us-east-1:111111111111:cert/abc' });
    const state = fromRegistryError(new RegistryError('STATE', 'CERTIFICATE_STATUS', { status: 'REVOKED', to: 'ACTIVE' }));
    expect(state).toMatchObject({
      errorType: 'CertificateStateException',
      message: 'The certificate is REVOKED and cannot be set to ACTIVE.',
    });
    expect(error.message).toBe('CERTIFICATE_EXISTS (resourceId=abc)');
  });

  it("passes certgate's own wording of the secrets-at-rest refusals through", () => {
    const locked = new RegistryError('SECRETS_LOCKED', 'SECRETS_LOCKED', {}, 'pass --master-key-file FILE');
    expect(fromRegistryError(locked)).toMatchObject({ errorType: 'ServiceUnavailableException', message: 'pass --master-key-file FILE' });
  });
});
