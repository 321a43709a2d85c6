import { describe, expect, it } from 'vitest';
import { parseXfcc, xfccClientChain } from '../../ts/ingress/xfcc.js';
import { escapePem } from '../authz/pki.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB+z/a==\n-----END CERTIFICATE-----\n';
const CHAIN = `${PEM}-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n`;

describe('x-forwarded-client-cert parsing', () => {
  it('reads the pairs Envoy emits in order, with quoted Cert, Chain and Subject', () => {
    const header =
      `By=spiffe://proxy.example/envoy;Hash=abc123;Cert="${escapePem(PEM)}";Chain="${escapePem(CHAIN)}";` +
      'Subject="CN=device-1,OU=Fleet A,O=Demo IoT,C=US";URI=spiffe://iot.example.test/thing/device-1;DNS=a.example;DNS=b.example';
    const [element] = parseXfcc(header);
    expect(element?.get('by')).toEqual(['spiffe://proxy.example/envoy']);
    expect(element?.get('hash')).toEqual(['abc123']);
    expect(element?.get('subject')).toEqual(['CN=device-1,OU=Fleet A,O=Demo IoT,C=US']);
    expect(element?.get('dns')).toEqual(['a.example', 'b.example']);
    expect(decodeURIComponent(element?.get('cert')?.[0] ?? '')).toBe(PEM);
  });

  it('prefers Chain over Cert and decodes the five escapes back to PEM', () => {
    expect(xfccClientChain(`Hash=1;Cert="${escapePem(PEM)}";Chain="${escapePem(CHAIN)}"`)).toBe(CHAIN);
    expect(xfccClientChain(`Hash=1;Cert="${escapePem(PEM)}"`)).toBe(PEM);
  });

  it('takes the last element, the hop nearest to certgate, from an appended header', () => {
    const other = escapePem(CHAIN);
    expect(xfccClientChain(`Hash=0;Cert="${other}",Hash=1;Cert="${escapePem(PEM)}"`)).toBe(PEM);
  });

  it('unescapes backslash-quoted characters inside quoted values', () => {
    const [element] = parseXfcc('Subject="CN=\\"quoted\\", O=x;y";URI=');
    expect(element?.get('subject')).toEqual(['CN="quoted", O=x;y']);
    expect(element?.get('uri')).toEqual(['']);
  });

  it('keys are case-insensitive and By/URI values with "=" are read leniently', () => {
    const [element] = parseXfcc('by=spiffe://a/b?x=1;HASH=ff');
    expect(element?.get('by')).toEqual(['spiffe://a/b?x=1']);
    expect(element?.get('hash')).toEqual(['ff']);
  });

  it('returns null when no element carries a certificate', () => {
    expect(xfccClientChain('Hash=abc;Subject=""')).toBeNull();
  });

  it.each([
    ['a value with no closing quote', 'Cert="abc'],
    ['a pair without "="', 'Hash'],
    ['garbage after a quoted value', 'Cert="abc"x'],
  ])('rejects %s', (_, header) => {
    expect(() => parseXfcc(header)).toThrow(TypeError);
  });
});
