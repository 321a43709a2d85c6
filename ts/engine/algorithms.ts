/**
 * The seven certificate signature algorithms AWS IoT accepts
 * (https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html), in the engine's
 * naming (`CertificateInfo.signatureAlgorithm`). The engine enforces the same set when it
 * verifies; the control plane (registration) and the authorizer (no-CA certificates,
 * whose signatures are never verified) check a parsed certificate against this one list.
 */
export const AWS_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'SHA256WITHRSA',
  'SHA384WITHRSA',
  'SHA512WITHRSA',
  'DSA_WITH_SHA256',
  'ECDSA-WITH-SHA256',
  'ECDSA-WITH-SHA384',
  'ECDSA-WITH-SHA512',
]);
