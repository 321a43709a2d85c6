/**
 * What each piece of the warm-path machinery (ts/fastpath/) saves, in-process: the same
 * work with the piece and without it, CPU µs per call (process.cpuUsage, so other load
 * on the shared machine inflates both sides alike rather than the wall clock). Feeds the
 * "Fast path, piece by piece" table in bench/README.md; the end-to-end check is
 * `bench/authz.ts` with and without `--no-fast-path`.
 * Run: `npx vite-node bench/fastPath.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import { Authorizer, type Decision } from '../ts/authz/decision.js';
import { ChainMemo } from '../ts/authz/chain.js';
import { DEFAULT_LIMITS } from '../ts/authz/limits.js';
import { Verifier } from '../ts/authz/verifier.js';
import { VerifyCache } from '../ts/authz/verifyCache.js';
import { loadEngine } from '../ts/engine/load.js';
import { escapedChain, escapedPemMemo } from '../ts/ingress/requestError.js';
import { checkResponse } from '../ts/ingress/grpc.js';
import { authorizationService } from '../ts/ingress/envoyProtos.js';
import { EncodedAnswers } from '../ts/fastpath/encodedAnswers.js';
import { answerEncoder } from '../ts/ingress/http.js';
import { FastCounter, FastHistogram } from '../ts/fastpath/fastMetrics.js';
import { openSqliteRegistry } from '../ts/registry/sqlite/registry.js';
import { escapePem, identity } from '../test/authz/pki.js';
import { ACCOUNT, BenchRegistry } from './fixtures.js';

const PREFIX = 'benchbenchbenc';
const SNI = `${PREFIX}-ats.iot.us-east-1.localhost`;
const N = Number(process.env.BENCH_CALLS ?? 200_000);
/** `reads` measures only the registration read rows. */
const PARTS = process.env.BENCH_PARTS ?? 'all';

/** CPU µs per call of `fn`, after a warm-up of a tenth as many calls. */
function cpuPerCall(fn: (i: number) => unknown): number {
  for (let i = 0; i < N / 10; i++) fn(i);
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) fn(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / N;
}

