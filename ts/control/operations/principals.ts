/**
 * Things and policies attached to certificates (https://docs.aws.amazon.com/iot/latest/apireference/API_AttachThingPrincipal.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_AttachPolicy.html). Stored because delete and
 * transfer preconditions depend on them; policies are not evaluated.
 */
import { AwsError, invalid } from '../errors.js';
import { certificateArn, policyArn, type ControlContext } from '../context.js';
import type { Route } from '../router.js';
import { bodyString, queryInt, queryString, type ApiRequest } from '../validate.js';
import type { PolicyRecord } from '../../registry/types.js';

const THING_NAME = /^[a-zA-Z0-9:_-]+$/;
const POLICY_NAME = /^[\w+=,.@-]+$/;
const CERT_ARN = /^arn:aws[a-z-]*:iot:([^:]+):(\d{12}):cert\/([0-9a-f]{64})$/;

function thingName(req: ApiRequest): string {
  const name = req.params['thingName'] ?? '';
  if (name.length < 1 || name.length > 128 || !THING_NAME.test(name))
    throw invalid('thingName must be 1-128 characters of [a-zA-Z0-9:_-].');
  return name;
}

function policyName(req: ApiRequest): string {
  const name = req.params['policyName'] ?? '';
  if (name.length < 1 || name.length > 128 || !POLICY_NAME.test(name)) throw invalid('policyName must be 1-128 characters of [\\w+=,.@-].');
  return name;
}

/** A principal or target; a certificate ARN of the caller's account must name an existing certificate. */
async function principal(ctx: ControlContext, req: ApiRequest, value: string | undefined, member: string): Promise<string> {
  if (value === undefined || value === '') throw invalid(`${member} is required.`);
  if (value.length > 2048) throw invalid(`${member} must be at most 2048 characters.`);
  const cert = CERT_ARN.exec(value);
  if (cert && cert[2] === req.accountId) {
    const record = await ctx.registry.getCertificate(req.accountId, cert[3] ?? '');
    if (!record || certificateArn(ctx, req.accountId, record.certificateId) !== value) {
      throw new AwsError('ResourceNotFoundException', `The certificate ${value} does not exist in this account.`);
    }
  }
  return value;
}

/** Offset paging for the short attachment lists (markers/tokens are opaque base64). */
function slice<T>(items: T[], token: string | undefined, size: number): { items: T[]; next?: string } {
  let offset = 0;
  if (token !== undefined) {
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(token) ? Buffer.from(token, 'base64').toString('utf8') : '';
    if (!/^o:[0-9]{1,9}$/.test(decoded)) throw invalid('The pagination token is not one returned by this service.');
    offset = Number(decoded.slice(2));
  }
  const page = items.slice(offset, offset + size);
  const end = offset + page.length;
  return end < items.length ? { items: page, next: Buffer.from(`o:${end}`).toString('base64') } : { items: page };
}

function policySummary(ctx: ControlContext, p: PolicyRecord): Record<string, unknown> {
  return { policyName: p.policyName, policyArn: policyArn(ctx, p.accountId, p.policyName) };
}

function policyDocument(req: ApiRequest): string {
  const doc = bodyString(req.body, 'policyDocument', { required: true, min: 1 }) ?? '';
  try {
    JSON.parse(doc);
  } catch {
    throw new AwsError('MalformedPolicyException', 'policyDocument is not valid JSON.');
  }
  return doc;
}

