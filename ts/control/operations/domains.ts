/**
 * Custom domains (certgate extension): TLS connections whose SNI is one of these names are
 * routed to the account, like AWS IoT domain configurations. Also `certgate account add-domain`.
 * A name inside the installation's endpoint namespace is refused by the registry
 * (RESERVED_DOMAIN, `ts/registry/endpoints.ts`) on both paths; docs/api.md says who owns
 * a custom domain.
 */
import { canonicalHost } from '../../registry/endpoints.js';
import type { ControlContext } from '../context.js';
import { invalid } from '../errors.js';
import type { Route } from '../router.js';
import type { ApiRequest } from '../validate.js';

/** DNS names: labels of letters, digits and hyphens, at most 253 characters. */
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Fold ASCII case, drop one trailing dot (the absolute form of the same name, as SNI
 * routing compares it) and check a DNS name; throws InvalidRequestException. Non-ASCII
 * names are refused by the pattern: IDNs are given as A-labels (xn--...).
 */
export function domainName(value: string): string {
  const name = canonicalHost(value);
  if (!DOMAIN_PATTERN.test(name)) throw invalid(`${value.slice(0, 260)} is not a valid DNS name.`);
  return name;
}

function param(req: ApiRequest): string {
  return domainName(req.params['domainName'] ?? '');
}

export function domainRoutes(ctx: ControlContext): Route[] {
  return [
    {
      method: 'PUT',
      template: '/certgate/domains/{domainName}',
      operation: 'AddDomain',
      handler: async (r) => {
        const name = param(r);
        await ctx.registry.addDomain(r.accountId, name);
        return { domainName: name };
      },
    },
    {
      method: 'DELETE',
      template: '/certgate/domains/{domainName}',
      operation: 'RemoveDomain',
      handler: async (r) => {
        await ctx.registry.removeDomain(r.accountId, param(r));
        return undefined;
      },
    },
    {
      method: 'GET',
      template: '/certgate/domains',
      operation: 'ListDomains',
      handler: async (r) => ({ domainNames: await ctx.registry.listDomains(r.accountId) }),
    },
  ];
}
