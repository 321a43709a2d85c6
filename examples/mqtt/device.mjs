#!/usr/bin/env node
// A device for trying certgate with MQTT: connects over TLS with its own certificate and
// key, the account endpoint as SNI, subscribes to a topic, publishes to it and prints
// what came back. Needs the `mqtt` npm package (a devDependency of certgate).
//
//   node examples/mqtt/device.mjs --host 127.0.0.1 --port 8883 --sni "$SNI" \
//     --cert device/ID.cert.pem --key device/ID.private.key --ca server.pem --client-id thermostat-1
//
// Exit codes: 0 connected and got its message back, 1 refused at connect, 2 usage.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';

let values;
try {
  ({ values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8883' },
      sni: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      'client-id': { type: 'string' },
      topic: { type: 'string', default: 'devices/hello' },
      'protocol-version': { type: 'string', default: '4' },
    },
  }));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
for (const required of ['sni', 'cert', 'key', 'ca', 'client-id']) {
  if (values[required] === undefined) {
    process.stderr.write(`--${required} is required\n`);
    process.exit(2);
  }
}

const client = mqtt.connect({
  protocol: 'mqtts',
  host: values.host,
  port: Number(values.port),
  servername: values.sni,
  ca: readFileSync(values.ca),
  cert: readFileSync(values.cert),
  key: readFileSync(values.key),
  clientId: values['client-id'],
  protocolVersion: Number(values['protocol-version']),
  reconnectPeriod: 0,
  connectTimeout: 10_000,
});
const refused = (why) => {
  process.stdout.write(`refused: ${why}\n`);
  client.end(true);
  process.exit(1);
};
client.once('error', (err) => refused(err.message));
client.once('close', () => refused('the connection was closed before CONNACK'));
client.once('connect', async () => {
  client.removeAllListeners('close');
  process.stdout.write(`connected as ${values['client-id']}\n`);
  client.on('message', async (topic, payload) => {
    process.stdout.write(`received on ${topic}: ${payload.toString()}\n`);
    await client.endAsync();
    process.exit(0);
  });
  await client.subscribeAsync(values.topic, { qos: 1 });
  await client.publishAsync(values.topic, `hello from ${values['client-id']}`, { qos: 1 });
});
