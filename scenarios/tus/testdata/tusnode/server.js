// @tus/server with @tus/file-store, for the tests of the tus scenarios (scenarios/tus
// tusnode_test.go): `node server.js DIR [MAX_SIZE]` stores its uploads in DIR, listens on
// 127.0.0.1 at a free port, serves the creation URL /files/ and prints that URL alone on a
// line of stdout once it listens. It announces what FileStore implements (creation,
// creation-with-upload, creation-defer-length, termination, expiration: unfinished uploads
// expire an hour after their creation) and Tus-Max-Size MAX_SIZE (default 1 MiB). It exits
// when its stdin closes, so that a test that dies never leaves it running.
//
// GET /stored/ID answers the bytes FileStore holds for the upload ID, read from DIR: the
// harness's --file-url. @tus/server's own GET of an upload (no part of tus 1.0) is not used:
// on Node 20 it often ends the process after the answer (an uncaught ERR_INVALID_STATE,
// "ReadableStream is already closed", as its web stream of the file closes).

import fs from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const [dir, maxSizeArg = String(1 << 20)] = process.argv.slice(2);
const maxSize = Number.parseInt(maxSizeArg, 10);
if (!dir || !(maxSize > 0)) {
  process.stderr.write('usage: node server.js DIR [MAX_SIZE]\n');
  process.exit(2);
}

/** The tus server: uploads under /files/ in dir. */
const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory: dir, expirationPeriodInMilliseconds: 60 * 60 * 1000 }),
  maxSize,
});

/** storedPrefix is the path of the stored bytes: /stored/ID. */
const storedPrefix = '/stored/';

/**
 * Answers GET /stored/ID with the bytes stored for upload ID (404 for an ID that is not a
 * file name FileStore makes, or has no file).
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
async function serveStored(req, res) {
  const id = new URL(req.url, 'http://x').pathname.slice(storedPrefix.length);
  const file = path.join(dir, id);
  let size;
  try {
    if (!/^[0-9a-f]+$/.test(id)) throw new Error('not an upload ID');
    size = (await fs.promises.stat(file)).size;
  } catch {
    res.writeHead(404, { 'Content-Length': '0' }).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) });
  if (size === 0) {
    res.end();
    return;
  }
  await pipeline(fs.createReadStream(file, { end: size - 1 }), res).catch(() => res.destroy());
}

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith(storedPrefix)) {
    serveStored(req, res);
    return;
  }
  tus.handle(req, res);
});
http.listen({ host: '127.0.0.1', port: 0 }, () => {
  const { address, port } = http.address();
  process.stdout.write(`http://${address}:${port}/files/\n`);
});
http.on('error', (err) => {
  process.stderr.write(`tus server: ${err.message}\n`);
  process.exit(1);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
