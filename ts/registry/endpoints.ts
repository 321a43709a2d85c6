/**
 * The installation's own endpoint namespace, defined once for routing (both registry
 * backends) and for refusing custom domains inside it (issue 14, defect 1).
 *
 * Every endpoint certgate hands out lives under `iot.<region>.<endpointDomain>`
 * (`ts/control/operations/endpoint.ts`): `<prefix>.iot…` (iot:Data),
 * `<prefix>-ats.iot…` (iot:Data-ATS), `<prefix>.credentials.iot…` and
 * `<prefix>.jobs.iot…`. That whole subtree belongs to the installation: a name in it is
 * never a custom domain, and a host in it is routed only by the account table, never by
 * the custom-domain table, so a custom-domain row can never shadow an account's endpoint.
 */
import type { RegistrySettings } from './types.js';

/** Compare host names as DNS does: ASCII case folded, one trailing dot dropped. */
export function canonicalHost(name: string): string {
  const lower = name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The apex of the namespace: `iot.<region>.<endpointDomain>`. */
export function endpointApex(settings: RegistrySettings): string {
  return canonicalHost(`iot.${settings.region}.${settings.endpointDomain}`);
}

/** Whether `name` is the apex or any name below it (so never usable as a custom domain). */
export function inEndpointNamespace(name: string, settings: RegistrySettings): boolean {
  const host = canonicalHost(name);
  const apex = endpointApex(settings);
  return host === apex || host.endsWith(`.${apex}`);
}

/**
 * How SNI routing treats `host` (already canonical):
 * - `{ builtIn: true, prefix }`: a data endpoint (`<prefix>.iot…` or `<prefix>-ats.iot…`);
 *   the account is the one with that endpoint prefix, or none;
 * - `{ builtIn: true, prefix: null }`: inside the namespace but not a data endpoint
 *   (credentials, jobs, anything deeper): routes to no account;
 * - `{ builtIn: false }`: outside the namespace; the custom-domain table decides.
 */
export type EndpointRoute = { builtIn: true; prefix: string | null } | { builtIn: false };

export function endpointRoute(name: string, settings: RegistrySettings): EndpointRoute {
  const host = canonicalHost(name);
  if (!inEndpointNamespace(host, settings)) return { builtIn: false };
  const apex = endpointApex(settings);
  if (host.length <= apex.length + 1) return { builtIn: true, prefix: null };
  const label = host.slice(0, host.length - apex.length - 1);
  if (label.includes('.') || label === '') return { builtIn: true, prefix: null };
  return { builtIn: true, prefix: label.endsWith('-ats') ? label.slice(0, -4) : label };
}
