/**
 * The engine contract: what both the wasm and the native build of `certgate-core`
 * expose, with identical names and shapes. A refusal is data, never an exception.
 */

export type EngineName = 'native' | 'wasm';
export const ENGINE_NAMES: readonly EngineName[] = ['native', 'wasm'];

/** Stable engine error codes; mirrors `certgate_core::ErrorCode` (checked by a test). */
export type EngineErrorCode = string;

export interface Refusal {
  ok: false;
  code: EngineErrorCode;
  message: string;
}

export type Outcome<T> = ({ ok: true } & T) | Refusal;

export interface PublicKeyInfo {
  type: 'RSA' | 'EC' | 'DSA' | 'UNKNOWN';
  bits: number;
  curve?: string;
}

export interface CertificateInfo {
  /** Lowercase hex SHA-256 of the DER (AWS IoT certificateId). */
  certificateId: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  /** Epoch seconds. */
  notBefore: number;
  /** Epoch seconds. */
  notAfter: number;
  /** AWS IoT name (`SHA256WITHRSA` …) or `UNSUPPORTED`. */
  signatureAlgorithm: string;
  publicKey: PublicKeyInfo;
}

/** The raw binding surface, identical for `build/native` and `build/wasm`. */
export interface EngineBinding {
  inspect(input: Uint8Array): Outcome<CertificateInfo>;
  errorCodes(): string[];
}

/** An engine as the orchestrator uses it. */
export interface Engine extends EngineBinding {
  readonly name: EngineName;
}
