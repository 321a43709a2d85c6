/**
 * Access keys of the caller's account (certgate extension, branch keys), named after
 * IAM's CreateAccessKey / ListAccessKeys / UpdateAccessKey / DeleteAccessKey. Rotation:
 * create a new key, move clients to it (both work meanwhile), deactivate the old one,
 * then delete it. An account keeps at least one ACTIVE FULL key (`ts/registry/keys.ts`).
 * Also `certgate account key ...`.
 */
import { createAccessKey, describeAccessKey, ACCESS_KEY_PATTERN } from '../accounts.js';
import type { ControlContext } from '../context.js';
import { invalid } from '../errors.js';
import type { Route } from '../router.js';
import { bodyBool, bodyEnum, type ApiRequest } from '../validate.js';

function keyParam(req: ApiRequest): string {
  const id = req.params['accessKeyId'] ?? '';
  if (!ACCESS_KEY_PATTERN.test(id)) throw invalid('accessKeyId must be 16-128 letters, digits or underscores.');
  return id;
}

export function keyRoutes(ctx: ControlContext): Route[] {
  return [
    {
      method: 'POST',
      template: '/certgate/access-keys',
      operation: 'CreateAccessKey',
      handler: async (r) => {
        const readOnly = bodyBool(r.body, 'readOnly') ?? false;
        const created = await createAccessKey(ctx.registry, r.accountId, { scope: readOnly ? 'READ_ONLY' : 'FULL' }, r.audit);
        return { accessKey: created };
      },
    },
    {
      method: 'GET',
      template: '/certgate/access-keys',
      operation: 'ListAccessKeys',
      handler: async (r) => ({ accessKeys: (await ctx.registry.listCredentials(r.accountId)).map(describeAccessKey) }),
    },
    {
      method: 'PATCH',
      template: '/certgate/access-keys/{accessKeyId}',
      operation: 'UpdateAccessKey',
      handler: async (r) => {
        const id = keyParam(r);
        const status = bodyEnum(r.body, 'status', ['ACTIVE', 'INACTIVE'] as const);
        if (status === undefined) throw invalid('status is required (ACTIVE or INACTIVE).');
        const updated = await ctx.registry.updateCredentialStatus(r.accountId, id, status, r.audit?.take(`accessKeyId=${id}`));
        return { accessKey: describeAccessKey(updated) };
      },
    },
    {
      method: 'DELETE',
      template: '/certgate/access-keys/{accessKeyId}',
      operation: 'DeleteAccessKey',
      handler: async (r) => {
        const id = keyParam(r);
        await ctx.registry.deleteCredential(r.accountId, id, r.audit?.take(`accessKeyId=${id}`));
        return undefined;
      },
    },
  ];
}
