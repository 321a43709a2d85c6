/**
 * `certgate cert inspect` and `certgate cert verify` on fixture files, through both
 * engines: JSON on stdout, exit 0 for a positive answer, 1 for a refusal, 2 for usage.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as certgate } from '../cli/inProcess.js';
import { projectRoot } from '../../ts/paths.js';
import { ENGINE_NAMES } from '../../ts/engine/types.js';

interface Case {
  name: string;
  call: { leaf: string; intermediates: string[]; anchors: string[] };
}

const cases = JSON.parse(readFileSync(path.join(projectRoot, 'test', 'fixtures', 'engine', 'cases.json'), 'utf8')) as Case[];
const dir = mkdtempSync(path.join(tmpdir(), 'certgate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, b64: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, Buffer.from(b64, 'base64'));
  return p;
}

const chain = cases.find((c) => c.name === 'leaf_with_intermediate_up_to_registered_root_is_accepted')?.call;
if (!chain) throw new Error('fixture missing');
const leaf = file('leaf.der', chain.leaf);
const intermediate = file('intermediate.der', chain.intermediates[0] ?? '');
const root = file('root.der', chain.anchors[0] ?? '');
// 2025-06-01, inside the fixtures' validity.
const AT = '2025-06-01T00:00:00Z';

describe.each(ENGINE_NAMES)('certgate cert inspect/verify with the %s engine', (engine) => {
  it('inspect prints the certificate as JSON and exits 0', async () => {
    const run = await certgate(['cert', 'inspect', root, '--engine', engine]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, subject: 'CN=certgate test root,O=certgate', basicConstraints: { ca: true } });
  });

  it('inspect of a non-certificate prints the refusal and exits 1', async () => {
    const junk = path.join(dir, `junk-${engine}.txt`);
    writeFileSync(junk, 'not a certificate');
    const run = await certgate(['cert', 'inspect', junk, '--engine', engine]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, code: 'NO_CERTIFICATE' });
  });

  it('verify of a chain up to the given CA prints ok and exits 0', async () => {
    const run = await certgate(['cert', 'verify', leaf, '--intermediate', intermediate, '--ca', root, '--at', AT, '--engine', engine]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, path: expect.any(Array) });
  });

  it('verify without the intermediate prints UNKNOWN_ISSUER and exits 1', async () => {
    const run = await certgate(['cert', 'verify', leaf, '--ca', root, '--at', AT, '--engine', engine]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, code: 'UNKNOWN_ISSUER' });
  });

  it('verify after the chain expired prints EXPIRED and exits 1', async () => {
    const run = await certgate([
      'cert',
      'verify',
      leaf,
      '--intermediate',
      intermediate,
      '--ca',
      root,
      '--at',
      '2031-01-01T00:00:00Z',
      '--engine',
      engine,
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, code: 'EXPIRED' });
  });

  it('verify with an unknown EKU policy is a usage error', async () => {
    const run = await certgate(['cert', 'verify', leaf, '--ca', root, '--eku', 'server', '--engine', engine]);
    expect(run.code).toBe(2);
  });
});
