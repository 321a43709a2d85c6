import {
  AttachPolicyCommand,
  AttachPrincipalPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  DetachPrincipalPolicyCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
  ListTargetsForPolicyCommand,
  RegisterCertificateWithoutCACommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_A, ACCOUNT_B, sdkError, signedFetch, startAdmin, type AdminHarness } from './harness.js';
import { makeSelfSigned } from './pki-fixtures.js';

describe('endpoints, policies and the event feed', () => {
  let harness: AdminHarness;
  let a: IoTClient;

  beforeAll(async () => {
    harness = await startAdmin();
    a = harness.client(ACCOUNT_A);
  });
  afterAll(async () => {
    await harness.close();
  });

  async function address(endpointType?: string): Promise<string | undefined> {
    return (await a.send(new DescribeEndpointCommand(endpointType ? { endpointType } : {}))).endpointAddress;
  }

  it('describes every endpoint type with the account prefix, stable across calls', async () => {
    const prefix = ACCOUNT_A.endpointPrefix;
    expect(await address('iot:Data-ATS')).toBe(`${prefix}-ats.iot.us-east-1.localhost`);
    expect(await address('iot:Data-ATS')).toBe(`${prefix}-ats.iot.us-east-1.localhost`);
    expect(await address()).toBe(`${prefix}.iot.us-east-1.localhost`);
    expect(await address('iot:CredentialProvider')).toBe(`${prefix}.credentials.iot.us-east-1.localhost`);
    expect(await address('iot:Jobs')).toBe(`${prefix}.jobs.iot.us-east-1.localhost`);
    expect((await harness.registry.accountForHost(`${prefix}-ats.iot.us-east-1.localhost`))?.accountId).toBe(ACCOUNT_A.accountId);
    const other = (await harness.client(ACCOUNT_B).send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress;
    expect(other).toBe(`${ACCOUNT_B.endpointPrefix}-ats.iot.us-east-1.localhost`);
  });

  it('stores policies and their targets, including the deprecated principal-policy calls', async () => {
    const { certificateArn = '' } = await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(1) }));
    const created = await a.send(new CreatePolicyCommand({ policyName: 'telemetry', policyDocument: '{"Version":"2012-10-17"}' }));
    expect(created).toMatchObject({
      policyName: 'telemetry',
      policyArn: `arn:aws:iot:us-east-1:${ACCOUNT_A.accountId}:policy/telemetry`,
      policyVersionId: '1',
    });
    expect((await sdkError(a.send(new CreatePolicyCommand({ policyName: 'telemetry', policyDocument: '{}' })))).name).toBe(
      'ResourceAlreadyExistsException',
    );
    expect((await sdkError(a.send(new CreatePolicyCommand({ policyName: 'bad', policyDocument: 'not json' })))).name).toBe(
      'MalformedPolicyException',
    );
    const got = await a.send(new GetPolicyCommand({ policyName: 'telemetry' }));
    expect(got).toMatchObject({ policyDocument: '{"Version":"2012-10-17"}', defaultVersionId: '1' });
    expect(got.creationDate).toBeInstanceOf(Date);

    await a.send(new AttachPolicyCommand({ policyName: 'telemetry', target: certificateArn }));
    expect((await a.send(new ListTargetsForPolicyCommand({ policyName: 'telemetry' }))).targets).toEqual([certificateArn]);
    const inUse = await sdkError(a.send(new DeletePolicyCommand({ policyName: 'telemetry' })));
    expect([inUse.name, inUse.status]).toEqual(['DeleteConflictException', 409]);
    await a.send(new DetachPolicyCommand({ policyName: 'telemetry', target: certificateArn }));
    await a.send(new AttachPrincipalPolicyCommand({ policyName: 'telemetry', principal: certificateArn }));
    expect((await a.send(new ListAttachedPoliciesCommand({ target: certificateArn }))).policies?.map((p) => p.policyName)).toEqual([
      'telemetry',
    ]);
    await a.send(new DetachPrincipalPolicyCommand({ policyName: 'telemetry', principal: certificateArn }));
    expect((await a.send(new ListAttachedPoliciesCommand({ target: certificateArn }))).policies).toEqual([]);
    await a.send(new DeletePolicyCommand({ policyName: 'telemetry' }));
    expect((await sdkError(a.send(new GetPolicyCommand({ policyName: 'telemetry' })))).name).toBe('ResourceNotFoundException');
  });

  it('refuses to attach a policy to a certificate the account does not hold', async () => {
    await a.send(new CreatePolicyCommand({ policyName: 'lonely', policyDocument: '{}' }));
    const target = `arn:aws:iot:us-east-1:${ACCOUNT_A.accountId}:cert/${'9'.repeat(64)}`;
    const failure = await sdkError(a.send(new AttachPolicyCommand({ policyName: 'lonely', target })));
    expect([failure.name, failure.status]).toEqual(['ResourceNotFoundException', 404]);
  });

  it('reports detaching a principal that is not attached as ResourceNotFoundException', async () => {
    const { certificateArn = '' } = await a.send(new RegisterCertificateWithoutCACommand({ certificatePem: makeSelfSigned(2) }));
    const failure = await sdkError(a.send(new DetachThingPrincipalCommand({ thingName: 'never-attached', principal: certificateArn })));
    expect([failure.name, failure.status]).toEqual(['ResourceNotFoundException', 404]);
  });

  it('attaches, lists and removes custom domains for SNI routing', async () => {
    const added = await signedFetch(harness, ACCOUNT_A, { method: 'PUT', path: '/certgate/domains/MQTT.Example.ORG' });
    expect([added.status, added.json]).toEqual([200, { domainName: 'mqtt.example.org' }]);
    expect((await harness.registry.accountForHost('mqtt.example.org'))?.accountId).toBe(ACCOUNT_A.accountId);
    const taken = await signedFetch(harness, ACCOUNT_B, { method: 'PUT', path: '/certgate/domains/mqtt.example.org' });
    expect([taken.status, taken.errorType]).toEqual([409, 'ResourceAlreadyExistsException']);
    const listed = await signedFetch(harness, ACCOUNT_A, { method: 'GET', path: '/certgate/domains' });
    expect(listed.json).toEqual({ domainNames: ['mqtt.example.org'] });
    const bad = await signedFetch(harness, ACCOUNT_A, { method: 'PUT', path: '/certgate/domains/bad_name!' });
    expect([bad.status, bad.errorType]).toEqual([400, 'InvalidRequestException']);
    const removed = await signedFetch(harness, ACCOUNT_A, { method: 'DELETE', path: '/certgate/domains/mqtt.example.org' });
    expect(removed.status).toBe(200);
    expect(await harness.registry.accountForHost('mqtt.example.org')).toBeNull();
    const again = await signedFetch(harness, ACCOUNT_A, { method: 'DELETE', path: '/certgate/domains/mqtt.example.org' });
    expect([again.status, again.errorType]).toEqual([404, 'ResourceNotFoundException']);
  });

  it('serves the account event feed in order after a cursor', async () => {
    const first = await harness.registry.appendEvent(ACCOUNT_A.accountId, '$aws/events/certificates/registered/ca', { n: 1 });
    await harness.registry.appendEvent(ACCOUNT_B.accountId, 'other', { n: 0 });
    await harness.registry.appendEvent(ACCOUNT_A.accountId, '$aws/events/certificates/registered/ca', { n: 2 });
    const all = await signedFetch(harness, ACCOUNT_A, { method: 'GET', path: '/certgate/events' });
    expect(all.status).toBe(200);
    expect(((all.json?.['events'] ?? []) as { payload: unknown }[]).map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    const after = await signedFetch(harness, ACCOUNT_A, {
      method: 'GET',
      path: '/certgate/events',
      query: { afterSequence: String(first.sequence), maxResults: '10' },
    });
    expect(((after.json?.['events'] ?? []) as { payload: unknown }[]).map((e) => e.payload)).toEqual([{ n: 2 }]);
    expect(after.json?.['nextSequence']).toBeGreaterThan(first.sequence);
    const bad = await signedFetch(harness, ACCOUNT_A, { method: 'GET', path: '/certgate/events', query: { maxResults: '0' } });
    expect([bad.status, bad.errorType]).toEqual([400, 'InvalidRequestException']);
  });
});
