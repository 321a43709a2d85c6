/** Door header parsing: where SNI comes from (Envoy HTTP), and headers that must come once (NGINX). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../ts/authz/limits.js';
import { envoyHttpInput, nginxInput, SNI_FROM_AUTHORITY } from '../../ts/ingress/doors.js';

describe('the Envoy HTTP door SNI source', () => {
  it('reads the configured header', () => {
    const input = envoyHttpInput({ 'x-certgate-sni': 'a.example', host: 'b.example' }, DEFAULT_LIMITS, 'x-certgate-sni');
    expect(input.sni).toBe('a.example');
  });

  it('treats an absent or empty header as no SNI, ignoring the Host', () => {
    expect(envoyHttpInput({ host: 'b.example:443' }, DEFAULT_LIMITS, 'x-certgate-sni').sni).toBeNull();
    expect(envoyHttpInput({ 'x-certgate-sni': '', host: 'b.example' }, DEFAULT_LIMITS, 'x-certgate-sni').sni).toBeNull();
  });

  it('takes the Host without its port when configured with :authority, ignoring the header', () => {
    const input = envoyHttpInput({ 'x-certgate-sni': 'a.example', host: 'b.example:8443' }, DEFAULT_LIMITS, SNI_FROM_AUTHORITY);
    expect(input.sni).toBe('b.example');
    expect(envoyHttpInput({ host: '[::1]:443' }, DEFAULT_LIMITS, SNI_FROM_AUTHORITY).sni).toBeNull();
  });
});

describe('the NGINX door headers', () => {
  it('refuses a certificate header sent twice instead of reading two certificates as a chain', () => {
    expect(() => nginxInput({ 'x-ssl-client-cert': 'A%0A, B%0A', 'x-ssl-server-name': 'a.example' }, DEFAULT_LIMITS)).toThrow(
      expect.objectContaining({ reason: 'BAD_REQUEST' }),
    );
    expect(() => nginxInput({ 'x-ssl-client-cert': 'A%0A', 'x-ssl-server-name': 'a.example, b.example' }, DEFAULT_LIMITS)).toThrow(
      expect.objectContaining({ reason: 'BAD_REQUEST' }),
    );
  });
});