const rows: [string, number, number][] = [];
function piece(label: string, without: number, withPiece: number): void {
  rows.push([label, without, withPiece]);
  process.stdout.write(
    `${label.padEnd(52)} without ${without.toFixed(2).padStart(6)} µs   with ${withPiece.toFixed(2).padStart(6)} µs   saves ${(without - withPiece).toFixed(2)} µs\n`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-fastpath-'));
  try {
    const file = path.join(dir, 'bench.db');
    const bench = await BenchRegistry.create(file, PREFIX);
    const ca = await bench.ca('Bench CA', 'rsa2048');
    const warm = await bench.leaves(16, identity('bench-device', 'rsa2048', false), ca.identity, ca.cert);
    await bench.close();
    const ids = warm.map((c) => c.id);

    // 1. The registration read, memo off / on.
    const plain = openSqliteRegistry({ path: file, fastPath: false });
    const memo = openSqliteRegistry({ path: file, fastPath: true, watchWalIndex: true });
    const counters = openSqliteRegistry({ path: file, fastPath: true, watchWalIndex: false });
    // Opening is asynchronous (migrations, settings); the synchronous reads need it done.
    await Promise.all([plain, memo, counters].map((r) => r.settings()));
    const read = (r: typeof plain) => cpuPerCall((i) => r.getCertificateStandingSync(ACCOUNT, ids[i % 16] ?? ''));
    piece('registration read (committed-reads memo, counters)', read(plain), read(counters));
    if (memo.watchesWalIndex) piece('registration read (+ wal-index header watch)', read(counters), read(memo));
    await counters.close();

    // 2. Decoding the presented chain, memo off / on.
    const pems = warm.map((c) => [c.pem]);
    const noMemo = new ChainMemo(DEFAULT_LIMITS, 0, 4096);
    const chainMemo = new ChainMemo(DEFAULT_LIMITS, 1024, 4096);
    // Remembered as the decision does once a chain is met again (rules.ts decodeChain).
    for (const p of pems) {
      const decoded = chainMemo.read(p);
      if (decoded.ok) chainMemo.remember(p, decoded.chain);
    }
    piece(
      'chain decode + SHA-256 (decoded-chain memo)',
      cpuPerCall((i) => noMemo.read(pems[i % 16] ?? [])),
      cpuPerCall((i) => chainMemo.read(pems[i % 16] ?? [])),
    );
    const escaped = warm.map((c) => escapePem(c.pem));
    const decodedPems = escapedPemMemo();
    // Remembered as a door does after a shared decision (requestError.ts rememberDecoded).
    for (const e of escaped) decodedPems.set(e, decodeURIComponent(e));
    piece(
      'escaped PEM decode (escaped-text memo)',
      cpuPerCall((i) => decodeURIComponent(escaped[i % 16] ?? '')),
      cpuPerCall((i) => escapedChain(escaped[i % 16] ?? '', decodedPems)),
    );

    // 3. Answers: the same allow encoded for HTTP and for gRPC, every time / shared.
    if (PARTS !== 'all') return;
    const engine = loadEngine('native');
    const decisions: Decision[] = [];
    for (const fastPath of [false, true]) {
      const registry = fastPath ? memo : plain;
      const authorizer = new Authorizer({
        registry,
        engine,
        verifier: new Verifier(engine),
        cache: new VerifyCache(1000),
        limits: DEFAULT_LIMITS,
        inlineBudgetUs: 1000,
        fastPath,
      });
      for (const p of pems) await authorizer.authorize(SNI, p);
      decisions.push(authorizer.decide(SNI, pems[0] ?? []) as Decision);
      const warmCall = (i: number) => authorizer.decide(SNI, pems[i % 16] ?? []);
      process.stdout.write(
        `decide warm, fast path ${fastPath ? 'on ' : 'off'}                        ${cpuPerCall(warmCall).toFixed(2)} µs\n`,
      );
    }
    const [fresh, shared] = decisions as [Decision, Decision];
    const sharedHttp = answerEncoder(true);
    const freshHttp = answerEncoder(false);
    piece(
      'HTTP answer encoding (shared per allow)',
      cpuPerCall(() => freshHttp(fresh, false)),
      cpuPerCall(() => sharedHttp(shared, false)),
    );
    const encode = authorizationService().service.Check?.responseSerialize as (v: unknown) => Buffer;
    const answers = new EncodedAnswers(checkResponse, encode);
    piece(
      'gRPC CheckResponse build + encode (encoded once)',
      cpuPerCall(() => encode(checkResponse(fresh))),
      cpuPerCall(() => answers.serialize(answers.response(shared))),
    );

    // 4. Metrics: prom-client's labelled calls / series bound once.
    const labels = { door: 'json', result: 'allow', reason: 'CERTIFICATE_ACTIVE' };
    const prom = new Registry();
    const counter = new Counter({ name: 'c', help: 'c', labelNames: ['door', 'result', 'reason'], registers: [prom] });
    const histogram = new Histogram({
      name: 'h',
      help: 'h',
      labelNames: ['door', 'result'],
      buckets: [0.0001, 0.001, 0.01, 0.1],
      registers: [prom],
    });
    const fastCounter = new FastCounter('fc', 'c', ['door', 'result', 'reason'], []).series(labels);
    const fastHistogram = new FastHistogram('fh', 'h', ['door', 'result'], [0.0001, 0.001, 0.01, 0.1], []).series({
      door: 'json',
      result: 'allow',
    });
    piece(
      'per-decision metrics (series bound once)',
      cpuPerCall(() => {
        counter.inc(labels);
        histogram.observe({ door: 'json', result: 'allow' }, 0.0002);
      }),
      cpuPerCall(() => {
        fastCounter.inc();
        fastHistogram.observe(0.0002);
      }),
    );
    await plain.close();
    await memo.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
