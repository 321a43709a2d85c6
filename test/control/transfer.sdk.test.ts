import {
  AcceptCertificateTransferCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CancelCertificateTransferCommand,
  CreatePolicyCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DetachPolicyCommand,
  ListCertificatesCommand,
  ListOutgoingCertificatesCommand,
  RegisterCertificateWithoutCACommand,
  RejectCertificateTransferCommand,
  TransferCertificateCommand,
  UpdateCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_A, ACCOUNT_B, sdkError, startAdmin, type AdminHarness } from './harness.js';
import { makeSelfSigned } from './pki-fixtures.js';

describe('certificate transfer between two accounts through @aws-sdk/client-iot', () => {
  let harness: AdminHarness;
  let a: IoTClient;
  let b: IoTClient;

  beforeAll(async () => {
    harness = await startAdmin();
    a = harness.client(ACCOUNT_A);
    b = harness.client(ACCOUNT_B);
  });
  afterAll(async () => {
    await harness.close();
  });

  async function registerInA(serial: number, status: 'ACTIVE' | 'INACTIVE' = 'INACTIVE') {
    return a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(serial), status }));
  }

  it('completes a full transfer: offer, discover, accept as ACTIVE, and cannot be undone', async () => {
    const { certificateId = '', certificateArn = '' } = await registerInA(1, 'ACTIVE');
    const active = await sdkError(a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: ACCOUNT_B.accountId })));
    expect([active.name, active.status]).toEqual(['CertificateStateException', 406]);
    await a.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    await a.send(new CreatePolicyCommand({ policyName: 'p', policyDocument: '{}' }));
    await a.send(new AttachPolicyCommand({ policyName: 'p', target: certificateArn }));
    const attached = await sdkError(a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: ACCOUNT_B.accountId })));
    expect([attached.name, attached.status]).toEqual(['TransferConflictException', 409]);
    await a.send(new DetachPolicyCommand({ policyName: 'p', target: certificateArn }));

    const offer = await a.send(
      new TransferCertificateCommand({ certificateId, targetAwsAccount: ACCOUNT_B.accountId, transferMessage: 'yours now' }),
    );
    expect(offer.transferredCertificateArn).toBe(`arn:aws:iot:us-east-1:${ACCOUNT_B.accountId}:cert/${certificateId}`);
    const outgoing = await a.send(new ListOutgoingCertificatesCommand({}));
    expect(outgoing.outgoingCertificates).toMatchObject([
      { certificateId, transferredTo: ACCOUNT_B.accountId, transferMessage: 'yours now', certificateArn: offer.transferredCertificateArn },
    ]);
    expect(outgoing.outgoingCertificates?.[0]?.transferDate).toBeInstanceOf(Date);
    const incoming = await b.send(new ListCertificatesCommand({}));
    expect(incoming.certificates).toMatchObject([
      { certificateId, status: 'PENDING_TRANSFER', certificateArn: offer.transferredCertificateArn },
    ]);
    const pendingDelete = await sdkError(a.send(new DeleteCertificateCommand({ certificateId })));
    expect([pendingDelete.name, pendingDelete.status]).toEqual(['CertificateStateException', 406]);
    expect((await b.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.status).toBe('PENDING_TRANSFER');
    expect(await harness.registry.getCertificate(ACCOUNT_B.accountId, certificateId)).toBeNull();

    const bySource = await sdkError(a.send(new AcceptCertificateTransferCommand({ certificateId })));
    expect(bySource.name).toBe('ResourceNotFoundException');
    await b.send(new AcceptCertificateTransferCommand({ certificateId, setAsActive: true }));
    const d = (await b.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription;
    expect(d).toMatchObject({
      status: 'ACTIVE',
      ownedBy: ACCOUNT_B.accountId,
      previousOwnedBy: ACCOUNT_A.accountId,
      transferData: { transferMessage: 'yours now' },
    });
    expect(d?.transferData?.acceptDate).toBeInstanceOf(Date);
    expect((await harness.registry.getCertificate(ACCOUNT_B.accountId, certificateId))?.status).toBe('ACTIVE');
    expect((await sdkError(a.send(new DescribeCertificateCommand({ certificateId })))).name).toBe('ResourceNotFoundException');
    expect((await a.send(new ListOutgoingCertificatesCommand({}))).outgoingCertificates).toEqual([]);

    const again = await sdkError(b.send(new AcceptCertificateTransferCommand({ certificateId })));
    expect([again.name, again.status]).toEqual(['TransferAlreadyCompletedException', 410]);
    const cancel = await sdkError(a.send(new CancelCertificateTransferCommand({ certificateId })));
    expect([cancel.name, cancel.status]).toEqual(['TransferAlreadyCompletedException', 410]);
    const reject = await sdkError(b.send(new RejectCertificateTransferCommand({ certificateId })));
    expect([reject.name, reject.status]).toEqual(['TransferAlreadyCompletedException', 410]);
  });

  it('returns a rejected transfer to the source as INACTIVE with the reason', async () => {
    const { certificateId = '' } = await registerInA(2);
    await a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: ACCOUNT_B.accountId }));
    await b.send(new RejectCertificateTransferCommand({ certificateId, rejectReason: 'not ours' }));
    const d = (await a.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription;
    expect(d).toMatchObject({ status: 'INACTIVE', ownedBy: ACCOUNT_A.accountId, transferData: { rejectReason: 'not ours' } });
    expect(d?.transferData?.rejectDate).toBeInstanceOf(Date);
    expect((await sdkError(b.send(new AcceptCertificateTransferCommand({ certificateId })))).name).toBe('ResourceNotFoundException');
  });

  it('lets only the source cancel, returning the certificate to INACTIVE', async () => {
    const { certificateId = '' } = await registerInA(3);
    await a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: ACCOUNT_B.accountId }));
    expect((await sdkError(b.send(new CancelCertificateTransferCommand({ certificateId })))).name).toBe('ResourceNotFoundException');
    await a.send(new CancelCertificateTransferCommand({ certificateId }));
    expect((await a.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.status).toBe('INACTIVE');
    expect((await b.send(new ListCertificatesCommand({}))).certificates?.map((c) => c.certificateId)).not.toContain(certificateId);
    const notPending = await sdkError(a.send(new CancelCertificateTransferCommand({ certificateId })));
    expect([notPending.name, notPending.status]).toEqual(['InvalidRequestException', 400]);
  });

  it('refuses to transfer a REVOKED certificate or one attached to a thing', async () => {
    const revoked = await registerInA(5);
    await a.send(new UpdateCertificateCommand({ certificateId: revoked.certificateId, newStatus: 'REVOKED' }));
    const state = await sdkError(
      a.send(new TransferCertificateCommand({ certificateId: revoked.certificateId, targetAwsAccount: ACCOUNT_B.accountId })),
    );
    expect([state.name, state.status]).toEqual(['CertificateStateException', 406]);
    const withThing = await registerInA(6);
    await a.send(new AttachThingPrincipalCommand({ thingName: 'gateway', principal: withThing.certificateArn }));
    const conflict = await sdkError(
      a.send(new TransferCertificateCommand({ certificateId: withThing.certificateId, targetAwsAccount: ACCOUNT_B.accountId })),
    );
    expect([conflict.name, conflict.status]).toEqual(['TransferConflictException', 409]);
  });

  it('refuses bad transfer targets', async () => {
    const { certificateId = '' } = await registerInA(4);
    const self = await sdkError(a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: ACCOUNT_A.accountId })));
    expect(self.name).toBe('InvalidRequestException');
    const malformed = await sdkError(a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: '12345' })));
    expect(malformed.name).toBe('InvalidRequestException');
    const unknown = await sdkError(a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: '999999999999' })));
    expect([unknown.name, unknown.status]).toEqual(['ResourceNotFoundException', 404]);
    const long = await sdkError(
      a.send(new TransferCertificateCommand({ certificateId, targetAwsAccount: ACCOUNT_B.accountId, transferMessage: 'x'.repeat(129) })),
    );
    expect(long.name).toBe('InvalidRequestException');
    expect((await a.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.status).toBe('INACTIVE');
  });
});
