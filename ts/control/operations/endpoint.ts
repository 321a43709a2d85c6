/**
 * DescribeEndpoint (https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html) and certgate's own event
 * feed (JITR registration events, https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html).
 */
import type { Account } from '../../registry/types.js';
import type { ControlContext } from '../context.js';
import { AwsError, invalid } from '../errors.js';
import type { Route } from '../router.js';
import { queryInt, queryString, type ApiRequest } from '../validate.js';

/** The host of each endpoint type for `account` (API_DescribeEndpoint above); omitted type = legacy `iot:Data`. */
export function endpointAddress(ctx: ControlContext, account: Account, endpointType: string): string | null {
  const base = `iot.${ctx.settings.region}.${ctx.settings.endpointDomain}`;
  switch (endpointType) {
    case 'iot:Data':
      return `${account.endpointPrefix}.${base}`;
    case 'iot:Data-ATS':
      return `${account.endpointPrefix}-ats.${base}`;
    case 'iot:CredentialProvider':
      return `${account.endpointPrefix}.credentials.${base}`;
    case 'iot:Jobs':
      return `${account.endpointPrefix}.jobs.${base}`;
    default:
      return null;
  }
}

async function describeEndpoint(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const type = queryString(req, 'endpointType', { max: 128 }) ?? 'iot:Data';
  const account = await ctx.registry.getAccount(req.accountId);
  if (!account) throw new AwsError('ResourceNotFoundException', `Account ${req.accountId} does not exist.`);
  const address = endpointAddress(ctx, account, type);
  if (address === null) throw invalid(`Endpoint type ${type} not recognized.`);
  return { endpointAddress: address };
}

/** Most events one ListEvents call returns. */
export const MAX_EVENTS_PER_PAGE = 1000;

async function listEvents(ctx: ControlContext, req: ApiRequest): Promise<Record<string, unknown>> {
  const after = queryInt(req, 'afterSequence', 0, 999_999_999) ?? 0;
  const limit = queryInt(req, 'maxResults', 1, MAX_EVENTS_PER_PAGE) ?? 100;
  const events = await ctx.registry.listEvents(req.accountId, after, limit);
  const last = events[events.length - 1];
  return {
    events: events.map((e) => ({ sequence: e.sequence, topic: e.topic, payload: e.payload, createdAt: e.createdAt })),
    nextSequence: last === undefined ? after : last.sequence,
  };
}

export function endpointRoutes(ctx: ControlContext): Route[] {
  return [
    { method: 'GET', template: '/endpoint', operation: 'DescribeEndpoint', handler: (r) => describeEndpoint(ctx, r) },
    { method: 'GET', template: '/certgate/events', operation: 'ListEvents', handler: (r) => listEvents(ctx, r) },
  ];
}
