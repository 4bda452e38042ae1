import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto, createHash } from 'node:crypto';

import {
  fileUploader,
  parseRangeList,
  missingRanges,
  splitGap,
  encodeContentDisposition,
  parseRetryAfter,
  sha256,
  deriveSessionId,
  UploadError,
} from '../js/upspec-uploader.js';
import { startFake, patternFile } from './fake-server.js';

const fast = { retryDelay: 1, maxRetryDelay: 5 };

function isProbe(e) {
  return e.range.start === 0 && e.range.end <= 1;
}

/**
 * Checks a sequential log (concurrency 1): no request other than the probe re-sends bytes
 * that an earlier answer (201 or final) acknowledged, unless the server forgot the session in
 * between (forgotAt: index of the first request after the loss).
 */
function assertNoResend(log, forgotAt = Infinity) {
  let acked = [];
  log.forEach((e, i) => {
    if (i === forgotAt) acked = [];
    if (!isProbe(e)) {
      for (const a of acked) {
        assert.ok(e.range.end < a.start || e.range.start > a.end, `request ${i} (${e.range.start}-${e.range.end}) re-sends acknowledged ${a.start}-${a.end}`);
      }
    }
    if (e.status === 201 || e.status === 200) acked.push(e.range);
  });
}

describe('parseRangeList', () => {
  const cases = [
    ['module form', '0-5/24,9-15/24', 24, [[0, 5], [9, 15]]],
    ['compact form', '0-5,9-15/24', 24, [[0, 5], [9, 15]]],
    ['one range', '0-1/24', 24, [[0, 1]]],
    ['blanks and newline', ' 0-5/24 , 9-15/24 \n', 24, [[0, 5], [9, 15]]],
    ['unsorted, overlapping, adjacent', '9-15/24,0-5/24,6-8/24,10-11/24', 24, [[0, 15]]],
    ['mixed forms', '0-1,4-5/24,9-9/24', 24, [[0, 1], [4, 5], [9, 9]]],
    ['large offsets', '0-4999999999/5000000010', 5000000010, [[0, 4999999999]]],
  ];
  for (const [name, text, total, want] of cases) {
    test(name, () => {
      const got = parseRangeList(text);
      assert.equal(got.total, total);
      assert.deepEqual(got.ranges.map((r) => [r.start, r.end]), want);
    });
  }
  for (const bad of ['', 'completed', '0-5', '5-3/24', '0-24/24', '0-5/24,9-15/30', 'bytes 0-5/24', '0-5/24,,9-9/24']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseRangeList(bad)));
  }
});

describe('segments', () => {
  test('missingRanges finds every gap, not only the tail', () => {
    assert.deepEqual(missingRanges([{ start: 0, end: 5 }, { start: 9, end: 15 }, { start: 20, end: 21 }], 24), [
      { start: 6, end: 8 },
      { start: 16, end: 19 },
      { start: 22, end: 23 },
    ]);
    assert.deepEqual(missingRanges([], 3), [{ start: 0, end: 2 }]);
    assert.deepEqual(missingRanges([{ start: 0, end: 2 }], 3), []);
  });
  const splits = [
    [{ start: 0, end: 9 }, 4, [[0, 3], [4, 7], [8, 9]]],
    [{ start: 0, end: 8 }, 4, [[0, 3], [4, 6], [7, 8]]], // no 1-byte tail
    [{ start: 5, end: 5 }, 4, [[5, 5]]], // a 1-byte gap is one byte
    [{ start: 0, end: 4 }, 1, [[0, 1], [2, 4]]], // never 1-byte segments
    [{ start: 2, end: 9 }, 4, [[2, 3], [4, 7], [8, 9]]], // aligned to multiples of the size
    [{ start: 3, end: 9 }, 4, [[3, 4], [5, 7], [8, 9]]], // a 1-byte piece before a boundary grows
    [{ start: 2, end: 1048577 }, 1 << 20, [[2, 1048575], [1048576, 1048577]]],
  ];
  for (const [gap, size, want] of splits) {
    test(`splitGap ${gap.start}-${gap.end} by ${size}`, () => {
      assert.deepEqual(splitGap(gap, size).map((r) => [r.start, r.end]), want);
    });
  }
});

