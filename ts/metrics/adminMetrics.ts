/**
 * Admin API metrics: requests and latency by operation (the AWS operation name, or
 * `unknown` when none was matched: unsigned, refused before routing, no such route) and
 * result (`ok` or the AWS error type answered, e.g. `ResourceNotFoundException`). Both
 * label sets are bounded by the API's operations and error types.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/** Seconds: a read answers in well under a millisecond, a registration with verification in a few, issuing an RSA key in tens to hundreds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class AdminMetrics {
  readonly #requests: Counter<'operation' | 'result'>;
  readonly #duration: Histogram<'operation'>;

  constructor(registers: Registry[]) {
    this.#requests = new Counter({
      name: 'certgate_admin_requests_total',
      help: 'Admin API requests by operation and result (ok, or the AWS error type answered).',
      labelNames: ['operation', 'result'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'certgate_admin_request_duration_seconds',
      help: 'Admin API request latency by operation, from the first byte of the request to the answer.',
      labelNames: ['operation'],
      buckets: BUCKETS,
      registers,
    });
  }

  /** One answered admin request. */
  observe(operation: string, result: string, seconds: number): void {
    this.#requests.inc({ operation, result });
    this.#duration.observe({ operation }, seconds);
  }
}
