/**
 * Checks an Envoy bootstrap (JSON, as shipped in examples/envoy) field by field against
 * Envoy's real protos (the API bundled in `@grpc/grpc-js-xds`): every key must be a field
 * of its message, every enum value a value of its enum, every `typed_config` resolved by
 * its `@type`. A typo such as `status_on_eror` or `ServiceUnavilable` fails here, where
 * Envoy would refuse the file at start-up. Fields newer than the bundled API are accepted
 * only when listed in `newer` (message → field → JSON type), so each one is named.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The whole Envoy API (bootstrap and every extension), as bundled in `@grpc/grpc-js-xds`
 * (a devDependency: the server needs only the ext_authz protos vendored in `protos/`).
 */
function envoyIncludeDirs(): string[] {
  const root = path.dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json'));
  return ['deps/envoy-api', 'deps/xds', 'deps/googleapis', 'deps/protoc-gen-validate'].map((d) => path.join(root, d));
}

interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType?: MessageDescriptor[];
  enumType?: (EnumDescriptor & { name: string })[];
  options?: { mapEntry?: boolean; map_entry?: boolean } | null;
}
interface EnumDescriptor {
  value: { name: string }[];
}

/** The proto files of every extension the examples use. */
const FILES = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/network/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/lua/v3/lua.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
];

/** JSON forms of the well-known types (proto3 JSON mapping). */
const WELL_KNOWN: Record<string, (v: unknown) => boolean> = {
  'google.protobuf.Duration': (v) => typeof v === 'string' && /^\d+(\.\d+)?s$/.test(v),
  'google.protobuf.UInt32Value': (v) => Number.isInteger(v) && (v as number) >= 0,
  'google.protobuf.UInt64Value': (v) => Number.isInteger(v) && (v as number) >= 0,
  'google.protobuf.BoolValue': (v) => typeof v === 'boolean',
  'google.protobuf.DoubleValue': (v) => typeof v === 'number',
  'google.protobuf.StringValue': (v) => typeof v === 'string',
  'google.protobuf.Struct': (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'google.protobuf.Empty': (v) => typeof v === 'object' && v !== null && Object.keys(v).length === 0,
};

export type NewerFields = Record<string, Record<string, 'boolean' | 'string' | 'number'>>;

type Definition = { type: MessageDescriptor } | { type: EnumDescriptor };
let loaded: Record<string, Definition> | undefined;

/** Every message and enum by full name, nested ones included (proto-loader lists only top-level ones). */
function definitions(): Record<string, Definition> {
  if (loaded !== undefined) return loaded;
  const index: Record<string, Definition> = {};
  const addMessage = (fullName: string, m: MessageDescriptor) => {
    index[fullName] = { type: m };
    for (const n of m.nestedType ?? []) addMessage(`${fullName}.${n.name}`, n);
    for (const e of m.enumType ?? []) index[`${fullName}.${e.name}`] = { type: e };
  };
  const defs = protoLoader.loadSync(FILES, { keepCase: true, includeDirs: envoyIncludeDirs() });
  for (const [name, d] of Object.entries(defs)) {
    const t = (d as { type?: MessageDescriptor | EnumDescriptor }).type;
    if (t === undefined) continue;
    if ('field' in t) addMessage(name, t);
    else index[name] = { type: t };
  }
  loaded = index;
  return index;
}

/** Resolve a (possibly relative) type name from inside message `scope`, as protoc does. */
function resolve(scope: string, name: string): string {
  const defs = definitions();
  if (name.startsWith('.')) return name.slice(1);
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), name].join('.');
    if (candidate in defs) return candidate;
  }
  throw new Error(`type ${name} not found from ${scope}`);
}

/** Every problem found in `value` read as message `type` (empty = valid). */
export function checkMessage(value: unknown, type: string, newer: NewerFields = {}, where = '$'): string[] {
  const defs = definitions();
  const wk = WELL_KNOWN[type];
  if (wk !== undefined) return wk(value) ? [] : [`${where}: not a ${type}`];
  if (type === 'google.protobuf.Any') {
    const url = (value as { '@type'?: unknown })['@type'];
    if (typeof url !== 'string') return [`${where}: Any without @type`];
    const inner = url.slice(url.lastIndexOf('/') + 1);
    if (!(inner in defs)) return [`${where}: unknown @type ${url}`];
    const { '@type': _, ...rest } = value as Record<string, unknown>;
    return checkMessage(rest, inner, newer, where);
  }
  const def = defs[type] as { type?: MessageDescriptor } | undefined;
  if (def?.type?.field === undefined) return [`${where}: ${type} is not a message`];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${where}: ${type} must be an object`];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const field = def.type.field.find((f) => f.name === key);
    const at = `${where}.${key}`;
    if (field === undefined) {
      const extra = newer[type]?.[key];
      if (extra === undefined) problems.push(`${at}: ${type} has no field ${key}`);
      else if (typeof v !== extra) problems.push(`${at}: must be a ${extra}`);
      continue;
    }
    problems.push(...checkField(field, v, type, newer, at));
  }
  return problems;
}

function checkField(field: FieldDescriptor, v: unknown, scope: string, newer: NewerFields, at: string): string[] {
  const defs = definitions();
  if (field.label === 'LABEL_REPEATED') {
    if (field.type === 'TYPE_MESSAGE') {
      const entry = resolve(scope, field.typeName);
      const d = (defs[entry] as { type: MessageDescriptor }).type;
      if (d.options?.mapEntry === true || d.options?.map_entry === true) {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${at}: map must be an object`];
        const valueField = d.field.find((f) => f.name === 'value');
        if (valueField === undefined) return [`${at}: map without value`];
        return Object.entries(v).flatMap(([k, x]) => checkField(valueField, x, entry, newer, `${at}.${k}`));
      }
    }
    if (!Array.isArray(v)) return [`${at}: must be a list`];
    return v.flatMap((x, i) => checkField({ ...field, label: 'LABEL_OPTIONAL' }, x, scope, newer, `${at}[${i}]`));
  }
  switch (field.type) {
    case 'TYPE_MESSAGE':
      return checkMessage(v, resolve(scope, field.typeName), newer, at);
    case 'TYPE_ENUM': {
      const e = (defs[resolve(scope, field.typeName)] as { type: EnumDescriptor }).type;
      return e.value.some((x) => x.name === v) ? [] : [`${at}: ${String(v)} is not a value of ${field.typeName}`];
    }
    case 'TYPE_BOOL':
      return typeof v === 'boolean' ? [] : [`${at}: must be a boolean`];
    case 'TYPE_STRING':
    case 'TYPE_BYTES':
      return typeof v === 'string' ? [] : [`${at}: must be a string`];
    default:
      return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? [] : [`${at}: must be a number`];
  }
}
