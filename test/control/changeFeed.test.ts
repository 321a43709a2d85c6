/**
 * The change feed: `GET /v1/changes?after=CURSOR` on the admin port, server-sent events,
 * SigV4 (an independent signer), scoped to the caller's account, resumable.
 */
import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGES_PATH } from '../../ts/control/changeFeed.js';
import { ACCOUNT_A, ACCOUNT_B, REGION, Sha256, signedFetch, startAdmin, type AdminHarness, type TestAccount } from './harness.js';

interface ChangeEvent {
  id: string;
  data: { sequence: number; accountId: string; kind: string; resourceId: string; status: string; time: number };
  at: number;
}

/** An open feed: events as they arrive (with arrival time), and a way to close it. */
interface Feed {
  events: ChangeEvent[];
  next(count: number, timeoutMs?: number): Promise<ChangeEvent[]>;
  close(): void;
}

async function openFeed(
  h: AdminHarness,
  account: TestAccount,
  query: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Feed> {
  const url = new URL(h.url);
  const signer = new SignatureV4({ service: 'iot', region: REGION, credentials: account, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: CHANGES_PATH,
    query,
    headers: { host: url.host, ...headers },
  });
  const abort = new AbortController();
  const res = await fetch(`${h.url}${CHANGES_PATH}?${new URLSearchParams(query)}`, {
    headers: Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')),
    signal: abort.signal,
  });
  expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
  const events: ChangeEvent[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined)
            events.push({ id, data: JSON.parse(data) as ChangeEvent['data'], at: performance.now() });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    async next(count, timeoutMs = 5000) {
      const until = performance.now() + timeoutMs;
      while (events.length < count && performance.now() < until) await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 20)));
      return events.slice(0, count);
    },
    close: () => abort.abort(),
  };
}

const hex = (n: number) => n.toString(16).padStart(64, '0');

describe('GET /v1/changes', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await startAdmin();
    for (let n = 1; n <= 6; n++) {
      await h.registry.insertCertificate({
        accountId: ACCOUNT_A.accountId,
        certificateId: hex(n),
        certificatePem: `PEM ${n}\n`,
        notBefore: 1_700_000_000,
        notAfter: 2_524_607_999,
        status: 'ACTIVE',
        certificateMode: 'SNI_ONLY',
        caCertificateId: null,
      });
    }
  });
  afterAll(async () => h?.close());

  const revoke = (n: number) => h.client(ACCOUNT_A).send(new UpdateCertificateCommand({ certificateId: hex(n), newStatus: 'REVOKED' }));
  const latest = async () => (await h.registry.listChanges(ACCOUNT_A.accountId, 0, 10_000)).at(-1)?.sequence ?? 0;

  it('streams a revocation made through the AWS API within 100 ms of the API answering', async () => {
    const feed = await openFeed(h, ACCOUNT_A, { after: String(await latest()) });
    try {
      await new Promise((r) => setTimeout(r, 100)); // the feed is idle and polling
      await revoke(1);
      const answered = performance.now();
      const [event] = await feed.next(1);
      expect(event?.data).toMatchObject({ accountId: ACCOUNT_A.accountId, kind: 'certificate', resourceId: hex(1), status: 'REVOKED' });
      expect((event?.at ?? Infinity) - answered).toBeLessThan(100);
      expect(event?.id).toBe(String(event?.data.sequence));
    } finally {
      feed.close();
    }
  });

  it('resumes after a reconnect with Last-Event-ID (or ?after) and misses nothing', async () => {
    const start = await latest();
    const first = await openFeed(h, ACCOUNT_A, { after: String(start) });
    await revoke(2);
    const [seen] = await first.next(1);
    first.close();
    // Changes made while no client is connected.
    await revoke(3);
    await revoke(4);
    const resumed = await openFeed(h, ACCOUNT_A, {}, { 'last-event-id': String(seen?.id) });
    await revoke(5);
    const rest = await resumed.next(3);
    resumed.close();
    expect([seen, ...rest].map((e) => e?.data.resourceId)).toEqual([hex(2), hex(3), hex(4), hex(5)]);
    const again = await openFeed(h, ACCOUNT_A, { after: String(start) });
    expect((await again.next(4)).map((e) => e.data.resourceId)).toEqual([hex(2), hex(3), hex(4), hex(5)]);
    again.close();
  });

  it('shows an account only its own changes', async () => {
    const feed = await openFeed(h, ACCOUNT_B, { after: '0' });
    await revoke(6);
    await new Promise((r) => setTimeout(r, 200));
    feed.close();
    expect(feed.events).toEqual([]);
  });

  it('refuses a bad cursor and an unsigned request, and answers nothing else', async () => {
    const bad = await signedFetch(h, ACCOUNT_A, { method: 'GET', path: CHANGES_PATH, query: { after: '-1' } });
    expect([bad.status, bad.errorType]).toEqual([400, 'InvalidRequestException']);
    const unsigned = await fetch(`${h.url}${CHANGES_PATH}?after=0`);
    expect(unsigned.status).toBe(403);
    await unsigned.text();
  });
});
