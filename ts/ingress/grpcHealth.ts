/**
 * `grpc.health.v1.Health` on the authorizer's gRPC port, so Kubernetes gRPC probes, Envoy
 * gRPC health checks (`grpc_health_check`) and `grpcurl … grpc.health.v1.Health/Check`
 * see whether this process can decide. Protocol:
 * https://github.com/grpc/grpc/blob/master/doc/health-checking.md
 *
 * The message and service definitions come from the `grpc-health-check` package; the
 * handlers are ours because of the lifecycle: `HealthImplementation` there keeps `Watch`
 * streams open forever, which holds a graceful `tryShutdown` until it is forced. Here a
 * drain first tells every watcher NOT_SERVING and then ends its stream.
 *
 * Services answered: `""` (the whole server) and the Authorization service. Both are
 * SERVING while the registry answers a read (the same check as HTTP `/readyz`) and the
 * process is not draining; anything else is NOT_SERVING. An unknown service name is
 * NOT_FOUND, as the protocol asks.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/** The service names a client may ask about. */
export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';
export const HEALTH_SERVICES: readonly string[] = ['', AUTHORIZATION_SERVICE];

type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** How often open `Watch` streams re-check readiness (only while any stream is open). */
export const WATCH_POLL_MS = 1000;

interface HealthRequest {
  service: string;
}

export class GrpcHealth {
  readonly #ready: () => Promise<boolean>;
  readonly #watchers = new Set<{ call: grpc.ServerWritableStream<HealthRequest, unknown>; last: ServingStatus | undefined }>();
  #draining = false;
  #timer: NodeJS.Timeout | undefined;

  /** `ready` answers whether this process can decide (it must not throw for "no"). */
  constructor(ready: () => Promise<boolean>) {
    this.#ready = ready;
  }

  /** Add the Health service to a server (before it is bound). */
  addToServer(server: grpc.Server): void {
    server.addService(healthService, {
      Check: (call: grpc.ServerUnaryCall<HealthRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (!HEALTH_SERVICES.includes(call.request.service)) {
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
          return;
        }
        this.#status().then((status) => callback(null, { status }));
      },
      Watch: (call: grpc.ServerWritableStream<HealthRequest, unknown>) => this.#watch(call),
      List: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        this.#status().then((status) => {
          const statuses: Record<string, { status: ServingStatus }> = {};
          for (const name of HEALTH_SERVICES) statuses[name] = { status };
          callback(null, { statuses });
        });
      },
    });
  }

  /** Stop serving: every open Watch stream is told NOT_SERVING and ended; Check answers NOT_SERVING. */
  drain(): void {
    this.#draining = true;
    this.#stopTimer();
    for (const watcher of this.#watchers) {
      if (watcher.last !== 'NOT_SERVING') watcher.call.write({ status: 'NOT_SERVING' });
      watcher.call.end();
    }
    this.#watchers.clear();
  }

  async #status(): Promise<ServingStatus> {
    if (this.#draining) return 'NOT_SERVING';
    let ready = false;
    try {
      ready = await this.#ready();
    } catch {
      ready = false;
    }
    return ready && !this.#draining ? 'SERVING' : 'NOT_SERVING';
  }

  #watch(call: grpc.ServerWritableStream<HealthRequest, unknown>): void {
    if (!HEALTH_SERVICES.includes(call.request.service)) {
      // The protocol: an unknown service is reported as SERVICE_UNKNOWN and the stream stays open.
      call.write({ status: 'SERVICE_UNKNOWN' });
      return;
    }
    if (this.#draining) {
      call.write({ status: 'NOT_SERVING' });
      call.end();
      return;
    }
    const watcher = { call, last: undefined as ServingStatus | undefined };
    this.#watchers.add(watcher);
    call.on('cancelled', () => {
      this.#watchers.delete(watcher);
      if (this.#watchers.size === 0) this.#stopTimer();
    });
    void this.#poll();
    this.#timer ??= setInterval(() => void this.#poll(), WATCH_POLL_MS).unref();
  }

  /** Send each watcher its status when it changed (the protocol sends only changes). */
  async #poll(): Promise<void> {
    const status = await this.#status();
    if (this.#draining) return;
    for (const watcher of this.#watchers) {
      if (watcher.last === status) continue;
      watcher.last = status;
      watcher.call.write({ status });
    }
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
