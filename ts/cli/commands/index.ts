/**
 * Every command module, in the order `certgate --help` lists them. Each module exports
 * `register(program)`, adding its commands to the program; groups such as `cert` are
 * shared through `group()` from `../group.js`. Add one import and one array entry per module.
 */
import type { Command } from 'commander';
import { register as serve } from './serve.js';
import { register as account } from './account.js';
import { register as keys } from './keys.js';
import { register as audit } from './audit.js';
import { register as ca } from './ca.js';
import { register as cert } from './cert.js';
import { register as authorize } from './authorize.js';
import { register as certInspect } from './cert-inspect.js';
import { register as certVerify } from './cert-verify.js';
import { register as load } from './load.js';
import { register as fleet } from './fleet.js';
import { register as registry } from './registry.js';
import { register as issuingCa } from './issuing-ca.js';
import { register as caCrl } from './ca-crl.js';

type Registrar = (program: Command) => void;

const modules: Registrar[] = [
  serve,
  account,
  keys,
  audit,
  ca,
  cert,
  authorize,
  certInspect,
  certVerify,
  fleet,
  load,
  registry,
  issuingCa,
  caCrl,
];

/** Add every command to `program`. */
export function registerCommands(program: Command): void {
  for (const register of modules) register(program);
}
