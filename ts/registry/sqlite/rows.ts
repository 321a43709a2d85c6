/** The row mapping moved to ../rows.ts (shared by every backend); re-exported for reads.ts. */
export * from '../rows.js';