describe('headers', () => {
  test('ASCII names are quoted as they are', () => {
    assert.deepEqual(encodeContentDisposition('a b.txt'), { header: 'attachment; filename="a b.txt"', serverName: 'a b.txt' });
  });
  test('quotes, backslashes, slashes and controls become _ and the exact name goes in filename*', () => {
    const { header, serverName } = encodeContentDisposition('a"b\\c/d\ne.txt');
    assert.equal(serverName, 'a_b_c_d_e.txt');
    assert.equal(header, `attachment; filename="a_b_c_d_e.txt"; filename*=UTF-8''a%22b%5Cc%2Fd%0Ae.txt`);
  });
  test('non-ASCII names go as UTF-8 bytes plus filename*', () => {
    const { header, serverName } = encodeContentDisposition('données ü.txt');
    assert.equal(serverName, 'données ü.txt');
    const bytes = Buffer.from(header, 'latin1');
    assert.ok(bytes.includes(Buffer.from('filename="données ü.txt"', 'utf8')));
    assert.ok(header.endsWith("; filename*=UTF-8''donn%C3%A9es%20%C3%BC.txt"));
  });
  test('non-ASCII names in ascii encoding are percent-encoded', () => {
    const { header, serverName } = encodeContentDisposition('é.txt', 'ascii');
    assert.equal(serverName, '%C3%A9.txt');
    assert.equal(header, `attachment; filename="%C3%A9.txt"; filename*=UTF-8''%C3%A9.txt`);
  });
  test('Retry-After in seconds and as a date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

describe('session IDs', () => {
  test('the built-in sha256 matches node:crypto', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100000]) {
      const data = new Uint8Array(n).map((_, i) => (i * 31) & 255);
      assert.equal(Buffer.from(sha256(data)).toString('hex'), createHash('sha256').update(data).digest('hex'), `length ${n}`);
    }
  });
  test('subtle and built-in digests give the same ID', async () => {
    assert.ok(globalThis.crypto?.subtle ?? webcrypto.subtle);
    for (const size of [1, 24, (1 << 20) + 1, 3 << 20]) {
      const f = patternFile('x.bin', size);
      assert.equal(await deriveSessionId(f), await deriveSessionId(f, { builtinDigest: true }), `size ${size}`);
    }
  });
  test('IDs are valid, stable and distinct for different files of one name and size', async () => {
    const a = await deriveSessionId(patternFile('same.bin', 3 << 20, 1));
    const again = await deriveSessionId(patternFile('same.bin', 3 << 20, 1));
    const b = await deriveSessionId(patternFile('same.bin', 3 << 20, 2));
    const c = await deriveSessionId(patternFile('same.bin', 3 << 20, 1, 1700000000001));
    const small1 = await deriveSessionId(patternFile('s.txt', 24, 1));
    const small2 = await deriveSessionId(patternFile('s.txt', 24, 2));
    assert.match(a, /^up[0-9]{39}$/);
    assert.equal(a, again);
    assert.equal(new Set([a, b, c]).size, 3);
    assert.notEqual(small1, small2);
  });
  test('the caller\'s ID is used; an invalid one is refused', async () => {
    const up = fileUploader(patternFile('a', 4), 2, 'my-id_1', { endpoint: 'http://127.0.0.1:1/upload' });
    assert.equal(await up.getSessionId(), 'my-id_1');
    assert.throws(() => fileUploader(patternFile('a', 4), 2, 'bad id'), TypeError);
    assert.throws(() => fileUploader(new File([], 'empty'), 2), /empty file/);
  });
});

