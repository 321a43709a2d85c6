/**
 * ListAuditEvents (certgate extension, branch keys): the caller's account's audit log of
 * admin writes (`../audit.ts`), oldest first, paged by sequence like ListEvents.
 * Also `certgate audit list`.
 */
import type { ControlContext } from '../context.js';
import type { Route } from '../router.js';
import { queryInt } from '../validate.js';

/** Most audit rows one ListAuditEvents call returns (as ListEvents). */
export const MAX_AUDIT_EVENTS_PER_PAGE = 1000;

export function auditRoutes(ctx: ControlContext): Route[] {
  return [
    {
      method: 'GET',
      template: '/certgate/audit',
      operation: 'ListAuditEvents',
      handler: async (r) => {
        const after = queryInt(r, 'afterSequence', 0, 999_999_999) ?? 0;
        const limit = queryInt(r, 'maxResults', 1, MAX_AUDIT_EVENTS_PER_PAGE) ?? 100;
        const rows = await ctx.registry.listAudit(r.accountId, after, limit);
        const last = rows[rows.length - 1];
        return {
          auditEvents: rows.map((e) => ({
            sequence: e.sequence,
            time: e.time,
            ...(e.accessKeyId !== null ? { accessKeyId: e.accessKeyId } : {}),
            operation: e.operation,
            ...(e.resource !== null ? { resource: e.resource } : {}),
            result: e.result,
            ...(e.requestId !== null ? { requestId: e.requestId } : {}),
          })),
          nextSequence: last === undefined ? after : last.sequence,
        };
      },
    },
  ];
}
