/**
 * Registry records as AWS IoT JSON output shapes (https://docs.aws.amazon.com/iot/latest/apireference/API_CACertificateDescription.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_CertificateDescription.html, https://docs.aws.amazon.com/iot/latest/apireference/API_Certificate.html).
 * Dates are epoch-second numbers.
 */
import type { CaCertificateRecord, CertificateRecord } from '../registry/types.js';
import { caCertificateArn, certificateArn, type ControlContext } from './context.js';

/** Drop null/undefined members: AWS omits absent members. */
function compact(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== undefined));
}

/** DescribeCertificate's `certificateDescription`, as seen from `viewerAccountId`. */
export function certificateDescription(ctx: ControlContext, viewerAccountId: string, c: CertificateRecord): Record<string, unknown> {
  return compact({
    certificateArn: certificateArn(ctx, viewerAccountId, c.certificateId),
    certificateId: c.certificateId,
    caCertificateId: c.caCertificateId,
    status: c.status,
    certificatePem: c.certificatePem,
    ownedBy: c.accountId,
    previousOwnedBy: c.previousOwnedBy,
    creationDate: c.creationDate,
    lastModifiedDate: c.lastModifiedDate,
    customerVersion: c.customerVersion,
    transferData: compact({
      transferMessage: c.transfer.transferMessage,
      rejectReason: c.transfer.rejectReason,
      transferDate: c.transfer.transferDate,
      acceptDate: c.transfer.acceptDate,
      rejectDate: c.transfer.rejectDate,
    }),
    generationId: c.generationId,
    validity: { notBefore: c.notBefore, notAfter: c.notAfter },
    certificateMode: c.certificateMode,
  });
}

/** One entry of ListCertificates / ListCertificatesByCA. */
export function certificateSummary(ctx: ControlContext, viewerAccountId: string, c: CertificateRecord): Record<string, unknown> {
  return {
    certificateArn: certificateArn(ctx, viewerAccountId, c.certificateId),
    certificateId: c.certificateId,
    status: c.status,
    certificateMode: c.certificateMode,
    creationDate: c.creationDate,
  };
}

export function caCertificateDescription(ctx: ControlContext, c: CaCertificateRecord): Record<string, unknown> {
  return {
    certificateArn: caCertificateArn(ctx, c.accountId, c.certificateId),
    certificateId: c.certificateId,
    status: c.status,
    certificatePem: c.certificatePem,
    ownedBy: c.accountId,
    creationDate: c.creationDate,
    autoRegistrationStatus: c.autoRegistrationStatus,
    lastModifiedDate: c.lastModifiedDate,
    customerVersion: c.customerVersion,
    generationId: c.generationId,
    validity: { notBefore: c.notBefore, notAfter: c.notAfter },
    certificateMode: c.certificateMode,
  };
}

export function caCertificateSummary(ctx: ControlContext, c: CaCertificateRecord): Record<string, unknown> {
  return {
    certificateArn: caCertificateArn(ctx, c.accountId, c.certificateId),
    certificateId: c.certificateId,
    status: c.status,
    creationDate: c.creationDate,
  };
}
