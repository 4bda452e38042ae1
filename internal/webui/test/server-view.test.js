import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ServerView, adminURL, describeHeld, journalCells, journalColumns, uploadIdOf } from '../js/server-view.js';

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** A fetch that answers from a script of journal pages and sessions, recording each URL. */
function scripted({ journal = [], session = [], absent = false } = {}) {
  const calls = [];
  let j = 0;
  let s = 0;
  const fetch = async (url) => {
    const u = new URL(url);
    calls.push(u.pathname + u.search);
    if (absent) return new Response('404 page not found\n', { status: 404, headers: { 'Content-Type': 'text/plain' } });
    if (u.pathname.endsWith('/journal')) return json(200, journal[Math.min(j++, journal.length - 1)]);
    const v = session[Math.min(s++, session.length - 1)];
    return v ? json(200, v) : json(404, { error: 'no session s1' });
  };
  return { fetch, calls };
}

const entry = (seq, status, extra = {}) => ({ seq, session: 's1', method: 'POST', path: '/upload', status, outcome: 'answered', body_read: 2, duration_ns: 1000, ...extra });

test('adminURL resolves the prefix against the endpoint origin', () => {
  assert.equal(adminURL('http://127.0.0.1:8080/upload').href, 'http://127.0.0.1:8080/_upspec/');
  assert.equal(adminURL('http://127.0.0.1:8080/a/upload', '/x').href, 'http://127.0.0.1:8080/x/');
});

test('poll keeps entries by seq, continues from last and reads the session', async () => {
  const ack = { id: 's1', total: 24, acknowledged: [{ start: 0, end: 1 }], in_flight: [], state: 'incomplete', list: '0-1/24' };
  const { fetch, calls } = scripted({
    journal: [
      { entries: [entry(1, 503, { fault: 'status=503,match=first' })], dropped: 0, last: 1 },
      // seq 3 answered before 2: it comes now and again with 2
      { entries: [entry(3, 201)], dropped: 0, last: 1 },
      { entries: [entry(2, 201), entry(3, 201)], dropped: 0, last: 3 },
    ],
    session: [null, ack, ack],
  });
  let changes = 0;
  const v = new ServerView('http://h/_upspec/', 's1', { fetch, onChange: () => changes++ });
  assert.equal(await v.poll(), true);
  assert.equal(v.session, null);
  await v.poll();
  await v.poll();
  assert.deepEqual(v.journal.map((e) => [e.seq, e.status]), [[1, 503], [2, 201], [3, 201]]);
  assert.deepEqual(v.session, ack);
  assert.equal(v.last, 3);
  assert.equal(changes, 3);
  assert.deepEqual(calls.filter((c) => c.includes('journal')), [
    '/_upspec/journal?session=s1&since=0',
    '/_upspec/journal?session=s1&since=1',
    '/_upspec/journal?session=s1&since=1',
  ]);
  assert.ok(calls.includes('/_upspec/sessions/s1'));
});

test('a server without the admin API is reported once and never asked again', async () => {
  const { fetch, calls } = scripted({ absent: true });
  let changes = 0;
  const v = new ServerView('http://h/_upspec/', 's1', { fetch, interval: 1, onChange: () => changes++ });
  await v.watch();
  await v.stop();
  assert.match(v.absent, /no admin API at http:\/\/h\/_upspec\/ \(GET journal: 404\)/);
  assert.equal(await v.poll(), false);
  assert.deepEqual(calls, ['/_upspec/journal?session=s1&since=0']);
  assert.equal(changes, 1);
});

test('an unreachable admin API is absent too', async () => {
  const v = new ServerView('http://h/_upspec/', 's1', { fetch: async () => { throw new TypeError('Failed to fetch'); } });
  assert.equal(await v.poll(), false);
  assert.match(v.absent, /no admin API reachable at http:\/\/h\/_upspec\/ \(Failed to fetch\)/);
});

test('watch polls until stop, then once more; an abort ends it without the last poll', async () => {
  const page = { entries: [], dropped: 0, last: 0 };
  const { fetch, calls } = scripted({ journal: [page], session: [null] });
  const v = new ServerView('http://h/_upspec/', 's1', { fetch, interval: 1 });
  const done = v.watch();
  while (v.polls < 3) await new Promise((r) => setTimeout(r, 1));
  await v.stop();
  await done;
  const polls = v.polls;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(v.polls, polls, 'no poll after stop');
  assert.equal(calls.filter((c) => c.includes('journal')).length, polls);

  const ac = new AbortController();
  const w = new ServerView('http://h/_upspec/', 's1', { fetch, interval: 1 });
  const wd = w.watch(ac.signal);
  while (w.polls < 2) await new Promise((r) => setTimeout(r, 1));
  ac.abort();
  await wd;
  const after = w.polls;
  await w.stop();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(w.polls, after, 'no poll after an abort');
});

