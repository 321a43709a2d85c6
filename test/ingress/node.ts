/**
 * Starts a real serving node (in-process, ports 0) over a test world's SQLite file.
 */
import pino from 'pino';
import { parseServeConfig, type ServeConfig } from '../../ts/server/config.js';
import { startNode, type RunningNode } from '../../ts/server/node.js';
import type { World } from '../authz/world.js';

export function testConfig(world: World, overrides: Record<string, unknown> = {}): ServeConfig {
  return parseServeConfig({
    db: world.dbPath,
    host: '127.0.0.1',
    adminPort: '0',
    authzPort: '0',
    grpcPort: '0',
    processes: '1',
    poolThreads: '0',
    decisionLogSample: '0',
    logLevel: 'silent',
    ...overrides,
  });
}

export async function testNode(world: World, overrides: Record<string, unknown> = {}): Promise<RunningNode> {
  const config = testConfig(world, overrides);
  return startNode(config, pino({ level: 'silent' }));
}
