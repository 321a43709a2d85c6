/** Where the Envoy HTTP door takes SNI from: the configured header, or `:authority` — never both. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../ts/authz/limits.js';
import { envoyHttpInput, SNI_FROM_AUTHORITY } from '../../ts/ingress/doors.js';

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