test('watch is bounded by maxPolls', async () => {
  const { fetch } = scripted({ journal: [{ entries: [], dropped: 0, last: 0 }], session: [null] });
  const v = new ServerView('http://h/_upspec/', 's1', { fetch, interval: 0, maxPolls: 5 });
  await v.watch();
  assert.equal(v.polls, 6, 'maxPolls, then the last one');
});

/** A fetch that answers the journal and sessions of several sessions, by the query's ID. */
function bySession(pages, sessions = {}) {
  const calls = [];
  const fetch = async (url) => {
    const u = new URL(url);
    calls.push(u.pathname + u.search);
    if (u.pathname.endsWith('/journal')) {
      const id = u.searchParams.get('session');
      const since = Number(u.searchParams.get('since'));
      const entries = (pages[id] ?? []).filter((e) => e.seq > since);
      return json(200, { entries, dropped: 0, last: 9 });
    }
    const id = u.pathname.split('/').pop();
    return sessions[id] ? json(200, sessions[id]) : json(404, { error: `no session ${id}` });
  };
  return { fetch, calls };
}

const tusEntry = (seq, session, method, status, extra = {}) => ({
  seq, session, method, path: `/files/${session}`, status, outcome: 'answered', content_length: -1, body_read: 0, duration_ns: 2e6, ...extra,
});

test('uploadIdOf is the last element of the upload URL', () => {
  assert.equal(uploadIdOf('http://h/files/0123abcd'), '0123abcd');
  assert.equal(uploadIdOf(new URL('http://h/a/b/ff00?x=1')), 'ff00');
});

test('a view without a session asks nothing until follow names one', async () => {
  const { fetch, calls } = bySession({ u1: [tusEntry(3, 'u1', 'POST', 201)] });
  const v = new ServerView('http://h/_upspec/', undefined, { fetch });
  assert.equal(await v.poll(), true);
  assert.deepEqual(calls, []);
  assert.equal(v.polls, 0);
  v.follow('u1');
  await v.poll();
  assert.deepEqual(calls, ['/_upspec/journal?session=u1&since=0', '/_upspec/sessions/u1']);
  assert.deepEqual(v.journal.map((e) => e.seq), [3]);
});

test('follow drops the previous session and reads the new one from its start', async () => {
  const ack = { id: 'u2', total: 20, acknowledged: [{ start: 0, end: 9 }], in_flight: [], state: 'incomplete', list: '0-9/20' };
  const { fetch, calls } = bySession(
    {
      u1: [tusEntry(1, 'u1', 'POST', 201), tusEntry(4, 'u1', 'PATCH', 404)],
      // u2's creation came before the last poll of u1, whose `last` was 9
      u2: [tusEntry(5, 'u2', 'POST', 201), tusEntry(6, 'u2', 'PATCH', 204, { range: '0', answer: '10' })],
      other: [tusEntry(2, 'other', 'POST', 201)],
    },
    { u2: ack },
  );
  const changes = [];
  const v = new ServerView('http://h/_upspec/', 'u1', { fetch, onChange: (x) => changes.push(x.sessionId) });
  await v.poll();
  assert.deepEqual(v.journal.map((e) => e.seq), [1, 4]);
  assert.equal(v.last, 9);
  v.follow('u1');
  assert.equal(changes.length, 1, 'following the same session changes nothing');
  v.follow('u2');
  assert.deepEqual(v.journal, []);
  assert.equal(v.session, null);
  await v.poll();
  assert.deepEqual(v.journal.map((e) => [e.seq, e.session]), [[5, 'u2'], [6, 'u2']]);
  assert.deepEqual(v.session, ack);
  assert.deepEqual(v.previous, ['u1']);
  assert.deepEqual(calls.filter((c) => c.includes('journal')), ['/_upspec/journal?session=u1&since=0', '/_upspec/journal?session=u2&since=0']);
});

