import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINE_ERROR_CODES } from '../../ts/engine/errors.js';
import { loadEngine } from '../../ts/engine/load.js';
import { projectRoot } from '../../ts/paths.js';
import { ENGINE_NAMES } from '../../ts/engine/types.js';

function documentedCodes(): string[] {
  const doc = readFileSync(path.join(projectRoot, 'docs', 'errors.md'), 'utf8');
  const section = doc.split('## Engine error codes')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1] ?? '');
}

describe.each(ENGINE_NAMES)('the %s engine error codes', (name) => {
  it('are the TS union, in order', () => {
    expect(loadEngine(name).errorCodes()).toEqual([...ENGINE_ERROR_CODES]);
  });
});

describe('docs/errors.md', () => {
  it('lists exactly the engine error codes, in order', () => {
    expect(documentedCodes()).toEqual([...ENGINE_ERROR_CODES]);
  });
});
