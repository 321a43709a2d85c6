/**
 * Matching `METHOD /path` to an operation. Templates use `{name}` for one path segment;
 * matching happens on the raw (still percent-encoded) segments, and parameters are
 * decoded afterwards, so an encoded `/` inside an ARN stays inside its segment.
 */
import { invalid } from './errors.js';
import type { ApiRequest } from './validate.js';

/** An operation handler: returns the JSON output, or undefined for an empty 200. */
export type Handler = (request: ApiRequest) => Promise<Record<string, unknown> | undefined>;

export interface Route {
  method: string;
  /** e.g. `/certificates/{certificateId}`. */
  template: string;
  /** The AWS operation name (logs, docs). */
  operation: string;
  handler: Handler;
  /** The body is not JSON: the handler reads `request.raw` (branch crl: CRL uploads). */
  rawBody?: boolean;
  /** A larger body limit than the edge's default, for this route only. */
  maxBodyBytes?: number;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

function split(path: string): string[] {
  // A trailing slash is significant for AWS (`/certificate-providers/`), so keep empty segments.
  return path.split('/').slice(1);
}

/** Find the route for `method` and the raw wire path; null when none matches. */
export function matchRoute(routes: readonly Route[], method: string, rawPath: string): RouteMatch | null {
  const segments = split(rawPath);
  for (const route of routes) {
    if (route.method !== method) continue;
    const template = split(route.template);
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < template.length && ok; i++) {
      const t = template[i] ?? '';
      const s = segments[i] ?? '';
      if (t.startsWith('{') && t.endsWith('}')) {
        if (s === '') ok = false;
        else {
          try {
            params[t.slice(1, -1)] = decodeURIComponent(s);
          } catch {
            throw invalid(`The path segment ${JSON.stringify(s.slice(0, 80))} is not valid percent-encoding.`);
          }
        }
      } else if (t !== s) ok = false;
    }
    if (ok) return { route, params };
  }
  return null;
}
