// piscina worker of bench/poolBatch.ts (plain JavaScript: piscina loads workers without
// a TypeScript loader). One task verifies a list of leaves against one CA with the built
// native engine (dist/, build/) and answers how many verified.
import { loadEngine } from '../dist/engine/load.js';

const engine = loadEngine('native');

export default function verifyMany({ leaves, ca, at }) {
  let ok = 0;
  for (const leaf of leaves) if (engine.verifyChain(leaf, [], [ca], at, 'client').ok) ok++;
  return ok;
}
