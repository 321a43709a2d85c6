/**
 * `certgate load`: the load tool users point at their own deployment. It presents a
 * fleet's devices (ts/load/fleet.ts) to one door — the authorizer's HTTP doors, Envoy's
 * gRPC Check, or a real TLS terminator with each device's certificate — checks every
 * answer against what the registry says, and reports latency from HdrHistograms.
 */
import { fork } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { FleetError, readFleet } from '../../load/fleet.js';
import { runLoad, type LoadOptions, type Profile } from '../../load/run.js';
import { renderReport } from '../../load/report.js';
import { RunStats, type Summary } from '../../load/stats.js';
import { HTTP_DOORS, openTarget, type GrpcShape, type HttpDoor, type TargetSpec } from '../../load/targets.js';
import type { FromWorker, WorkerJob } from '../../load/worker.js';
import { CliError, EXIT, printJson, printTable } from '../output.js';

interface LoadCliOptions {
  fleet: string;
  url?: string;
  door: string;
  grpc?: string;
  grpcShape: string;
  tlsUrl?: string;
  tlsCa?: string;
  dangerTlsInsecure?: boolean;
  profile: string;
  warmShare: string;
  coldShare: string;
  revokedShare: string;
  warmDevices: string;
  connections: string;
  rate?: string;
  duration: string;
  requests?: string;
  workers: string;
  timeout: string;
  maxP99?: string;
  maxErrorRate?: string;
  json?: boolean;
  report?: string;
}

const EXAMPLES = `
Examples:
  # 30 s at 2,000 requests/s (open loop) against the JSON door, every answer checked
  certgate load --fleet ./fleet --rate 2000 --duration 30s

  # Envoy's gRPC Check as the network (TCP) filter sends it, closed loop, 64 connections
  certgate load --fleet ./fleet --grpc 127.0.0.1:9442 --grpc-shape network --connections 64

  # Through NGINX with each device's certificate, one TLS handshake per request; with the
  # shipped examples/nginx/ config 2xx is an allow, 403 (or NGINX's own 400 certificate
  # refusal) a deny, 5xx unavailable
  certgate load --fleet ./fleet --tls-url https://127.0.0.1:8443/ --tls-ca server-ca.pem --revoked-share 0.1

  # A reconnect storm: every device once, as fast as possible, from 2 generator processes
  certgate load --fleet ./fleet --profile storm --workers 2

  # CI gate: exit 1 if p99 > 2 ms or any error or wrong answer
  certgate load --fleet ./fleet --rate 1000 --duration 20s --max-p99 2ms --max-error-rate 0

  # A self-contained HTML page (no network needed to open it): summary, latency over time,
  # the percentile curve and answers by reason
  certgate load --fleet ./fleet --rate 1000 --duration 30s --report load.html

Exit codes: 0 done (thresholds met, no wrong answer), 1 a wrong answer or a threshold exceeded,
2 usage error, 3 the run could not start.`;

