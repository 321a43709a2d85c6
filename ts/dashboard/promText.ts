/**
 * Samples of a Prometheus text exposition (version 0.0.4), as the dashboard needs them.
 *
 * Written by hand, deliberately small: the one npm candidate (parse-prometheus-text-format)
 * has had no release since 2020 and ships no types, and what is read here is only
 * certgate's own prom-client output (aggregated or not), never a third party's. Comments
 * (`# HELP`, `# TYPE`) are skipped; label values are unescaped (`\\`, `\"`, `\n`) per
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details ;
 * a line that does not parse is an error naming it, never a silent zero.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

export function parsePromText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line));
  }
  return samples;
}

function parseLine(line: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      if (line[i] === ',') i++;
      if (line[i] === '}') break;
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*="/.exec(line.slice(i));
      if (label === null) throw new Error(`bad label in Prometheus sample line: ${JSON.stringify(line)}`);
      const key = label[0].slice(0, -2);
      i += label[0].length;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`unterminated label value in Prometheus sample line: ${JSON.stringify(line)}`);
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          value += e === 'n' ? '\n' : (e ?? '');
        } else value += c;
      }
      labels[key] = value;
    }
    i++;
  }
  // Value, then an optional timestamp (prom-client writes none).
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? '');
  if (Number.isNaN(value) && rest[0]?.toLowerCase() !== 'nan')
    throw new Error(`bad value in Prometheus sample line: ${JSON.stringify(line)}`);
  return { name, labels, value };
}

/**
 * Go's strconv.ParseFloat, which Prometheus parses values with, takes NaN and Inf in any
 * case; prom-client writes a NaN gauge (an event-loop lag not yet measured) as `Nan`.
 */
function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (text === '') return NaN;
  return Number(text);
}
