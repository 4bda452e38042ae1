// What the reference server (`upspec serve`) saw of one upload, read from its admin API:
// the session's acknowledged ranges (GET <admin>sessions/<id>) and the journal lines of the
// session (GET <admin>journal?session=<id>&since=<last>). With `upspec serve --protocol tus`
// the admin API's session is the tus upload, named by its ID (the last element of its URL):
// the view follows the upload the client works on (follow), and the journal lines are its
// creation POST, its HEADs and its PATCHes. A server without the admin API (another server,
// or a prefix that answers 404) is reported once and never asked again.

/** Default URL prefix of the admin API of `upspec serve`. */
export const DEFAULT_ADMIN_PREFIX = '/_upspec/';

/** How many journal lines a view keeps (the newest). */
export const MAX_JOURNAL_LINES = 500;

/** How many polls one watch makes at most before it stops by itself. */
export const MAX_POLLS = 2400;

/** How long one admin request may take (ms) before it is abandoned. */
export const REQUEST_TIMEOUT = 10000;

/**
 * The admin API's URL for a segment endpoint: prefix resolved against the endpoint's origin.
 * @param {string|URL} endpoint the segment endpoint
 * @param {string} [prefix] the admin prefix, default /_upspec/
 * @returns {URL}
 */
export function adminURL(endpoint, prefix = DEFAULT_ADMIN_PREFIX) {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return new URL(p, new URL(endpoint, globalThis.location?.href));
}

/**
 * The ID of a tus upload, as the tus server's journal and admin API name it: the last path
 * element of its URL.
 * @param {string|URL} url the upload's URL (the Location of its creation POST)
 * @returns {string}
 */
export function uploadIdOf(url) {
  const u = new URL(url, globalThis.location?.href);
  return decodeURIComponent(u.pathname.slice(u.pathname.lastIndexOf('/') + 1));
}

/**
 * A range of a session as the admin API lists it.
 * @typedef {{start: number, end: number}} ByteRange
 */

/**
 * What the server holds of a session (GET sessions/<id>).
 * @typedef {{id: string, file_name?: string, total: number, acknowledged: ByteRange[],
 *   in_flight: ByteRange[], state: string, list: string}} SessionInfo
 */

/**
 * One journal line (the fields the page shows; the admin API sends more).
 * @typedef {{seq: number, session?: string, method: string, path: string, range?: string,
 *   status: number, outcome: string, answer?: string, reason?: string, shaped_by?: string[],
 *   fault?: string, content_length: number, body_read: number, duration_ns: number}} JournalEntry
 */

/**
 * The columns of the journal table for a protocol: [class, heading, title] each. nginx: the
 * segment's range header; tus: the Upload-Offset sent and, after an arrow, the one answered,
 * and the body's length.
 * @param {'nginx'|'tus'} protocol
 * @returns {[string, string, string][]}
 */
export function journalColumns(protocol) {
  const time = ['time', 'time', 'from the head read to the answer written'];
  if (protocol === 'tus') {
    return [
      ['seq', '#', 'the journal\'s sequence number'],
      ['method', 'method', 'the request\'s method'],
      ['offset', 'offset', 'Upload-Offset as sent → as answered'],
      ['length', 'length', 'body bytes the server read (of Content-Length)'],
      ['status', 'status', 'the answer\'s status, or what became of the connection'],
      ['reason', 'reason', 'why the server refused the request'],
      ['fault', 'fault', 'the scripted fault that shaped the answer'],
      time,
    ];
  }
  return [
    ['seq', '#', 'the journal\'s sequence number'],
    ['method', 'method', 'the request\'s method'],
    ['range', 'range', 'the range header as sent'],
    ['status', 'status', 'the answer\'s status, or what became of the connection'],
    ['reason', 'reason', 'why the server refused the request'],
    ['fault', 'fault / shaped by', 'the scripted fault or the quirks that shaped the answer'],
    ['bytes', 'bytes', 'body bytes the server read'],
    time,
  ];
}

/**
 * The text of each cell of a journal line, by column class (journalColumns), as the entry has
 * it: nothing is made up.
 * @param {JournalEntry} e
 * @param {'nginx'|'tus'} protocol
 * @returns {Record<string, string>}
 */
