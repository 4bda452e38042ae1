// A small in-process tus 1.0.0 server for the library's tests: uploads in memory, OPTIONS,
// POST (creation), HEAD and PATCH of the core protocol, and a fault hook per request. It
// records every request.

import http from 'node:http';

/**
 * Starts the fake on 127.0.0.1 at a free port.
 * @returns {Promise<object>} the fake: uploads, log, fault, url (the creation URL), close().
 */
export async function startTusFake() {
  const fake = {
    /** @type {Map<string, {length: number, offset: number, data: Buffer, metadata: string}>} */
    uploads: new Map(),
    /** Every request: {method, id, offset, bytes, status, tusResumable}. */
    log: [],
    /**
     * Called for every request before it is handled; may return a fault: {status, headers} to
     * answer instead; {cutAfter: n} to store the first n bytes of a PATCH, then destroy the
     * connection; {offset: n} to answer a PATCH with this Upload-Offset, storing nothing.
     * @type {(req: {method: string, id: string, offset: number, n: number}) => any}
     */
    fault: () => undefined,
    url: '',
  };
  let n = 0;
  let next = 0;
  const server = http.createServer(async (req, res) => {
    const id = req.url.startsWith('/files/') ? req.url.slice('/files/'.length) : '';
    const offset = Number(req.headers['upload-offset'] ?? -1);
    const entry = { method: req.method, id, offset, bytes: 0, status: 0, tusResumable: req.headers['tus-resumable'] };
    fake.log.push(entry);
    const answer = (status, headers = {}) => {
      entry.status = status;
      res.writeHead(status, { 'Tus-Resumable': '1.0.0', ...headers }).end();
    };
    const f = fake.fault({ method: req.method, id, offset, n: n++ });
    if (f?.status) {
      req.resume();
      answer(f.status, f.headers);
      return;
    }
    if (req.method === 'OPTIONS') {
      answer(204, { 'Tus-Version': '1.0.0', 'Tus-Extension': 'creation' });
      return;
    }
    if (req.headers['tus-resumable'] !== '1.0.0') {
      answer(412, { 'Tus-Version': '1.0.0' });
      return;
    }
    if (req.method === 'POST' && id === '') {
      const length = Number(req.headers['upload-length']);
      const key = `u${next++}`;
      fake.uploads.set(key, { length, offset: 0, data: Buffer.alloc(length), metadata: req.headers['upload-metadata'] ?? '' });
      answer(201, { Location: `/files/${key}` });
      return;
    }
    const up = fake.uploads.get(id);
    if (!up) {
      req.resume();
      answer(404);
      return;
    }
    if (req.method === 'HEAD') {
      answer(200, { 'Upload-Offset': String(up.offset), 'Upload-Length': String(up.length), 'Cache-Control': 'no-store' });
      return;
    }
    if (req.method !== 'PATCH') {
      answer(405);
      return;
    }
    if (req.headers['content-type'] !== 'application/offset+octet-stream') {
      req.resume();
      answer(415);
      return;
    }
    if (offset !== up.offset) {
      req.resume();
      answer(409);
      return;
    }
    let got = 0;
    try {
      for await (const chunk of req) {
        let c = chunk;
        if (f?.cutAfter !== undefined && got + c.length >= f.cutAfter) c = c.subarray(0, f.cutAfter - got);
        if (f?.offset === undefined) c.copy(up.data, up.offset + got);
        got += c.length;
        if (f?.cutAfter !== undefined && got >= f.cutAfter) {
          up.offset += got;
          entry.bytes = got;
          entry.status = -1;
          req.socket.destroy();
          return;
        }
      }
    } catch {
      return;
    }
    entry.bytes = got;
    if (f?.offset !== undefined) {
      answer(204, { 'Upload-Offset': String(f.offset) });
      return;
    }
    up.offset += got;
    answer(204, { 'Upload-Offset': String(up.offset) });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${server.address().port}/files/`;
  fake.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  /** The stored bytes of the only (or the last) upload. */
  fake.stored = () => {
    const last = [...fake.uploads.values()].at(-1);
    return last ? last.data.subarray(0, last.offset) : Buffer.alloc(0);
  };
  return fake;
}
