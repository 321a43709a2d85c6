/**
 * Per-step table of V8 CPU profiles of `certgate serve` workers (`node --cpu-prof`, as
 * `BENCH_PROFILE=dir npx vite-node bench/authz.ts` writes them): every sample is given to
 * the innermost frame on its stack that belongs to a named step of a decision, so a
 * `JSON.parse` called by the JSON door counts as body parsing and a `Map.set` called by
 * the verification cache counts as the cache. Samples no step claims are split into
 * node:http/net internals, garbage collection and the rest. Idle samples are left out:
 * shares are of the CPU the worker used.
 *
 * Run: `npx vite-node bench/profileSteps.ts <dir-or-file.cpuprofile>... [--per-request-us N] [--detail]`
 * (`--detail`: the heaviest innermost frames of each step, `DETAIL_TOP` of them, default 6).
 * With `--per-request-us` (server CPU per request measured without the profiler, from
 * /proc) each share is also shown as µs per request.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A step and how to recognise its frames (function name and/or script path). */
interface Rule {
  step: string;
  match: (f: CallFrame) => boolean;
}

const file = (f: CallFrame, name: string) => f.url.endsWith(name);
const fn = (f: CallFrame, ...names: string[]) => names.includes(f.functionName);

/** The steps, in the order of the table. The first rule that matches a frame names its step. */
const RULES: Rule[] = [
  {
    step: 'body read + JSON parse (doors.ts jsonInput, http.ts readBody)',
    match: (f) => file(f, '/ingress/doors.ts') || file(f, '/ingress/doors.js') || fn(f, 'readBody'),
  },
  {
    step: 'SNI normalise + routing (sni.ts, ConfigCache of routes)',
    match: (f) =>
      /\/ingress\/sni\.[jt]s$/.test(f.url) ||
      fn(f, 'normaliseSni', 'canonicalHost', 'accountForHost', 'accountForHostSync') ||
      /\/authz\/configCache\.[jt]s$/.test(f.url),
  },
  { step: 'PEM → DER decode + SHA-256 of the leaf (chain.ts, textMemo.ts)', match: (f) => /\/authz\/(chain|textMemo)\.[jt]s$/.test(f.url) },
  {
    step: 'engine verifyChain (napi/wasm call: marshalling + parse + signature)',
    match: (f) => fn(f, 'verifyChain', 'verifyChainWith', 'verifyPresented') || /\/authz\/verifier\.[jt]s$/.test(f.url),
  },
  // A napi function has no frame of its own: its time shows on the JS caller. The wasm
  // engine's glue, its wasm functions and host-crypto.ts are claimed by their caller too.
  { step: 'engine inspect of the leaf (serials for CRL links)', match: (f) => fn(f, 'inspect', '#inspect', '#leaf') },
  { step: 'CA anchor (anchors.ts)', match: (f) => /\/authz\/anchors\.[jt]s$/.test(f.url) },
  { step: 'registry reads (SQLite, miss)', match: (f) => /\/registry\//.test(f.url) || /better-sqlite3/.test(f.url) },
  { step: 'JITR check (jitr.ts)', match: (f) => /\/authz\/jitr\.[jt]s$/.test(f.url) },
  {
    step: 'CRL lookup (crls.ts, checkCrls)',
    match: (f) => /\/authz\/crls\.[jt]s$/.test(f.url) || fn(f, '#checkCrls', '#crlsAllowNow', 'crlRefusal'),
  },
  {
    step: 'verify cache get/insert (verifyCache.ts, crlLinks)',
    match: (f) => /\/authz\/verifyCache\.[jt]s$/.test(f.url) || fn(f, '#crlLinks'),
  },
  { step: 'decision log', match: (f) => /\/metrics\/decisionLog\.[jt]s$/.test(f.url) || /node_modules\/pino/.test(f.url) },
  { step: 'metrics', match: (f) => /\/metrics\//.test(f.url) || /hdr-histogram/.test(f.url) },
  {
    step: 'answer encoding (http.ts answer, answer.ts)',
    match: (f) => /\/ingress\/(answer|encodedAnswers)\.[jt]s$/.test(f.url) || fn(f, 'answer', 'encoded', 'quietDeny'),
  },
  {
    step: 'decision sequence (decision.ts, deadline, stages, shedding, placement)',
    match: (f) => /\/authz\/(decision|deadline|stages|shedding|placement)\.[jt]s$/.test(f.url),
  },
  { step: 'ingress routing (http.ts)', match: (f) => /\/ingress\/http\.[jt]s$/.test(f.url) },
];

/** Samples not spent serving: process start-up (module loading, protobuf set-up) and idle pool threads. */
const STARTUP = (f: CallFrame) =>
  f.url.startsWith('node:internal/modules/') ||
  f.url.startsWith('node:internal/bootstrap/') ||
  /protobufjs|proto-loader/.test(f.url) ||
  fn(f, 'startNode');
const IDLE = (f: CallFrame) => fn(f, '(idle)', 'atomicsWaitLoop');

/** node:http, net and stream internals: the writing and reading of a request, whoever called them. */
const NODE_IO = /^node:(_http_\w+|net|events|internal\/(streams?\/\w+|stream_base_commons|http|net))$/;

const GC = 'garbage collection';
const NODE = 'node:http / net / streams (reading the request, writing the answer)';
const OTHER = 'other (program, unclaimed JS)';

interface StepTable {
  /** Non-idle sampled CPU, µs. */
  totalUs: number;
  steps: Map<string, number>;
  /** Per step, self time by innermost frame (`--detail`). */
  frames: Map<string, Map<string, number>>;
}

function stepTable(profiles: Profile[]): StepTable {
  const steps = new Map<string, number>();
  const frames = new Map<string, Map<string, number>>();
  let totalUs = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    // Start-up anywhere on the stack (module loading runs code at the top of modules) wins.
    const startup = new Map<number, boolean>();
    const inStartup = (id: number): boolean => {
      const known = startup.get(id);
      if (known !== undefined) return known;
      const frame = byId.get(id)?.callFrame;
      const up = parent.get(id);
      const value = (frame !== undefined && STARTUP(frame)) || (up !== undefined && inStartup(up));
      startup.set(id, value);
      return value;
    };
    const memo = new Map<number, string | null>();
    const classify = (id: number): string | null => {
      const known = memo.get(id);
      if (known !== undefined) return known;
      const frame = byId.get(id)?.callFrame;
      let step: string | null = null;
      if (frame !== undefined) {
        if (IDLE(frame) || inStartup(id)) step = 'idle';
        else if (frame.functionName === '(garbage collector)') step = GC;
        else if (NODE_IO.test(frame.url)) step = NODE;
        else step = RULES.find((r) => r.match(frame))?.step ?? null;
      }
      if (step === null) {
        const up = parent.get(id);
        step = up === undefined ? null : classify(up);
      }
      memo.set(id, step);
      return step;
    };
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i] ?? 0;
      const dt = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0;
      const step = classify(id) ?? OTHER;
      if (step === 'idle') continue;
      totalUs += dt;
      steps.set(step, (steps.get(step) ?? 0) + dt);
      const f = byId.get(id)?.callFrame;
      const name = f === undefined ? '?' : `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(ts|dist|node_modules)\//, '$1/')}`;
      const perStep = frames.get(step) ?? new Map<string, number>();
      perStep.set(name, (perStep.get(name) ?? 0) + dt);
      frames.set(step, perStep);
    }
  }
  return { totalUs, steps, frames };
}