export function journalCells(e, protocol) {
  const ms = e.duration_ns / 1e6;
  const cells = {
    seq: String(e.seq),
    method: e.method,
    status: e.status ? String(e.status) : e.outcome,
    reason: e.reason ?? '',
    time: ms < 1 ? `${Math.round(ms * 1000)} µs` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`,
  };
  if (protocol === 'tus') {
    // The tus server journals the Upload-Offset answered as the answer of a success, the
    // reason as that of a refusal.
    const answered = e.status >= 200 && e.status < 300 && e.answer ? e.answer : '';
    cells.offset = [e.range ?? '', answered && `→ ${answered}`].filter(Boolean).join(' ');
    const declared = e.content_length;
    cells.length = declared >= 0 && declared !== e.body_read ? `${e.body_read} of ${declared}` : String(e.body_read);
    cells.fault = e.fault ?? '';
  } else {
    cells.range = e.range ?? e.path;
    cells.fault = e.fault || (e.shaped_by ?? []).join(', ');
    cells.bytes = String(e.body_read);
  }
  return cells;
}

/**
 * One line on what the server holds: nginx, the session's list; tus, the upload's offset.
 * @param {SessionInfo|null} s
 * @param {'nginx'|'tus'} protocol
 * @returns {string}
 */
export function describeHeld(s, protocol) {
  if (!s) return '';
  const inFlight = s.in_flight?.length ? `; in flight ${s.in_flight.map((r) => `${r.start}-${r.end}`).join(',')}` : '';
  if (protocol === 'tus') {
    const offset = s.acknowledged?.length ? s.acknowledged[s.acknowledged.length - 1].end + 1 : 0;
    const length = s.total >= 0 ? `${s.total} bytes` : 'a length not yet declared';
    return `${s.state}: offset ${offset} of ${length}${inFlight}`;
  }
  return `${s.state}: ${s.list || 'nothing acknowledged'} of ${s.total} bytes${inFlight}`;
}

/** The server's view of one session, kept up to date by poll() and watch(). */
export class ServerView {
  /**
   * @param {string|URL} admin the admin API's URL (adminURL)
   * @param {string} [sessionId] the session to follow (tus: the upload's ID, uploadIdOf); when
   *   undefined, polls ask nothing until follow() names one
   * @param {object} [opts]
   * @param {typeof fetch} [opts.fetch] the fetch to use (default globalThis.fetch)
   * @param {number} [opts.interval] ms between polls while watching (default 500)
   * @param {number} [opts.maxPolls] polls per watch at most (default MAX_POLLS)
   * @param {number} [opts.timeout] ms per admin request (default REQUEST_TIMEOUT)
   * @param {(view: ServerView) => void} [opts.onChange] called after each poll that changed the view
   */
  constructor(admin, sessionId, opts = {}) {
    this.admin = new URL(admin);
    this.sessionId = sessionId;
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.interval = opts.interval ?? 500;
    this.maxPolls = opts.maxPolls ?? MAX_POLLS;
    this.timeout = opts.timeout ?? REQUEST_TIMEOUT;
    this.onChange = opts.onChange ?? (() => {});
    /** @type {Map<number, JournalEntry>} journal lines by seq */
    this.entries = new Map();
    /** The journal's `last`: the next poll asks for what follows it. */
    this.last = 0;
    /** Entries the server's journal dropped (its ring was full). */
    this.dropped = 0;
    /** @type {SessionInfo|null} null until the server has a segment of the session */
    this.session = null;
    /** @type {string|undefined} set when the server has no admin API: why, once */
    this.absent = undefined;
    /** @type {string|undefined} the last poll's error, when it failed otherwise */
    this.error = undefined;
    /** Number of polls made. */
    this.polls = 0;
    /** @type {string[]} the IDs followed before this one (follow), oldest first */
    this.previous = [];
    this._watch = undefined;
  }

  /**
   * Follows another session from now on (tus: the client took up another upload): what was
   * read of the previous one is dropped, and the next poll (at once when watching) reads the
   * new one's journal from its start. Nothing happens when id is the one followed.
   * @param {string} id
   */
  follow(id) {
    if (id === this.sessionId) return;
    if (this.sessionId !== undefined) this.previous.push(this.sessionId);
    this.sessionId = id;
    this.entries = new Map();
    this.last = 0;
    this.session = null;
    this.error = undefined;
    this.onChange(this);
    this._watch?.wake();
  }

  /** The journal lines, oldest first. */
  get journal() {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq);
  }

  async _get(path, signal) {
    const url = new URL(path, this.admin);
    const signals = [AbortSignal.timeout(this.timeout)];
    if (signal) signals.push(signal);
    const res = await this.fetch(url, { signal: AbortSignal.any(signals), cache: 'no-store', credentials: 'omit' });
    let body;
    if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
      try {
        body = await res.json();
      } catch {
        body = undefined;
      }
    }
    return { status: res.status, body, url };
  }

  /**
   * One round: the journal since the last poll, then the session. Does nothing once absent.
   * @param {AbortSignal} [signal]
   * @returns {Promise<boolean>} false when the admin API is absent
   */
  async poll(signal) {
    if (this.absent) return false;
    const sessionId = this.sessionId;
    if (sessionId === undefined) return true; // nothing to follow yet
    this.polls++;
    const id = encodeURIComponent(sessionId);
    let changed = false;
    try {
      const j = await this._get(`journal?session=${id}&since=${this.last}`, signal);
      if (sessionId !== this.sessionId) return true; // follow() moved on meanwhile
      if (j.status !== 200 || !Array.isArray(j.body?.entries)) {
        this.absent = `no admin API at ${new URL('.', j.url).href} (GET journal: ${j.status}): the server's view cannot be shown`;
        this.onChange(this);
        return false;
      }
      for (const e of j.body.entries) {
        if (e.session !== undefined && e.session !== sessionId) continue;
        const old = this.entries.get(e.seq);
        if (!old || JSON.stringify(old) !== JSON.stringify(e)) changed = true;
        this.entries.set(e.seq, e);
      }
      while (this.entries.size > MAX_JOURNAL_LINES) this.entries.delete(this.entries.keys().next().value);
      if (typeof j.body.last === 'number' && j.body.last > this.last) this.last = j.body.last;
      if (typeof j.body.dropped === 'number' && j.body.dropped !== this.dropped) {
        this.dropped = j.body.dropped;
        changed = true;
      }
      const s = await this._get(`sessions/${id}`, signal);
      if (sessionId !== this.sessionId) return true;
      const session = s.status === 200 && s.body ? s.body : null;
      if (s.status !== 200 && s.status !== 404) throw new Error(`GET sessions/${sessionId}: ${s.status}`);
      if (JSON.stringify(session) !== JSON.stringify(this.session)) changed = true;
      this.session = session;
      if (this.error) changed = true;
      this.error = undefined;
    } catch (e) {
      if (signal?.aborted) throw e;
      if (sessionId !== this.sessionId) return true;
      if (this.polls === 1 && e instanceof TypeError) {
        // The first request could not be made at all: no server, or no CORS for this page.
        this.absent = `no admin API reachable at ${this.admin.href} (${e.message}): the server's view cannot be shown`;
        this.onChange(this);
        return false;
      }
      this.error = `${e?.message ?? e}`;
      changed = true;
    }
    if (changed) this.onChange(this);
    return true;
  }

  /**
   * Polls every interval until stop() (at most maxPolls times), then once more.
   * @param {AbortSignal} [signal] an abort ends the watch at once, without the last poll
   */
  watch(signal) {
    this.stop();
    const w = { stopped: false, wake: () => {} };
    this._watch = w;
    w.done = (async () => {
      for (let n = 0; n < this.maxPolls && !w.stopped && !signal?.aborted; n++) {
        try {
          if (!(await this.poll(signal))) return;
        } catch {
          return; // aborted
        }
        if (w.stopped || signal?.aborted) break;
        await new Promise((resolve) => {
          const t = setTimeout(resolve, this.interval);
          w.wake = () => {
            clearTimeout(t);
            resolve();
          };
          signal?.addEventListener('abort', w.wake, { once: true });
        });
      }
      if (signal?.aborted) return;
      try {
        await this.poll(signal); // once at the end
      } catch {
        // aborted
      }
    })();
    return w.done;
  }

  /** Ends the current watch after one last poll; resolves when it is done. */
  stop() {
    const w = this._watch;
    if (!w) return Promise.resolve();
    this._watch = undefined;
    w.stopped = true;
    w.wake();
    return w.done;
  }
}
