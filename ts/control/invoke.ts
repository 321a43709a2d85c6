/**
 * Running an admin operation in-process, without HTTP or SigV4: the operator CLI uses
 * this so its commands obey exactly the same validation and rules as the API.
 */
import { loadEngine } from '../engine/load.js';
import type { Engine, EngineName } from '../engine/types.js';
import { RegistryError, type Registry } from '../registry/types.js';
import { runAudited } from './audit.js';
import type { ControlContext } from './context.js';
import { AwsError, fromRegistryError } from './errors.js';
import { adminRoutes } from './server.js';
import type { Route } from './router.js';

/** Inputs of one operation, as the wire would carry them (query values are strings). */
export interface OperationInput {
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
  body?: Record<string, unknown>;
  headers?: Record<string, string | undefined>;
  /** The raw body of a `rawBody` route (a CRL). */
  raw?: Uint8Array;
}

/** An in-process handle on the admin operations of one registry. */
export class LocalControlPlane {
  private readonly routes: Map<string, Route>;

  private constructor(readonly ctx: ControlContext) {
    this.routes = new Map(adminRoutes(ctx).map((r) => [r.operation, r]));
  }

  static async open(registry: Registry, engine: Engine | EngineName = 'native'): Promise<LocalControlPlane> {
    const settings = await registry.settings();
    const loaded = typeof engine === 'object' ? engine : loadEngine(engine);
    return new LocalControlPlane({ registry, engine: loaded, settings, now: () => Date.now() / 1000 });
  }

  /** Run `operation` (an AWS operation name) as `accountId`. Throws AwsError on refusal. */
  async invoke(operation: string, accountId: string, input: OperationInput = {}): Promise<Record<string, unknown> | undefined> {
    const route = this.routes.get(operation);
    if (!route) throw new Error(`unknown operation ${operation}`);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined) query.set(k, v);
    try {
      const params = input.params ?? {};
      // Writes by the operator CLI are audited too, with no access key (audit.ts).
      return await runAudited(this.ctx.registry, { accountId, accessKeyId: null, operation, params, requestId: null }, (audit) =>
        route.handler({
          accountId,
          params,
          query,
          body: input.body ?? {},
          headers: input.headers ?? {},
          ...(audit ? { audit } : {}),
          ...(input.raw === undefined ? {} : { raw: input.raw }),
        }),
      );
    } catch (err) {
      if (err instanceof RegistryError) throw fromRegistryError(err);
      throw err;
    }
  }
}

export { AwsError };
