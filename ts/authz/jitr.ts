/**
 * Just-in-time registration
 * (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html):
 * an unknown certificate signed by an ACTIVE,
 * auto-registering CA is stored as PENDING_ACTIVATION and a registration event is
 * appended to the durable event log; the connection is still refused. Webhook delivery
 * reads that log (`webhooks.ts`), so an event survives a crash between the two steps.
 */
import { LRUCache } from 'lru-cache';
import type { CaCertificateRecord, RegistryAuthorizerWriter, RegistryEvent } from '../registry/types.js';

/**
 * The topic AWS IoT publishes the registration event on
 * (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html).
 */
export function registrationTopic(caCertificateId: string): string {
  return `$aws/events/certificates/registered/${caCertificateId}`;
}

/**
 * Whether `ca` triggers JITR (the preconditions of
 * https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html;
 * a JITP template is not run here).
 */
export function autoRegisters(ca: CaCertificateRecord): boolean {
  return ca.status === 'ACTIVE' && ca.autoRegistrationStatus === 'ENABLE';
}

/** The leaf facts JITR stores. */
export interface JitrLeaf {
  certificateId: string;
  der: Uint8Array;
  notBefore: number;
  notAfter: number;
}

/**
 * Certificates whose last re-emission time is remembered (for `reemitIntervalMs`): bounds
 * memory against a flood of distinct pending certificates; one forgotten only re-emits early.
 */
export const REEMITTED_MAX = 10_000;

export class Jitr {
  readonly #writer: RegistryAuthorizerWriter;
  readonly #clock: () => number;
  readonly #onEvent: ((event: RegistryEvent) => void) | undefined;
  readonly #reemitIntervalMs: number;
  /** `${accountId}/${certificateId}` → epoch ms of this process's last re-emission (least recently emitted dropped first). */
  readonly #reemitted = new LRUCache<string, number>({ max: REEMITTED_MAX });

  /**
   * `onEvent` is told after each append (the webhook deliverer wakes up on it).
   * `reemitIntervalMs` (default 0: every attempt, as AWS IoT does while the certificate is PENDING_ACTIVATION) spaces the
   * re-emissions for one still-pending certificate in this process: each is a durable,
   * synced write, and a device retrying in a tight loop would otherwise write one per
   * attempt.
   */
  constructor(writer: RegistryAuthorizerWriter, clock: () => number, onEvent?: (event: RegistryEvent) => void, reemitIntervalMs = 0) {
    if (!Number.isInteger(reemitIntervalMs) || reemitIntervalMs < 0)
      throw new RangeError(`JITR re-emit interval must be an integer >= 0 ms, got ${reemitIntervalMs}`);
    this.#writer = writer;
    this.#clock = clock;
    this.#onEvent = onEvent;
    this.#reemitIntervalMs = reemitIntervalMs;
  }

  /**
   * Re-emit the event for a certificate still PENDING_ACTIVATION, unless this process
   * emitted one for it (registration included) less than `reemitIntervalMs` ago.
   * Returns the event, or undefined when spaced out.
   */
  async reemit(accountId: string, certificateId: string, caCertificateId: string): Promise<RegistryEvent | undefined> {
    if (this.#reemitIntervalMs > 0) {
      const last = this.#reemitted.get(`${accountId}/${certificateId}`);
      if (last !== undefined && this.#clock() - last < this.#reemitIntervalMs) return undefined;
    }
    return this.emit(accountId, certificateId, caCertificateId);
  }

  /** Remember when this process last emitted for a certificate (bounded, oldest dropped). */
  #emitted(accountId: string, certificateId: string): void {
    if (this.#reemitIntervalMs === 0) return;
    this.#reemitted.set(`${accountId}/${certificateId}`, this.#clock());
  }

  /** Register `leaf` in the CA's account as PENDING_ACTIVATION and emit the event. */
  async register(leaf: JitrLeaf, ca: CaCertificateRecord): Promise<RegistryEvent> {
    await this.#writer.registerPendingActivation(
      ca.accountId,
      { certificateId: leaf.certificateId, certificatePem: derToPem(leaf.der), notBefore: leaf.notBefore, notAfter: leaf.notAfter },
      ca.certificateId,
      ca.certificateMode,
    );
    return this.emit(ca.accountId, leaf.certificateId, ca.certificateId);
  }

  /** Append the registration event (also used to re-emit for a still-pending certificate). */
  async emit(accountId: string, certificateId: string, caCertificateId: string): Promise<RegistryEvent> {
    // Payload fields as AWS IoT publishes them (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html);
    // certificateRegistrationTimestamp was observed null.
    const event = await this.#writer.appendEvent(accountId, registrationTopic(caCertificateId), {
      certificateId,
      caCertificateId,
      timestamp: this.#clock(),
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: accountId,
      certificateRegistrationTimestamp: null,
    });
    this.#emitted(accountId, certificateId);
    this.#onEvent?.(event);
    return event;
  }
}

/** PEM text of a DER certificate (64-character lines, RFC 7468). */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
