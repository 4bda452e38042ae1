// A small in-process server of the resumable-upload protocol for the library's tests: it keeps
// sessions in memory, answers 201 with the range list (either form), completes with 200
// `completed`, and lets a test script faults per request. It records every request.

import http from 'node:http';

/** @typedef {{start: number, end: number}} ByteRange */

function merge(list) {
  const sorted = list.map((r) => ({ ...r })).sort((a, b) => a.start - b.start);
  const out = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push(r);
  }
  return out;
}

function overlaps(a, b) {
  return a.start <= b.end && b.start <= a.end;
}

/**
 * Starts the fake on 127.0.0.1 at a free port.
 * @param {{form?: 'module'|'compact', rangeInHeader?: boolean}} [opts]
 */
export async function startFake(opts = {}) {
  const fake = {
    /** @type {Map<string, {total: number, ranges: ByteRange[], data: Buffer, completed: boolean}>} */
    sessions: new Map(),
    /** Every request: {session, range, status, inFlightOverlap, disposition, bytes}. */
    log: [],
    /** Completed files by name. */
    files: new Map(),
    /**
     * Called for every segment before it is handled; may return a fault:
     * {status, body, headers} to answer instead; {reset: true} to destroy the connection before
     * reading the body; {resetAfterCommit: true} to store the segment and then destroy the
     * connection; {hold: Promise} to wait before answering.
     * @type {(req: {session: string, range: ByteRange, n: number}) => any}
     */
    fault: () => undefined,
    inFlight: [],
    url: '',
  };
  let n = 0;
  const server = http.createServer(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['x-content-range'] ?? req.headers['content-range'] ?? '');
    const session = req.headers['session-id'] ?? req.headers['x-session-id'];
    const disposition = req.headers['content-disposition'];
    if (!m || !session || !disposition) {
      res.writeHead(400).end('bad headers');
      return;
    }
    const range = { start: Number(m[1]), end: Number(m[2]) };
    const total = Number(m[3]);
    const entry = { session, range, total, status: 0, inFlightOverlap: false, disposition, bytes: 0, n: n++ };
    entry.inFlightOverlap = fake.inFlight.some((f) => f.session === session && overlaps(f.range, range));
    fake.log.push(entry);
    fake.inFlight.push(entry);
    const done = () => {
      fake.inFlight = fake.inFlight.filter((f) => f !== entry);
    };
    try {
      const f = fake.fault({ session, range, n: entry.n, total }) ?? {};
      if (f.hold) await f.hold;
      if (f.reset) {
        entry.status = -1;
        req.socket.destroy();
        return;
      }
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = Buffer.concat(chunks);
      entry.bytes = body.length;
      if (f.status) {
        entry.status = f.status;
        res.writeHead(f.status, f.headers ?? {}).end(f.body ?? '');
        return;
      }
      if (body.length !== range.end - range.start + 1) {
        entry.status = 416;
        res.writeHead(416).end('length');
        return;
      }
      let s = fake.sessions.get(session);
      if (!s || s.completed) {
        s = { total, ranges: [], data: Buffer.alloc(total), completed: false };
        fake.sessions.set(session, s);
      }
      if (s.total !== total) {
        entry.status = 409;
        res.writeHead(409).end('total differs');
        return;
      }
      body.copy(s.data, range.start);
      s.ranges = merge([...s.ranges, range]);
      if (f.resetAfterCommit) {
        entry.status = -1;
        req.socket.destroy();
        return;
      }
      if (s.ranges.length === 1 && s.ranges[0].start === 0 && s.ranges[0].end === total - 1) {
        s.completed = true;
        const name = /filename="([^"]*)"/.exec(disposition)?.[1] ?? '';
        fake.files.set(name, s.data);
        entry.status = 200;
        res.writeHead(200).end('completed');
        return;
      }
      const list =
        opts.form === 'compact'
          ? s.ranges.map((r) => `${r.start}-${r.end}`).join(',') + `/${total}`
          : s.ranges.map((r) => `${r.start}-${r.end}/${total}`).join(',');
      entry.status = 201;
      const headers = opts.rangeInHeader === false ? {} : { Range: list };
      res.writeHead(201, headers).end(list);
    } finally {
      done();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${server.address().port}/upload`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  /** Forgets every session, as a server restarted without its state would. */
  fake.forget = () => fake.sessions.clear();
  return fake;
}

/**
 * A file of `size` bytes with a deterministic pattern (byte i is (i*7 + seed) mod 251).
 * @returns {File}
 */
export function patternFile(name, size, seed = 0, lastModified = 1700000000000) {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + seed) % 251;
  return new File([b], name, { lastModified, type: 'application/octet-stream' });
}
