import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import { fileUploader, UploadError } from '../js/upspec-uploader.js';
import { startFake, patternFile } from './fake-server.js';
import { startTusFake } from './fake-tus-server.js';

const fast = { retryDelay: 1, maxRetryDelay: 5 };

/** A UrlStorage in memory, shared by the uploaders of one test. */
function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k), m };
}

async function bytesOf(file) {
  return Buffer.from(await file.arrayBuffer());
}

function patches(log) {
  return log.filter((e) => e.method === 'PATCH');
}

describe('tus', () => {
  let fake;
  let urls;
  beforeEach(async () => {
    fake = await startTusFake();
    urls = memoryStorage();
  });
  afterEach(() => fake.close());
  const tus = (extra = {}) => ({ ...fast, protocol: 'tus', endpoint: fake.url, urlStorage: urls, ...extra });

  test('creates the upload and PATCHes it segment by segment at the server offset', async () => {
    const file = patternFile('a ü.bin', 1000, 3);
    const seen = [];
    const st = await fileUploader(file, 300, 's1', tus({ onProgress: (p) => seen.push(p.acknowledged) })).upload();
    assert.equal(st.completed, true);
    assert.equal(st.acknowledged, 1000);
    assert.deepEqual(fake.stored(), await bytesOf(file));
    assert.deepEqual(fake.log.map((e) => e.method), ['POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
    assert.deepEqual(patches(fake.log).map((e) => [e.offset, e.bytes]), [[0, 300], [300, 300], [600, 300], [900, 100]]);
    assert.ok(fake.log.every((e) => e.tusResumable === '1.0.0'), 'every request carries Tus-Resumable');
    const up = [...fake.uploads.values()][0];
    assert.equal(up.length, 1000);
    assert.equal(up.metadata, `filename ${Buffer.from('a ü.bin').toString('base64')},filetype ${Buffer.from('application/octet-stream').toString('base64')}`);
    assert.deepEqual(seen.at(-1), 1000);
  });

  test("'auto' asks OPTIONS and speaks tus to a tus server", async () => {
    const up = fileUploader(patternFile('b.bin', 10), 4, 's2', tus({ protocol: 'auto' }));
    assert.equal(up.protocol, undefined);
    const st = await up.upload();
    assert.equal(st.completed, true);
    assert.equal(up.protocol, 'tus');
    assert.equal(fake.log[0].method, 'OPTIONS');
    assert.equal(fake.log[0].tusResumable, undefined, 'OPTIONS carries no Tus-Resumable');
  });

  test("'auto' speaks the nginx protocol to a server without Tus-Version", async () => {
    const nginx = await startFake();
    try {
      const up = fileUploader(patternFile('c.bin', 10), 4, 's3', { ...fast, protocol: 'auto', endpoint: nginx.url });
      const st = await up.upload();
      assert.equal(up.protocol, 'nginx');
      assert.equal(st.completed, true);
      assert.equal(st.body, 'completed');
    } finally {
      await nginx.close();
    }
  });

  test('a new uploader of the same session resumes from the HEAD offset', async () => {
    const file = patternFile('d.bin', 900, 4);
    const ctl = new AbortController();
    await assert.rejects(
      fileUploader(file, 300, 's4', tus({ signal: ctl.signal, onProgress: (p) => p.acknowledged >= 600 && ctl.abort(new Error('stop')) })).upload(),
      /stop/,
    );
    const before = fake.log.length;
    const up = fileUploader(file, 300, 's4', tus());
    const status = await up.fetchStatus();
    assert.equal(status.acknowledged, 600);
    assert.deepEqual(status.ranges, [{ start: 0, end: 599 }]);
    assert.equal((await up.uploadSegments(status)).completed, true);
    assert.deepEqual(fake.log.slice(before).map((e) => `${e.method} ${e.offset}`), ['HEAD -1', 'HEAD -1', 'PATCH 600']);
    assert.deepEqual(fake.stored(), await bytesOf(file));
    assert.equal(fake.uploads.size, 1);
  });

  test('fetchStatus without a remembered upload sends nothing', async () => {
    const st = await fileUploader(patternFile('e.bin', 5), 4, 's5', tus()).fetchStatus();
    assert.equal(st.acknowledged, 0);
    assert.equal(st.completed, false);
    assert.equal(fake.log.length, 0);
  });

  test('an interrupted PATCH resumes where the server stopped storing', async () => {
    const file = patternFile('f.bin', 1000, 5);
    fake.fault = (r) => (r.method === 'PATCH' && r.offset === 500 && !fake.cut ? ((fake.cut = true), { cutAfter: 123 }) : undefined);
    const st = await fileUploader(file, 500, 's6', tus()).upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.stored(), await bytesOf(file));
    assert.deepEqual(patches(fake.log).map((e) => e.offset), [0, 500, 623]);
  });

  test('409 and 503 are followed by a HEAD and the rest', async () => {
    const file = patternFile('g.bin', 30, 6);
    const faults = [{ status: 409 }, { status: 503, headers: { 'Retry-After': '0' } }];
    fake.fault = (r) => (r.method === 'PATCH' && r.offset === 10 ? faults.shift() : undefined);
    const st = await fileUploader(file, 10, 's7', tus()).upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.stored(), await bytesOf(file));
    assert.deepEqual(fake.log.map((e) => e.method), ['POST', 'PATCH', 'PATCH', 'HEAD', 'PATCH', 'HEAD', 'PATCH', 'PATCH']);
  });

  test('an upload the server forgot is created again', async () => {
    const file = patternFile('h.bin', 20, 7);
    fake.fault = (r) => {
      if (r.method === 'PATCH' && r.offset === 10 && !fake.lost) {
        fake.lost = true;
        fake.uploads.clear();
      }
    };
    const st = await fileUploader(file, 10, 's8', tus()).upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.stored(), await bytesOf(file));
    assert.deepEqual(fake.log.map((e) => e.method), ['POST', 'PATCH', 'PATCH', 'POST', 'PATCH', 'PATCH']);
  });

  test('onUploadURL announces each upload the client takes up, once, before its requests', async () => {
    const file = patternFile('n.bin', 20, 9);
    fake.fault = (r) => {
      if (r.method === 'PATCH' && r.offset === 10 && !fake.lost) {
        fake.lost = true;
        fake.uploads.clear();
      }
    };
    const seen = [];
    const announce = (url) => seen.push({ url, requests: fake.log.map((e) => `${e.method} ${e.id}`) });
    const up = fileUploader(file, 10, 's14', tus({ onUploadURL: announce }));
    assert.equal(up.uploadURL, undefined, 'nothing before the first request');
    assert.equal((await up.upload()).completed, true);
    const created = (id) => new URL(`/files/${id}`, fake.url).href;
    // The first creation's Location, then the second's after the server forgot the first.
    assert.deepEqual(seen, [
      { url: created('u0'), requests: ['POST '] },
      { url: created('u1'), requests: ['POST ', 'PATCH u0', 'PATCH u0', 'POST '] },
    ]);
    assert.equal(up.uploadURL, created('u1'));

    // A new uploader of the file announces the remembered upload before its HEAD, once.
    seen.length = 0;
    const before = fake.log.length;
    const again = fileUploader(file, 10, 's14', tus({ onUploadURL: announce }));
    const st = await again.fetchStatus();
    assert.equal(st.completed, true);
    await again.uploadSegments(st);
    await again.fetchStatus();
    assert.deepEqual(seen.map((s) => [s.url, s.requests.length - before]), [[created('u1'), 0]]);
    assert.deepEqual(fake.log.slice(before).map((e) => `${e.method} ${e.id}`), ['HEAD u1', 'HEAD u1']);
    assert.equal(again.uploadURL, created('u1'));
  });

  test('onUploadURL is never called with the nginx protocol', async () => {
    const nginx = await startFake();
    try {
      const calls = [];
      const up = fileUploader(patternFile('o.bin', 10), 4, 's15', { ...fast, protocol: 'auto', endpoint: nginx.url, onUploadURL: (u) => calls.push(u) });
      assert.equal((await up.upload()).completed, true);
      assert.deepEqual(calls, []);
      assert.equal(up.uploadURL, undefined);
    } finally {
      await nginx.close();
    }
  });

  test('an offset beyond the bytes sent is not believed', async () => {
    const file = patternFile('i.bin', 20, 8);
    fake.fault = (r) => (r.method === 'PATCH' && r.offset === 10 && !fake.lied ? ((fake.lied = true), { offset: 999 }) : undefined);
    const st = await fileUploader(file, 10, 's9', tus()).upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.stored(), await bytesOf(file));
    assert.deepEqual(patches(fake.log).map((e) => e.offset), [0, 10, 10]);
  });

  test('a 4xx stops the upload with UploadError', async () => {
    fake.fault = (r) => (r.method === 'PATCH' ? { status: 415 } : undefined);
    await assert.rejects(fileUploader(patternFile('j.bin', 5), 4, 's10', tus()).upload(), (e) => e instanceof UploadError && e.status === 415);
  });

  test('a creating POST refused stops the upload', async () => {
    fake.fault = (r) => (r.method === 'POST' ? { status: 413 } : undefined);
    await assert.rejects(fileUploader(patternFile('k.bin', 5), 4, 's11', tus()).upload(), (e) => e instanceof UploadError && e.status === 413);
  });

  test('retries are bounded', async () => {
    fake.fault = (r) => (r.method === 'PATCH' ? { status: 503 } : undefined);
    await assert.rejects(fileUploader(patternFile('l.bin', 5), 4, 's12', tus({ retries: 3 })).upload(), /giving up after 4 failures/);
  });

  test('an empty file is an upload of length 0 with tus only', async () => {
    const st = await fileUploader(new File([], 'empty'), 4, 's13', tus()).upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.log.map((e) => e.method), ['POST']);
    assert.throws(() => fileUploader(new File([], 'empty'), 4, 's13', { protocol: 'nginx' }), TypeError);
    assert.throws(() => fileUploader(patternFile('m', 1), 4, 's13', { protocol: 'ftp' }), TypeError);
  });
});
