/**
 * `GET /v1/changes?after=CURSOR` on the admin port: the account's certificate status
 * changes as server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html),
 * read from the registry's ordered change log (written in the same transaction as each
 * registry write, see the schema). SigV4-authenticated like every admin call; a caller
 * sees only its own account. Resumable: each event's `id` is its sequence, and a client
 * reconnects with `?after=<last id>` or the `Last-Event-ID` header and misses nothing.
 *
 * For a broker-side integration that disconnects revoked devices: certgate decides at
 * connect and cannot close sessions itself (docs/authorizer.md "Live sessions").
 */
import type http from 'node:http';
import type { Registry } from '../registry/types.js';
import { invalid } from './errors.js';

/** The path, also in docs/api.md. */
export const CHANGES_PATH = '/v1/changes';

/**
 * How often an open feed asks the change log for new entries (ms). 20 ms keeps a
 * revocation's event within the 100 ms the feed promises even with a slow query; each
 * poll is one indexed range read.
 */
export const CHANGE_FEED_POLL_MS = 20;
/** Entries read per poll (a client that is far behind catches up in batches). */
export const CHANGE_FEED_BATCH = 500;
/** A comment line this often keeps proxies from closing an idle feed (ms). */
export const CHANGE_FEED_HEARTBEAT_MS = 15_000;

/** The cursor: `after` in the query, else `Last-Event-ID`, else 0 (from the start). */
export function changeCursor(query: URLSearchParams, headers: http.IncomingHttpHeaders): number {
  const raw = query.get('after') ?? (typeof headers['last-event-id'] === 'string' ? headers['last-event-id'] : null) ?? '0';
  if (!/^\d{1,15}$/.test(raw))
    throw invalid(`after must be a change sequence number (0 or more), not ${JSON.stringify(raw.slice(0, 40))}.`);
  return Number(raw);
}

/** Stream changes of `accountId` after `cursor` until the client goes away. */
export async function streamChanges(
  registry: Registry,
  accountId: string,
  cursor: number,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const state = { open: true };
  let after = cursor;
  let lastWrite = Date.now();
  const closed = new Promise<void>((resolve) => {
    req.once('close', () => {
      state.open = false;
      resolve();
    });
  });
  while (state.open) {
    let changes;
    try {
      changes = await registry.listChanges(accountId, after, CHANGE_FEED_BATCH);
    } catch (err) {
      // Headers are sent: say why in the stream and end it; the client resumes from its last id.
      res.end(
        `event: error\ndata: ${JSON.stringify({ message: `the change log could not be read: ${err instanceof Error ? err.message : String(err)}` })}\n\n`,
      );
      return;
    }
    for (const c of changes) {
      const data = JSON.stringify({
        sequence: c.sequence,
        accountId: c.accountId,
        kind: c.kind,
        resourceId: c.resourceId,
        status: c.status,
        time: c.time,
      });
      res.write(`id: ${c.sequence}\nevent: change\ndata: ${data}\n\n`);
      after = c.sequence;
      lastWrite = Date.now();
    }
    if (changes.length === CHANGE_FEED_BATCH) continue;
    if (Date.now() - lastWrite >= CHANGE_FEED_HEARTBEAT_MS) {
      res.write(': keep-alive\n\n');
      lastWrite = Date.now();
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, CHANGE_FEED_POLL_MS))]);
  }
  res.end();
}