function profilesOf(args: string[]): Profile[] {
  const files = args.flatMap((a) =>
    statSync(a).isDirectory()
      ? readdirSync(a)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => path.join(a, f))
      : [a],
  );
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile);
}

function formatTable(t: StepTable, perRequestUs?: number): string {
  const order = [...RULES.map((r) => r.step), GC, NODE, OTHER];
  const rows = order
    .filter((s) => t.steps.has(s))
    .map((s) => {
      const share = (t.steps.get(s) ?? 0) / t.totalUs;
      const us = perRequestUs === undefined ? '' : ` | ${(share * perRequestUs).toFixed(1)}`;
      return `| ${s} | ${(share * 100).toFixed(1)} %${us} |`;
    });
  const head =
    perRequestUs === undefined
      ? '| step | share of worker CPU |\n| --- | --- |'
      : '| step | share of worker CPU | µs per request |\n| --- | --- | --- |';
  return [head, ...rows].join('\n');
}

/** The heaviest innermost frames of each step, for finding what to cut. */
function formatDetail(t: StepTable): string {
  const out: string[] = [];
  for (const [step, byFrame] of t.frames) {
    out.push(`${step}:`);
    const heaviest = Array.from(byFrame);
    heaviest.sort((a, b) => b[1] - a[1]);
    for (const [name, us] of heaviest.slice(0, Number(process.env.DETAIL_TOP ?? 6)))
      out.push(`  ${((us / t.totalUs) * 100).toFixed(2).padStart(6)} %  ${name}`);
  }
  return out.join('\n');
}

{
  const args = process.argv.slice(2);
  const at = args.indexOf('--per-request-us');
  const perRequest = at === -1 ? undefined : Number(args[at + 1]);
  const detail = args.includes('--detail');
  const rest = at === -1 ? args : [...args.slice(0, at), ...args.slice(at + 2)];
  const table = stepTable(profilesOf(rest.filter((a) => a !== '--detail')));
  process.stdout.write(`${formatTable(table, perRequest)}\n`);
  if (detail) process.stdout.write(`\n${formatDetail(table)}\n`);
}