test('a poll answered after follow moved on keeps nothing of it', async () => {
  let release;
  const held = new Promise((r) => (release = r));
  const inner = bySession({ u1: [tusEntry(1, 'u1', 'POST', 201)], u2: [tusEntry(2, 'u2', 'POST', 201)] });
  const fetch = async (url) => {
    if (String(url).includes('session=u1')) await held;
    return inner.fetch(url);
  };
  const v = new ServerView('http://h/_upspec/', 'u1', { fetch });
  const first = v.poll();
  await new Promise((r) => setTimeout(r, 5));
  v.follow('u2');
  release();
  await first;
  assert.deepEqual(v.journal, [], "u1's answer is not u2's");
  await v.poll();
  assert.deepEqual(v.journal.map((e) => e.session), ['u2']);
});

test('the entries of another session are not shown, whatever the server sends', async () => {
  const fetch = async (url) =>
    new URL(url).pathname.endsWith('/journal')
      ? json(200, { entries: [tusEntry(1, 'u1', 'POST', 201), tusEntry(2, 'u9', 'PATCH', 204)], dropped: 0, last: 2 })
      : json(404, {});
  const v = new ServerView('http://h/_upspec/', 'u1', { fetch });
  await v.poll();
  assert.deepEqual(v.journal.map((e) => e.session), ['u1']);
});

test('journal cells of tus: offset sent and answered, length, status, reason, fault', () => {
  const cols = journalColumns('tus').map(([c]) => c);
  assert.deepEqual(cols, ['seq', 'method', 'offset', 'length', 'status', 'reason', 'fault', 'time']);
  const rows = [
    tusEntry(1, 'u', 'POST', 201),
    tusEntry(2, 'u', 'HEAD', 200, { answer: '0' }),
    tusEntry(3, 'u', 'PATCH', 204, { range: '0', answer: '10', content_length: 10, body_read: 10, duration_ns: 500 }),
    tusEntry(4, 'u', 'PATCH', 503, { range: '10', answer: 'scripted fault status=503', reason: 'scripted fault status=503', fault: 'status=503', content_length: 10, body_read: 0 }),
    tusEntry(5, 'u', 'PATCH', 0, { range: '10', outcome: 'reset', content_length: 10, body_read: 4, reason: 'scripted fault reset-after=4', fault: 'reset-after=4' }),
    tusEntry(6, 'u', 'PATCH', 409, { range: '3', reason: "Upload-Offset 3 is not the upload's offset 10", answer: "Upload-Offset 3 is not the upload's offset 10" }),
  ];
  const line = (e) => { const c = journalCells(e, 'tus'); return cols.map((k) => c[k]).join('|'); };
  assert.deepEqual(rows.map(line), [
    '1|POST||0|201|||2.0 ms',
    '2|HEAD|→ 0|0|200|||2.0 ms',
    '3|PATCH|0 → 10|10|204|||1 µs',
    '4|PATCH|10|0 of 10|503|scripted fault status=503|status=503|2.0 ms',
    '5|PATCH|10|4 of 10|reset|scripted fault reset-after=4|reset-after=4|2.0 ms',
    "6|PATCH|3|0|409|Upload-Offset 3 is not the upload's offset 10||2.0 ms",
  ]);
});

test('journal cells of nginx keep the range, the quirks and the bytes', () => {
  const cols = journalColumns('nginx').map(([c]) => c);
  assert.deepEqual(cols, ['seq', 'method', 'range', 'status', 'reason', 'fault', 'bytes', 'time']);
  const c = journalCells(entry(7, 201, { range: 'bytes 0-1/24', shaped_by: ['range-list-cut'], body_read: 2 }), 'nginx');
  assert.deepEqual(cols.map((k) => c[k]), ['7', 'POST', 'bytes 0-1/24', '201', '', 'range-list-cut', '2', '1 µs']);
  assert.equal(journalCells(entry(8, 404), 'nginx').range, '/upload');
});

test('describeHeld: the list of a session, the offset of a tus upload', () => {
  const s = { id: 'u', total: 24, acknowledged: [{ start: 0, end: 11 }], in_flight: [], state: 'incomplete', list: '0-11/24' };
  assert.equal(describeHeld(s, 'nginx'), 'incomplete: 0-11/24 of 24 bytes');
  assert.equal(describeHeld(s, 'tus'), 'incomplete: offset 12 of 24 bytes');
  assert.equal(describeHeld({ ...s, acknowledged: [], list: '', total: -1 }, 'tus'), 'incomplete: offset 0 of a length not yet declared');
  assert.equal(describeHeld(null, 'tus'), '');
});
