/**
 * `run()` under V8's CPU profiler when `dir` is set, the profile written to
 * `<dir>/<name>.cpuprofile` (bench/profileSteps.ts reads it); plain `run()` otherwise.
 * For the in-process benches (authzDecision, fleetDecision, fleetSpread).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/** `intervalUs`: the sampling interval (V8's default is 1,000 µs; a warm decision is a few µs). */
export async function profiled<T>(dir: string | undefined, name: string, run: () => Promise<T>, intervalUs?: number): Promise<T> {
  if (dir === undefined) return run();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  if (intervalUs !== undefined) await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  const result = await run();
  const { profile } = await session.post('Profiler.stop');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  session.disconnect();
  return result;
}
