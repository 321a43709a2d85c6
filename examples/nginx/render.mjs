#!/usr/bin/env node
// Copy the NGINX example into a directory with your addresses filled in:
//
//   CERTGATE_AUTHZ=10.0.0.5:9441 BROKER=127.0.0.1:1883 node examples/nginx/render.mjs /etc/certgate/nginx
//
// Every line marked `# render: NAME` has its default value replaced by the environment
// variable NAME when it is set; everything else is copied unchanged (with no variable
// set the copy is byte-identical). The directory also gets the logs/, temp/ and tls/
// folders NGINX writes to or reads from. Then:
//   nginx -p DIR -c DIR/nginx.conf -e DIR/logs/error.log
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The names, the default each marked line holds, and what a value looks like. */
export const DEFAULTS = {
  CERTGATE_AUTHZ: '127.0.0.1:9441', // certgate's authorizer HTTP port (auth_request and the JSON door)
  APP: '127.0.0.1:8080', // the protected HTTP application
  HTTPS_LISTEN: '8443', // where HTTPS devices connect
  MQTT_LISTEN: '8883', // where MQTT devices connect
  BROKER: '127.0.0.1:1883', // the MQTT broker (plain TCP, on a private network or loopback)
  TLS_CERT: 'tls/server.pem', // the server certificate chain devices see
  TLS_KEY: 'tls/server.key', // its private key
  AUTHZ_TIMEOUT: '500ms', // how long certgate_mqtt.js waits for certgate before refusing the device
  MAX_SESSION_SECONDS: '3600', // MQTT sessions are closed after this long (0 = never); the device reconnects and is authorized again
};

const FILES = ['nginx.conf', 'certgate-http.conf', 'certgate-mqtt.conf'];
const COPIED = ['certgate_mqtt.js'];
const here = path.dirname(fileURLToPath(import.meta.url));

/** The text of `file` with every marked default replaced from `values`. */
export function render(text, values) {
  return text
    .split('\n')
    .map((line) => {
      const m = line.match(/# render: ([A-Z_]+)\s*$/);
      if (m === null) return line;
      const name = m[1];
      if (!(name in DEFAULTS)) throw new Error(`unknown render name ${name}`);
      const value = values[name];
      if (value === undefined) return line;
      if (!line.includes(DEFAULTS[name])) throw new Error(`line marked ${name} lacks its default ${DEFAULTS[name]}`);
      return line.replace(DEFAULTS[name], value);
    })
    .join('\n');
}

function main(argv) {
  const out = argv[0];
  if (out === undefined || out === '--help' || out === '-h' || argv.length > 1) {
    process.stderr.write(
      'usage: [NAME=value ...] node examples/nginx/render.mjs OUTDIR\n\nNames and defaults:\n' +
        Object.entries(DEFAULTS)
          .map(([k, v]) => `  ${k.padEnd(20)} ${v}\n`)
          .join('') +
        '\nexample: CERTGATE_AUTHZ=10.0.0.5:9441 MQTT_LISTEN=0.0.0.0:8883 node examples/nginx/render.mjs /etc/certgate/nginx\n',
    );
    process.exit(out === '--help' || out === '-h' ? 0 : 2);
  }
  const values = {};
  for (const name of Object.keys(DEFAULTS)) {
    const value = process.env[name];
    if (value === undefined || value === '') continue;
    // A value is spliced into an NGINX directive: refuse anything that could end it.
    if (!/^[A-Za-z0-9_.:/[\]-]+$/.test(value)) {
      process.stderr.write(`render: ${name}=${JSON.stringify(value)} may only hold letters, digits and . : / [ ] _ -\n`);
      process.exit(2);
    }
    values[name] = value;
  }
  for (const dir of ['logs', 'temp', 'tls']) mkdirSync(path.join(out, dir), { recursive: true });
  for (const file of FILES) writeFileSync(path.join(out, file), render(readFileSync(path.join(here, file), 'utf8'), values));
  for (const file of COPIED) copyFileSync(path.join(here, file), path.join(out, file));
  process.stdout.write(`rendered ${[...FILES, ...COPIED].join(', ')} into ${out}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