export function principalRoutes(ctx: ControlContext): Route[] {
  const reg = ctx.registry;
  return [
    {
      method: 'PUT',
      template: '/things/{thingName}/principals',
      operation: 'AttachThingPrincipal',
      handler: async (r) => {
        await reg.attachThingPrincipal(
          r.accountId,
          thingName(r),
          await principal(ctx, r, r.headers['x-amzn-principal'], 'x-amzn-principal'),
        );
        return undefined;
      },
    },
    {
      method: 'DELETE',
      template: '/things/{thingName}/principals',
      operation: 'DetachThingPrincipal',
      handler: async (r) => {
        await reg.detachThingPrincipal(
          r.accountId,
          thingName(r),
          await principal(ctx, r, r.headers['x-amzn-principal'], 'x-amzn-principal'),
        );
        return undefined;
      },
    },
    {
      method: 'GET',
      template: '/principals/things',
      operation: 'ListPrincipalThings',
      handler: async (r) => {
        const p = await principal(ctx, r, r.headers['x-amzn-principal'], 'x-amzn-principal');
        const size = queryInt(r, 'maxResults', 1, 250) ?? 25;
        const page = slice(await reg.listPrincipalThings(r.accountId, p), queryString(r, 'nextToken'), size);
        return { things: page.items, nextToken: page.next };
      },
    },
    {
      method: 'POST',
      template: '/policies/{policyName}',
      operation: 'CreatePolicy',
      handler: async (r) => {
        const p = await reg.createPolicy(r.accountId, policyName(r), policyDocument(r));
        return { ...policySummary(ctx, p), policyDocument: p.policyDocument, policyVersionId: p.policyVersionId };
      },
    },
    {
      method: 'GET',
      template: '/policies/{policyName}',
      operation: 'GetPolicy',
      handler: async (r) => {
        const p = await reg.getPolicy(r.accountId, policyName(r));
        if (!p) throw new AwsError('ResourceNotFoundException', `The policy ${policyName(r)} does not exist.`);
        return {
          ...policySummary(ctx, p),
          policyDocument: p.policyDocument,
          defaultVersionId: p.policyVersionId,
          creationDate: p.creationDate,
          lastModifiedDate: p.lastModifiedDate,
        };
      },
    },
    {
      method: 'DELETE',
      template: '/policies/{policyName}',
      operation: 'DeletePolicy',
      handler: async (r) => {
        await reg.deletePolicy(r.accountId, policyName(r));
        return undefined;
      },
    },
    {
      method: 'PUT',
      template: '/target-policies/{policyName}',
      operation: 'AttachPolicy',
      handler: async (r) => {
        await reg.attachPolicy(r.accountId, policyName(r), await principal(ctx, r, bodyString(r.body, 'target'), 'target'));
        return undefined;
      },
    },
    {
      method: 'POST',
      template: '/target-policies/{policyName}',
      operation: 'DetachPolicy',
      handler: async (r) => {
        await reg.detachPolicy(r.accountId, policyName(r), await principal(ctx, r, bodyString(r.body, 'target'), 'target'));
        return undefined;
      },
    },
    {
      method: 'PUT',
      template: '/principal-policies/{policyName}',
      operation: 'AttachPrincipalPolicy',
      handler: async (r) => {
        await reg.attachPolicy(
          r.accountId,
          policyName(r),
          await principal(ctx, r, r.headers['x-amzn-iot-principal'], 'x-amzn-iot-principal'),
        );
        return undefined;
      },
    },
    {
      method: 'DELETE',
      template: '/principal-policies/{policyName}',
      operation: 'DetachPrincipalPolicy',
      handler: async (r) => {
        await reg.detachPolicy(
          r.accountId,
          policyName(r),
          await principal(ctx, r, r.headers['x-amzn-iot-principal'], 'x-amzn-iot-principal'),
        );
        return undefined;
      },
    },
    {
      method: 'POST',
      template: '/attached-policies/{target}',
      operation: 'ListAttachedPolicies',
      handler: async (r) => {
        const target = await principal(ctx, r, r.params['target'], 'target');
        const size = queryInt(r, 'pageSize', 1, 250) ?? 25;
        const page = slice(await reg.listAttachedPolicies(r.accountId, target), queryString(r, 'marker'), size);
        return { policies: page.items.map((p) => policySummary(ctx, p)), nextMarker: page.next };
      },
    },
    {
      method: 'POST',
      template: '/policy-targets/{policyName}',
      operation: 'ListTargetsForPolicy',
      handler: async (r) => {
        const name = policyName(r);
        if (!(await reg.getPolicy(r.accountId, name)))
          throw new AwsError('ResourceNotFoundException', `The policy ${name} does not exist.`);
        const size = queryInt(r, 'pageSize', 1, 250) ?? 25;
        const page = slice(await reg.listPolicyTargets(r.accountId, name), queryString(r, 'marker'), size);
        return { targets: page.items, nextMarker: page.next };
      },
    },
  ];
}