describe('uploads', () => {
  let fake;
  before(async () => {
    fake = await startFake();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.log = [];
    fake.fault = () => undefined;
  });

  for (const size of [1, 2, 3, 24, (1 << 20) + 1]) {
    test(`a file of ${size} bytes arrives byte-exact`, async () => {
      const name = `size-${size}.bin`;
      const file = patternFile(name, size, size);
      const up = fileUploader(file, 1 << 19, undefined, { endpoint: fake.url, ...fast });
      const seen = [];
      const st = await up.uploadSegments(await up.fetchStatus(), (s) => seen.push(s.acknowledged));
      assert.equal(st.completed, true);
      assert.equal(st.body, 'completed');
      assert.equal(st.acknowledged, size);
      assert.deepEqual(Buffer.from(fake.files.get(name)), Buffer.from(await file.arrayBuffer()));
      const first = fake.log[0].range;
      assert.deepEqual(first, { start: 0, end: size === 1 ? 0 : 1 }, 'the first request is the probe');
      // A 1-byte segment only where one byte is missing (the 3-byte file after its probe).
      for (const e of fake.log.slice(1)) assert.ok(e.range.end > e.range.start || size === 3, 'no 1-byte segment');
      assertNoResend(fake.log);
    });
  }

  for (const form of ['module', 'compact']) {
    for (const rangeInHeader of [true, false]) {
      test(`fills every gap, reading the ${form} list from the ${rangeInHeader ? 'header' : 'body'}`, async () => {
        const f2 = await startFake({ form, rangeInHeader });
        try {
          const file = patternFile('gaps.bin', 40, 3);
          const bytes = Buffer.from(await file.arrayBuffer());
          // The server holds three ranges already: the gaps after the first and second range
          // and the tail are missing.
          const s = { total: 40, ranges: [{ start: 0, end: 4 }, { start: 10, end: 14 }, { start: 20, end: 24 }], data: Buffer.alloc(40), completed: false };
          for (const r of s.ranges) bytes.copy(s.data, r.start, r.start, r.end + 1);
          f2.sessions.set('gap-1', s);
          const up = fileUploader(file, 4, 'gap-1', { endpoint: f2.url, ...fast });
          const status = await up.fetchStatus();
          assert.deepEqual(status.ranges, s.ranges);
          assert.equal(status.completed, false);
          const st = await up.uploadSegments(status);
          assert.equal(st.completed, true);
          assert.deepEqual(f2.files.get('gaps.bin'), bytes);
          const sent = f2.log.slice(1).map((e) => [e.range.start, e.range.end]);
          assert.deepEqual(sent, [[5, 7], [8, 9], [15, 16], [17, 19], [25, 27], [28, 31], [32, 35], [36, 39]]);
        } finally {
          await f2.close();
        }
      });
    }
  }

  test('a lost session (a 201 with a shorter list) makes the client send everything again', async () => {
    const file = patternFile('lost.bin', 64, 5);
    let forgotAt = -1;
    fake.fault = ({ n }) => {
      if (fake.log.length === 4 && forgotAt < 0) {
        forgotAt = 3;
        fake.forget();
      }
      void n;
    };
    const up = fileUploader(file, 8, 'lost-1', { endpoint: fake.url, ...fast });
    const st = await up.upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.files.get('lost.bin'), Buffer.from(await file.arrayBuffer()));
    const afterLoss = fake.log.slice(forgotAt + 1).map((e) => e.range.start);
    assert.ok(afterLoss.includes(2) || afterLoss.includes(0), `the bytes before the loss were sent again: ${afterLoss}`);
    assertNoResend(fake.log, forgotAt);
  });

  test('503 with Retry-After is honoured', async () => {
    const file = patternFile('busy.bin', 24, 6);
    let times = [];
    fake.fault = ({ n }) => {
      times.push(Date.now());
      if (fake.log.length === 2) return { status: 503, headers: { 'Retry-After': '1' }, body: 'busy' };
      void n;
    };
    const st = await fileUploader(file, 8, 'busy-1', { endpoint: fake.url, ...fast }).upload();
    assert.equal(st.completed, true);
    assert.ok(times[2] - times[1] >= 950, `retried after ${times[2] - times[1]} ms`);
    assert.deepEqual(fake.files.get('busy.bin'), Buffer.from(await file.arrayBuffer()));
  });

  const faults = [
    ['500', { status: 500, body: 'oops' }],
    ['502', { status: 502 }],
    ['409', { status: 409, body: 'overlap' }],
    ['408', { status: 408 }],
    ['a reset before the body', { reset: true }],
    ['a lost answer after the commit', { resetAfterCommit: true }],
  ];
  for (const [name, f] of faults) {
    test(`completes after ${name}`, async () => {
      const file = patternFile(`fault-${name}.bin`, 48, 7);
      let hits = 0;
      fake.fault = () => {
        if (fake.log.length === 3 && hits++ < 2) return f;
        return undefined;
      };
      const st = await fileUploader(file, 8, `fault-${name.replace(/\W/g, '')}`, { endpoint: fake.url, ...fast }).upload();
      assert.equal(st.completed, true);
      assert.deepEqual(fake.files.get(file.name), Buffer.from(await file.arrayBuffer()));
      const failed = fake.log.findIndex((e) => e.status !== 201 && e.status !== 200);
      assert.ok(isProbe(fake.log[failed + 1]), 'after a failure the client probes first');
      assertNoResend(fake.log);
    });
  }

  for (const status of [400, 403, 404, 413, 415, 416]) {
    test(`stops on ${status}`, async () => {
      fake.fault = () => (fake.log.length === 2 ? { status, body: 'no, because' } : undefined);
      const up = fileUploader(patternFile('stop.bin', 48, 8), 8, `stop-${status}`, { endpoint: fake.url, ...fast });
      await assert.rejects(up.upload(), (e) => e instanceof UploadError && e.status === status && /no, because/.test(e.message));
      assert.equal(fake.log.length, 2, 'nothing sent after the error');
    });
  }

  test('gives up after the retries in a row', async () => {
    fake.fault = () => ({ status: 503 });
    const up = fileUploader(patternFile('down.bin', 8), 4, 'down-1', { endpoint: fake.url, ...fast, retries: 3 });
    await assert.rejects(up.upload(), (e) => e instanceof UploadError && e.status === 503 && /4 failures/.test(e.message));
    assert.equal(fake.log.length, 4);
  });

  test('a network error to an unreachable server is retried, then reported', async () => {
    const up = fileUploader(patternFile('x.bin', 8), 4, 'unreach-1', { endpoint: 'http://127.0.0.1:1/upload', ...fast, retries: 2 });
    await assert.rejects(up.fetchStatus(), (e) => e instanceof UploadError && /3 failures/.test(e.message));
  });

  test('a success while bytes are missing is not a completion', async () => {
    const file = patternFile('false.bin', 40, 9);
    // The module's false success: 200 for a segment it did not store.
    fake.fault = () => (fake.log.length === 3 ? { status: 200, body: 'completed' } : undefined);
    const up = fileUploader(file, 8, 'false-1', { endpoint: fake.url, ...fast });
    const st = await up.upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.files.get('false.bin'), Buffer.from(await file.arrayBuffer()));
    assert.ok(fake.log.length >= 6, 'the rest of the file was sent after the false success');
  });

  test('a 201 is never a completion, even when it lists everything', async () => {
    const file = patternFile('all201.bin', 8, 10);
    fake.fault = () => ({ status: 201, headers: { Range: '0-7/8' }, body: '0-7/8' });
    const up = fileUploader(file, 8, 'all201-1', { endpoint: fake.url, ...fast, retries: 2 });
    const st = await up.fetchStatus();
    assert.equal(st.completed, false);
    await assert.rejects(up.uploadSegments(st), /never gave its final answer/);
  });

  test('a 201 that never lists the segment is retried, then reported', async () => {
    fake.fault = () => ({ status: 201, headers: { Range: '0-1/8' }, body: '0-1/8' });
    const up = fileUploader(patternFile('unlisted.bin', 8), 4, 'unlisted-1', { endpoint: fake.url, ...fast, retries: 2 });
    await assert.rejects(up.upload(), /does not list them/);
  });

  test('a server that loses the session after every segment stops the upload', async () => {
    fake.fault = () => {
      fake.forget();
    };
    const up = fileUploader(patternFile('amnesia.bin', 40), 8, 'amnesia-1', { endpoint: fake.url, ...fast, retries: 3 });
    await assert.rejects(up.upload(), /lost acknowledged bytes 4 times/);
  });

  test('a list of another total stops with a clear error', async () => {
    fake.fault = () => ({ status: 201, headers: { Range: '0-1/99' }, body: '0-1/99' });
    const up = fileUploader(patternFile('other.bin', 8), 4, 'other-1', { endpoint: fake.url, ...fast });
    await assert.rejects(up.fetchStatus(), /belongs to a file of 99 bytes/);
  });

  test('concurrent segments never overlap and reach the limit', async () => {
    const file = patternFile('par.bin', 1000, 11);
    let release;
    const gate = new Promise((r) => (release = r));
    fake.fault = () => {
      if (fake.inFlight.length >= 4) release();
      return fake.log.length > 1 && fake.log.length <= 4 ? { hold: gate } : undefined;
    };
    const up = fileUploader(file, 50, 'par-1', { endpoint: fake.url, ...fast, concurrency: 4 });
    const st = await up.upload();
    assert.equal(st.completed, true);
    assert.deepEqual(fake.files.get('par.bin'), Buffer.from(await file.arrayBuffer()));
    assert.ok(fake.log.every((e) => !e.inFlightOverlap), 'no overlapping segments in flight');
    const sent = fake.log.slice(1).reduce((n, e) => n + e.range.end - e.range.start + 1, 0);
    assert.equal(sent, 998, 'every byte once, beyond the probe');
  });

  test('abort stops the upload', async () => {
    const ac = new AbortController();
    fake.fault = () => (fake.log.length === 3 ? { hold: new Promise(() => {}) } : undefined);
    const seen = [];
    const up = fileUploader(patternFile('abort.bin', 40), 8, 'abort-1', {
      endpoint: fake.url,
      ...fast,
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.acknowledged);
        if (p.acknowledged >= 8) ac.abort();
      },
    });
    await assert.rejects(up.upload(), (e) => e.name === 'AbortError');
    assert.deepEqual(seen, [2, 8]);
  });

  test('progress reports acknowledged bytes up to the total', async () => {
    const seen = [];
    const up = fileUploader(patternFile('prog.bin', 30), 8, 'prog-1', { endpoint: fake.url, ...fast, onProgress: (p) => seen.push(p.acknowledged) });
    await up.upload();
    assert.deepEqual(seen, [2, 8, 16, 24, 30]);
  });

  test('a non-ASCII name reaches the server as UTF-8', async () => {
    const up = fileUploader(patternFile('données ü.txt', 4), 4, 'name-1', { endpoint: fake.url, ...fast });
    await up.upload();
    const cd = Buffer.from(fake.log[0].disposition, 'latin1').toString('utf8');
    assert.match(cd, /^attachment; filename="données ü\.txt"; filename\*=UTF-8''/);
    assert.equal(up.serverName, 'données ü.txt');
  });
});