/** "500us", "2ms", "1.5s", "2m" → milliseconds; a bare number is milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms|s|m)?$/.exec(text.trim());
  if (m === null) throw new CliError(`${flag} must be a duration such as 500us, 2ms, 1.5s or 2m, got "${text}"`, EXIT.usage);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const millis = unit === 'us' || unit === 'µs' ? n / 1000 : unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
  if (!(millis > 0)) throw new CliError(`${flag} must be positive, got "${text}"`, EXIT.usage);
  return millis;
}

function number(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new CliError(`${flag} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${text}"`, EXIT.usage);
  }
  return n;
}

/** `urlGiven`: --url was on the command line (CERTGATE_AUTHZ_URL only sets the default HTTP target). */
function targetSpec(o: LoadCliOptions, urlGiven: boolean): TargetSpec {
  const chosen = [urlGiven, o.grpc !== undefined, o.tlsUrl !== undefined].filter(Boolean).length;
  if (chosen > 1) throw new CliError('choose one target: --url, --grpc or --tls-url', EXIT.usage);
  if (o.grpc !== undefined) {
    if (!/^[^:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(o.grpc)) throw new CliError(`--grpc must be host:port, got "${o.grpc}"`, EXIT.usage);
    if (o.grpcShape !== 'http' && o.grpcShape !== 'network')
      throw new CliError(`--grpc-shape must be http or network, got "${o.grpcShape}"`, EXIT.usage);
    return { kind: 'grpc', address: o.grpc, shape: o.grpcShape as GrpcShape };
  }
  if (o.tlsUrl !== undefined) {
    if (!o.tlsUrl.startsWith('https://')) throw new CliError(`--tls-url must be an https:// URL, got "${o.tlsUrl}"`, EXIT.usage);
    let ca: string | undefined;
    if (o.tlsCa !== undefined) {
      try {
        ca = readFileSync(o.tlsCa, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read --tls-ca ${o.tlsCa}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT.usage);
      }
    }
    return { kind: 'tls', url: o.tlsUrl, ...(ca === undefined ? {} : { ca }), ...(o.dangerTlsInsecure ? { dangerInsecure: true } : {}) };
  }
  if (!(HTTP_DOORS as readonly string[]).includes(o.door))
    throw new CliError(`--door must be one of ${HTTP_DOORS.join(', ')}, got "${o.door}"`, EXIT.usage);
  const url = o.url ?? 'http://127.0.0.1:9441';
  if (!/^https?:\/\//.test(url)) throw new CliError(`--url must be an http(s) URL, got "${url}"`, EXIT.usage);
  return { kind: 'http', url, door: o.door as HttpDoor };
}

/** The run's options (everything but the target and fleet), for one or several generators. */
function loadOptions(o: LoadCliOptions): Omit<LoadOptions, 'target' | 'fleet' | 'onTick'> {
  if (o.profile !== 'steady' && o.profile !== 'storm')
    throw new CliError(`--profile must be steady or storm, got "${o.profile}"`, EXIT.usage);
  return {
    profile: o.profile as Profile,
    mix: {
      warm: number(o.warmShare, '--warm-share', 0, 1, false),
      cold: number(o.coldShare, '--cold-share', 0, 1, false),
      revoked: number(o.revokedShare, '--revoked-share', 0, 1, false),
    },
    warmDevices: number(o.warmDevices, '--warm-devices', 1),
    connections: number(o.connections, '--connections', 1, 100_000),
    ...(o.rate === undefined ? {} : { rate: number(o.rate, '--rate', 1, 10_000_000, false) }),
    durationMs: parseDuration(o.duration, '--duration'),
    ...(o.requests === undefined ? {} : { maxRequests: number(o.requests, '--requests', 1) }),
  };
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

function progressLine(stats: RunStats, elapsedMs: number, durationMs: number | undefined): string {
  const s = stats.summary(elapsedMs / 1000);
  const clock =
    durationMs === undefined ? `${(elapsedMs / 1000).toFixed(1)}s` : `${(elapsedMs / 1000).toFixed(1)}s/${(durationMs / 1000).toFixed(0)}s`;
  return `${clock}  ${Math.round(s.ratePerSecond).toLocaleString('en-US')} req/s  p50 ${ms(s.latencyUs.p50)}  p99 ${ms(s.latencyUs.p99)}  errors ${s.outcomes.error + s.outcomes.unavailable}  wrong ${s.wrong}`;
}

/** Run the generators (in-process for one, forked processes for more); merged statistics. */
async function generate(
  spec: TargetSpec,
  fleetDir: string,
  options: ReturnType<typeof loadOptions>,
  workers: number,
  timeoutMs: number,
  tick: (s: RunStats, elapsed: number) => void,
) {
  if (workers === 1) {
    const target = openTarget(spec, options.connections, timeoutMs);
    try {
      return await runLoad({ ...options, target, fleet: readFleet(fleetDir), onTick: tick });
    } finally {
      await target.close();
    }
  }
  const start = performance.now();
  const latest = new Map<number, FromWorker & { type: 'tick' | 'done' }>();
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'load', 'worker.js');
  const timer = setInterval(() => {
    const merged = new RunStats();
    for (const m of latest.values()) merged.add(m.stats);
    tick(merged, performance.now() - start);
  }, 1000);
  try {
    const results = await Promise.all(
      Array.from(
        { length: workers },
        (_, index) =>
          new Promise<{ stats: FromWorker & { type: 'done' } }>((resolve, reject) => {
            const child = fork(script, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
            const job: WorkerJob = {
              spec,
              fleetDir,
              timeoutMs,
              load: {
                ...options,
                connections: Math.max(1, Math.ceil(options.connections / workers)),
                ...(options.rate === undefined ? {} : { rate: options.rate / workers }),
                ...(options.maxRequests === undefined ? {} : { maxRequests: Math.ceil(options.maxRequests / workers) }),
                slice: { index, of: workers },
              },
            };
            child.on('message', (m: FromWorker) => {
              if (m.type === 'failed') reject(new CliError(`generator ${index}: ${m.message}`));
              else {
                latest.set(index, m);
                if (m.type === 'done') resolve({ stats: m });
              }
            });
            child.on('exit', (code) => {
              if (latest.get(index)?.type !== 'done') reject(new CliError(`generator ${index} exited (code ${code}) before finishing`));
            });
            child.send(job);
          }),
      ),
    );
    const stats = new RunStats();
    for (const r of results) stats.add(r.stats.stats);
    return { stats, seconds: Math.max(...results.map((r) => r.stats.seconds)) };
  } finally {
    clearInterval(timer);
  }
}

function printSummary(s: Summary, target: string): void {
  printTable(
    ['TARGET', 'REQUESTS', 'SECONDS', 'REQ/S', 'P50', 'P90', 'P99', 'P99.9', 'MAX', 'ALLOW', 'DENY', 'UNAVAILABLE', 'ERROR', 'WRONG'],
    [
      [
        target,
        s.requests,
        s.seconds.toFixed(1),
        Math.round(s.ratePerSecond),
        ms(s.latencyUs.p50),
        ms(s.latencyUs.p90),
        ms(s.latencyUs.p99),
        ms(s.latencyUs.p999),
        ms(s.latencyUs.max),
        s.outcomes.allow,
        s.outcomes.deny,
        s.outcomes.unavailable,
        s.outcomes.error,
        s.wrong,
      ],
    ],
  );
  process.stdout.write('\n');
  printTable(['REASON', 'ANSWERS'], Object.entries(s.reasons));
  for (const e of s.wrongExamples) process.stdout.write(`wrong answer: ${e}\n`);
}

/** One argument as a POSIX shell reads it back. */
function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The command as typed (for the report, so the run can be repeated). */
function commandLine(): string {
  return ['certgate', ...process.argv.slice(2)].map(shellQuote).join(' ');
}

export function register(program: Command): void {
  program
    .command('load')
    .description("load-test a deployment with a fleet's devices; every answer is checked against the registry")
    .requiredOption('--fleet <dir>', 'fleet directory (fleet.json + devices.ndjson)')
    .addOption(new Option('--url <url>', 'authorizer HTTP base URL (default http://127.0.0.1:9441)').env('CERTGATE_AUTHZ_URL'))
    .addOption(new Option('--door <door>', 'HTTP door at --url').choices([...HTTP_DOORS]).default('json'))
    .option('--grpc <host:port>', 'Envoy ext_authz gRPC Check at this address instead')
    .addOption(
      new Option('--grpc-shape <shape>', "CheckRequest shape: Envoy's HTTP filter or network (TCP) filter")
        .choices(['http', 'network'])
        .default('http'),
    )
    .option('--tls-url <url>', "GET this https URL through a TLS terminator with each device's certificate (one handshake per request)")
    .option('--tls-ca <file>', "CA certificate(s) of the terminator's server certificate")
    .option('--danger-tls-insecure', "do not verify the terminator's server certificate")
    .addOption(
      new Option('--profile <profile>', 'steady: the mix below for --duration; storm: every device once, as fast as possible')
        .choices(['steady', 'storm'])
        .default('steady'),
    )
    .option('--warm-share <ratio>', 'share of requests from the warm set (devices that reconnect)', '1')
    .option('--cold-share <ratio>', 'share of requests from devices never seen before (each used once)', '0')
    .option('--revoked-share <ratio>', 'share of requests from devices that must be denied', '0')
    .option('--warm-devices <n>', 'size of the warm set', '1000')
    .option('--connections <n>', 'closed loop: concurrent requests; open loop: cap on requests in flight', '32')
    .option('--rate <n>', 'open loop: requests per second on a fixed schedule (latency from the intended send time)')
    .option('--duration <time>', 'how long a steady run lasts (e.g. 30s, 2m)', '10s')
    .option('--requests <n>', 'stop after this many requests')
    .option('--workers <n>', 'generator processes (one Node process cannot saturate a multi-core server)', '1')
    .option('--timeout <time>', 'per-request timeout (an answer later than this is an error)', '5s')
    .option('--max-p99 <time>', 'exit 1 if the p99 latency exceeds this')
    .option('--max-error-rate <ratio>', 'exit 1 if (errors + unavailable + wrong answers) / requests exceeds this')
    .option('--json', 'print the summary as JSON')
    .option('--report <file.html>', 'also write a self-contained HTML report (charts inlined, no network) to this file')
    .addHelpText('after', EXAMPLES)
    .action(async (o: LoadCliOptions, command: Command) => {
      const spec = targetSpec(o, command.getOptionValueSource('url') === 'cli');
      const options = loadOptions(o);
      const workers = number(o.workers, '--workers', 1, 64);
      const timeoutMs = parseDuration(o.timeout, '--timeout');
      const maxP99Us = o.maxP99 === undefined ? undefined : parseDuration(o.maxP99, '--max-p99') * 1000;
      const maxErrorRate = o.maxErrorRate === undefined ? undefined : number(o.maxErrorRate, '--max-error-rate', 0, 1, false);
      if (o.report !== undefined) {
        // Refuse before the run, not after it: a long run must not end in an unwritable path.
        try {
          accessSync(path.dirname(path.resolve(o.report)), constants.W_OK);
        } catch (err) {
          throw new CliError(`cannot write --report ${o.report}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT.usage);
        }
      }
      try {
        readFleet(o.fleet);
      } catch (err) {
        if (err instanceof FleetError) throw new CliError(err.message, EXIT.usage);
        throw err;
      }
      const live = process.stderr.isTTY === true;
      const tick = (stats: RunStats, elapsed: number) => {
        if (live)
          process.stderr.write(`\r\u001b[2K${progressLine(stats, elapsed, options.profile === 'steady' ? options.durationMs : undefined)}`);
      };
      let result: { stats: RunStats; seconds: number };
      try {
        result = await generate(spec, o.fleet, options, workers, timeoutMs, tick);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(err instanceof Error ? err.message : String(err));
      }
      if (live) process.stderr.write('\r\u001b[2K');
      const summary = result.stats.summary(result.seconds);
      const targetName =
        spec.kind === 'http' ? `${spec.door} ${spec.url}` : spec.kind === 'grpc' ? `grpc-${spec.shape} ${spec.address}` : `tls ${spec.url}`;
      // A wrong answer (a revoked device allowed, an active one denied) always fails the run.
      const failures: string[] = summary.wrong === 0 ? [] : [`${summary.wrong} wrong answer(s): the authorizer contradicted the registry`];
      if (maxP99Us !== undefined && summary.latencyUs.p99 > maxP99Us)
        failures.push(`p99 ${ms(summary.latencyUs.p99)} > --max-p99 ${ms(maxP99Us)}`);
      if (maxErrorRate !== undefined && summary.errorRate > maxErrorRate)
        failures.push(`error rate ${summary.errorRate.toFixed(4)} > --max-error-rate ${maxErrorRate}`);
      const thresholds = { passed: failures.length === 0, failures };
      if (o.report !== undefined) {
        const page = renderReport({
          target: targetName,
          summary,
          finishedAt: new Date().toISOString(),
          command: commandLine(),
          thresholds,
        });
        try {
          writeFileSync(o.report, page);
        } catch (err) {
          throw new CliError(`cannot write --report ${o.report}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      }
      if (o.json) printJson({ target: targetName, ...summary, thresholds });
      else {
        printSummary(summary, targetName);
        for (const f of failures) process.stderr.write(`threshold exceeded: ${f}\n`);
      }
      process.exitCode = failures.length === 0 ? EXIT.ok : EXIT.negative;
    });
}
