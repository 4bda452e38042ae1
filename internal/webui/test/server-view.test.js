import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ServerView, adminURL } from '../js/server-view.js';

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
