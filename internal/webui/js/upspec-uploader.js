// upspec-uploader: a dependency-free client of the resumable-upload protocol of
// nginx-upload-module (`upload_resumable on`), and of tus 1.0.0 (tus.io) with the same API.
//
// Each segment is one POST with `X-Content-Range: bytes S-E/T`, `Session-ID`,
// `Content-Disposition: attachment; filename="..."` and exactly E-S+1 body bytes. While the
// file is incomplete the server answers 201 and lists every range it holds (`0-5/24,9-15/24`
// or `0-5,9-15/24`); the segment that completes the file gets the backend's answer.
//
// With `protocol: 'tus'` (or `'auto'` and a server whose OPTIONS answer carries Tus-Version or
// Tus-Resumable) the endpoint is a tus creation URL: a POST with Upload-Length creates the
// upload, whose URL is remembered under the session ID (localStorage in a page); each segment
// is a PATCH at the server's Upload-Offset, and a HEAD finds the offset again after a failure,
// a reload or a restart of the server.
//
// Use it as an ES module (`import { fileUploader } from '/js/upspec-uploader.js'`) or from a
// plain `<script type="module" src="/js/upspec-uploader.js">` tag, after which
// `globalThis.fileUploader` and `globalThis.upspec` are defined.

/** Default segment size: 1 MiB. */
export const DEFAULT_SEGMENT_SIZE = 1 << 20;

/**
 * A byte range, inclusive at both ends.
 * @typedef {{start: number, end: number}} ByteRange
 */

/**
 * What the client knows about the file on the server.
 * @typedef {object} UploadStatus
 * @property {boolean} completed true only when every byte is acknowledged and the server gave
 *   its final (non-201 2xx/3xx) answer.
 * @property {number} start start of the first listed range (0 when none).
 * @property {number} end end of the first listed range, inclusive (-1 when none).
 * @property {number} total the file's size.
 * @property {ByteRange[]} ranges every range the server acknowledged, sorted and merged.
 * @property {number} acknowledged how many bytes the ranges hold.
 * @property {number} [httpStatus] the status of the answer this status came from.
 * @property {string} [body] the body of the final answer (e.g. `completed`), when completed.
 * @property {string} [uploadURL] with tus, the upload's URL (its Location), once created.
 */

/**
 * Progress of an upload.
 * @typedef {object} UploadProgress
 * @property {number} acknowledged bytes the server has acknowledged.
 * @property {number} total the file's size.
 * @property {ByteRange[]} ranges the acknowledged ranges.
 * @property {number} inFlight segments being sent.
 */

/**
 * Options of fileUploader; all are optional.
 * @typedef {object} UploaderOptions
 * @property {string|URL} [endpoint='/upload'] the segment endpoint, resolved against the page's
 *   location.
 * @property {number} [concurrency=1] how many non-overlapping segments may be in flight at once.
 * @property {number} [retries=8] how many failures in a row (network errors, timeouts, 5xx,
 *   408, 409, 429, unreadable answers) are retried before the upload stops; a segment that the
 *   server keeps resets the count. It also bounds how often the server may lose acknowledged
 *   bytes without the upload getting further.
 * @property {number} [retryDelay=500] first backoff delay in ms; it doubles on every failure in
 *   a row.
 * @property {number} [maxRetryDelay=30000] cap of the backoff delay in ms.
 * @property {number} [maxRetryAfter=300000] longest Retry-After (ms) the client waits for; a
 *   server asking for more stops the upload with an error.
 * @property {number} [timeout=300000] deadline of one request in ms (0: none).
 * @property {AbortSignal} [signal] aborts the upload: requests in flight are cancelled and the
 *   promise rejects with the signal's reason.
 * @property {(p: UploadProgress) => void} [onProgress] called whenever the acknowledged bytes
 *   change.
 * @property {Record<string,string>} [headers] extra request headers (e.g. Authorization).
 * @property {RequestCredentials} [credentials='same-origin'] the fetch credentials mode.
 * @property {string} [contentType] the segments' Content-Type; default the file's type, or
 *   application/octet-stream.
 * @property {'utf-8'|'ascii'} [fileNameEncoding='utf-8'] how filename= carries a name
 *   that is not ASCII (see encodeContentDisposition).
 * @property {typeof fetch} [fetch] the fetch implementation; default globalThis.fetch.
 * @property {'nginx'|'tus'|'auto'} [protocol='nginx'] the server's protocol: nginx-upload-module's
 *   segments, tus 1.0.0 (endpoint: the creation URL), or 'auto': ask the endpoint with OPTIONS
 *   and speak tus when the answer carries Tus-Version or Tus-Resumable. With tus, segments go
 *   one at a time (concurrency does not apply) and an empty file may be uploaded.
 * @property {UrlStorage} [urlStorage] where tus upload URLs are remembered by session ID;
 *   default the page's localStorage, else the uploader's memory.
 * @property {(url: string) => void} [onUploadURL] with tus, called with the absolute URL of
 *   the upload the client works on whenever it takes up another one than the last it
 *   announced: the one remembered under the session ID, before its first request, and the one
 *   a creating POST made (its Location: the first, or a new one after the server forgot the
 *   previous). The upload's ID, as a tus server's journal names it, is the URL's last path
 *   element. Never called with the nginx protocol.
 */

/**
 * Where the tus client remembers the URL of an upload (a subset of the Storage interface).
 * @typedef {object} UrlStorage
 * @property {(key: string) => string|null} getItem
 * @property {(key: string, value: string) => void} setItem
 * @property {(key: string) => void} removeItem
 */

/** An upload that stopped: a 4xx answer, retries used up, or an answer that breaks the protocol. */
export class UploadError extends Error {
  /**
   * @param {string} message what went wrong, in one line.
   * @param {{status?: number, body?: string, range?: ByteRange, cause?: unknown}} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'UploadError';
    /** HTTP status of the answer that stopped the upload (0 when there was none). */
    this.status = details.status ?? 0;
    /** Body of that answer (the server's reason), clipped. */
    this.body = details.body ?? '';
    /** The segment whose answer stopped the upload. */
    this.range = details.range;
  }
}

// ---------------------------------------------------------------------------------------------
// Range lists

/**
 * Parses a range list in either form, `0-5/24,9-15/24` (the module's) or `0-5,9-15/24`, into
 * sorted, merged ranges. Blanks around items and a trailing newline are accepted.
 * @param {string} text the Range header value or the 201 body.
 * @returns {{total: number, ranges: ByteRange[]}}
 * @throws {Error} when the text is not a range list.
 */
export function parseRangeList(text) {
  const s = String(text).trim();
  if (s === '') throw new Error('empty range list');
  const items = s.split(',').map((x) => x.trim());
  let total = -1;
  const out = [];
  for (let i = 0; i < items.length; i++) {
    const m = /^(\d+)-(\d+)(?:\/(\d+))?$/.exec(items[i]);
    if (!m) throw new Error(`malformed range ${JSON.stringify(items[i])} in ${JSON.stringify(s)}`);
    const start = Number(m[1]);
    const end = Number(m[2]);
    if (m[3] !== undefined) {
      const t = Number(m[3]);
      if (total >= 0 && t !== total) throw new Error(`range list ${JSON.stringify(s)} names two totals`);
      total = t;
    } else if (i === items.length - 1) {
      throw new Error(`range list ${JSON.stringify(s)} has no total`);
    }
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end) {
      throw new Error(`bad range ${JSON.stringify(items[i])}`);
    }
    out.push({ start, end });
  }
  for (const r of out) {
    if (r.end >= total) throw new Error(`range ${r.start}-${r.end} lies beyond the total ${total}`);
  }
  return { total, ranges: normalize(out) };
}

/**
 * Sorts ranges and merges overlapping and adjacent ones.
 * @param {ByteRange[]} list
 * @returns {ByteRange[]}
 */
function normalize(list) {
  const sorted = list.map((r) => ({ start: r.start, end: r.end })).sort((a, b) => a.start - b.start);
  const out = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) {
      last.end = Math.max(last.end, r.end);
    } else {
      out.push(r);
    }
  }
  return out;
}

/** @param {ByteRange[]} a @param {ByteRange[]} b */
function union(a, b) {
  return normalize(a.concat(b));
}

/** Reports whether every byte of `inner` is in `outer` (both normalized). */
function covers(outer, inner) {
  for (const r of inner) {
    if (!outer.some((o) => o.start <= r.start && r.end <= o.end)) return false;
  }
  return true;
}

/** Bytes held by normalized ranges. */
function count(list) {
  return list.reduce((n, r) => n + r.end - r.start + 1, 0);
}

/**
 * The gaps of `have` (normalized) within 0..total-1.
 * @returns {ByteRange[]}
 */
export function missingRanges(have, total) {
  const out = [];
  let next = 0;
  for (const r of normalize(have)) {
    if (r.start > next) out.push({ start: next, end: Math.min(r.start, total) - 1 });
    next = Math.max(next, r.end + 1);
  }
  if (next < total) out.push({ start: next, end: total - 1 });
  return out;
}

/**
 * Splits a gap into segments of at most `size` bytes that never cross a multiple of `size`
 * (so that the segments of one file line up whatever the gaps), and none of one byte unless
 * the gap is one byte long (a 1-byte segment breaks the state file of module releases before
 * June 2020). Sizes below 2 count as 2.
 * @param {ByteRange} gap
 * @param {number} size
 * @returns {ByteRange[]}
 */
export function splitGap(gap, size) {
  const step = Math.max(2, size);
  const out = [];
  for (let s = gap.start; s <= gap.end; ) {
    let e = Math.min(gap.end, (Math.floor(s / step) + 1) * step - 1);
    if (e === s && e < gap.end) e = s + 1; // a 1-byte piece before a boundary takes one more byte
    out.push({ start: s, end: e });
    s = e + 1;
  }
  const last = out[out.length - 1];
  if (out.length > 1 && last.start === last.end) {
    const prev = out[out.length - 2];
    if (prev.end - prev.start + 1 > 2) {
      prev.end -= 1; // the tail takes one byte of the segment before it
      last.start -= 1;
    } else {
      prev.end = last.end; // segments of 2 bytes: the last one takes 3
      out.pop();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Headers

/** Characters a quoted filename cannot carry, or that a server would strip as a path. */
const UNSAFE_IN_QUOTES = /[\u0000-\u001f\u007f"\\/]/g;

/**
 * Builds the Content-Disposition of a segment.
 *
 * The real module and the reference server read only the first `filename=` parameter, byte
 * for byte (quoted: up to the next `"`; no escapes) and strip everything up to the last `/` or
 * `\`. So the value is `attachment; filename="NAME"` where NAME is the file name with `"`,
 * `\`, `/` and control characters replaced by `_`. A name that is not ASCII is carried as its
 * UTF-8 bytes (encoding 'utf-8', the default: the server then stores the true name), or, with
 * encoding 'ascii', percent-encoded (`é` becomes `%C3%A9`: plain ASCII, for proxies that refuse
 * other bytes). Either way a second parameter, `filename*=UTF-8''...` (RFC 5987/6266), carries
 * the exact name for servers that read it.
 *
 * @param {string} name the file name.
 * @param {'utf-8'|'ascii'} [encoding='utf-8']
 * @returns {{header: string, serverName: string}} the header value (a ByteString: one char per
 *   byte) and the name a server that reads filename= stores.
 */
export function encodeContentDisposition(name, encoding = 'utf-8') {
  const safe = String(name).replace(UNSAFE_IN_QUOTES, '_') || '_';
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\u0020-\u007e]*$/.test(safe);
  let header = 'attachment; filename="';
  let serverName = safe;
  if (ascii) {
    header += safe + '"';
  } else if (encoding === 'ascii') {
    serverName = percentEncodeNonASCII(safe);
    header += serverName + '"';
  } else {
    header += utf8ByteString(safe) + '"';
  }
  if (!ascii || safe !== name) {
    header += "; filename*=UTF-8''" + encodeRFC5987(String(name));
  }
  return { header, serverName };
}

/** One char per UTF-8 byte, so that fetch sends the bytes unchanged. */
function utf8ByteString(s) {
  let out = '';
  for (const b of new TextEncoder().encode(s)) out += String.fromCharCode(b);
  return out;
}

function percentEncodeNonASCII(s) {
  let out = '';
  for (const ch of s) {
    if (ch.charCodeAt(0) < 0x80) {
      out += ch;
    } else {
      for (const b of new TextEncoder().encode(ch)) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

/** RFC 5987 value-chars: attr-char stays, everything else is percent-encoded UTF-8. */
function encodeRFC5987(s) {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * Parses a Retry-After value (seconds or an HTTP date) into milliseconds from `now`.
 * @returns {number|undefined}
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null) return undefined;
  const v = String(value).trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

// ---------------------------------------------------------------------------------------------
// Session IDs

const SHA256_K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * SHA-256 of `data`, computed in JavaScript: the digest used where crypto.subtle is missing
 * (pages served over plain http from a host other than localhost).
 * @param {Uint8Array} data
 * @returns {Uint8Array} 32 bytes.
 */
export function sha256(data) {
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const bitLen = data.length * 8;
  const padded = new Uint8Array(((data.length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000));
  dv.setUint32(padded.length - 4, bitLen >>> 0);
  const w = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15];
      const b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + SHA256_K[i] + w[i]) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const odv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) odv.setUint32(i * 4, h[i]);
  return out;
}

/** Files up to this size are digested whole; larger ones are sampled. */
const SAMPLE_WHOLE = 1 << 20;
/** Number and size of the samples of a larger file (first and last included). */
const SAMPLE_COUNT = 16;
const SAMPLE_SIZE = 64 << 10;

/**
 * Derives the default session ID of a file from its name, size, lastModified and content
 * (the whole file up to 1 MiB, else 16 samples of 64 KiB spread over it, first and last
 * included): `up` followed by 39 decimal digits of a SHA-256. Two different files of one name
 * and size get different IDs; the same file picked again gets the same ID, so its upload
 * resumes. The ID uses only digits after its prefix, so a module whose stores have hashed
 * sub-directories finds them (create 0-9). crypto.subtle is used where the page is a secure
 * context, the built-in sha256 elsewhere; both give the same ID.
 *
 * @param {Blob & {name?: string, lastModified?: number}} file
 * @param {{builtinDigest?: boolean}} [opts] builtinDigest forces the built-in digest.
 * @returns {Promise<string>}
 */
export async function deriveSessionId(file, opts = {}) {
  const enc = new TextEncoder();
  const head = enc.encode(
    `upspec-session-v1\n${file.name ?? ''}\n${file.size}\n${file.lastModified ?? 0}\n`,
  );
  const parts = [head];
  if (file.size <= SAMPLE_WHOLE) {
    parts.push(new Uint8Array(await file.arrayBuffer()));
  } else {
    const span = file.size - SAMPLE_SIZE;
    for (let i = 0; i < SAMPLE_COUNT; i++) {
      const at = Math.floor((span * i) / (SAMPLE_COUNT - 1));
      parts.push(new Uint8Array(await file.slice(at, at + SAMPLE_SIZE).arrayBuffer()));
    }
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  let digest;
  const subtle = globalThis.crypto?.subtle;
  if (subtle && !opts.builtinDigest) {
    digest = new Uint8Array(await subtle.digest('SHA-256', all));
  } else {
    digest = sha256(all);
  }
  let n = 0n;
  for (let i = 0; i < 16; i++) n = (n << 8n) | BigInt(digest[i]);
  return 'up' + n.toString(10).padStart(39, '0');
}

// ---------------------------------------------------------------------------------------------
// The uploader

/** How many bytes of an error answer a message repeats. */
const MAX_BODY_QUOTE = 200;

/** Statuses after which the client waits and tries again. */
function retryable(status) {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Creates an uploader for one file.
 *
 * ```js
 * import { fileUploader } from '/js/upspec-uploader.js';
 * const up = fileUploader(file, 1 << 20, undefined, { concurrency: 2, onProgress: (p) => bar.value = p.acknowledged / p.total });
 * const status = await up.uploadSegments(await up.fetchStatus(), (s) => console.log(s.ranges));
 * // status.completed === true; status.body is the backend's answer, e.g. "completed"
 * ```
 *
 * @param {Blob & {name?: string, lastModified?: number}} file the file (a File, or a Blob with a
 *   name property).
 * @param {number} [segmentSize=DEFAULT_SEGMENT_SIZE] largest segment in bytes.
 * @param {string} [sessionId] the session ID ([A-Za-z0-9_-], up to 249 characters); default
 *   deriveSessionId(file).
 * @param {UploaderOptions} [options]
 * @returns {Uploader}
 */
export function fileUploader(file, segmentSize = DEFAULT_SEGMENT_SIZE, sessionId = undefined, options = {}) {
  return new Uploader(file, segmentSize, sessionId, options);
}

/** The uploader of one file; made by fileUploader. */
export class Uploader {
  /**
   * @param {Blob & {name?: string, lastModified?: number}} file
   * @param {number} segmentSize
   * @param {string|undefined} sessionId
   * @param {UploaderOptions} options
   */
  constructor(file, segmentSize, sessionId, options) {
    if (!file || typeof file.slice !== 'function' || typeof file.size !== 'number') {
      throw new TypeError('fileUploader: file must be a File or Blob');
    }
    const o = options ?? {};
    const protocol = o.protocol ?? 'nginx';
    if (!['nginx', 'tus', 'auto'].includes(protocol)) {
      throw new TypeError(`fileUploader: protocol must be 'nginx', 'tus' or 'auto', not ${JSON.stringify(protocol)}`);
    }
    if (file.size === 0 && protocol !== 'tus') throw new TypeError('fileUploader: the protocol cannot carry an empty file');
    const size = segmentSize ?? DEFAULT_SEGMENT_SIZE;
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new TypeError(`fileUploader: segmentSize must be a positive integer, not ${segmentSize}`);
    }
    if (sessionId != null && !/^[A-Za-z0-9_-]{1,249}$/.test(sessionId)) {
      throw new TypeError(`fileUploader: session ID ${JSON.stringify(sessionId)} must match [A-Za-z0-9_-]{1,249}`);
    }
    /** The file being uploaded. */
    this.file = file;
    /** The largest segment in bytes. */
    this.segmentSize = size;
    /** The file's size. */
    this.total = file.size;
    /**
     * The options with their defaults. `signal`, `onProgress` and `onUploadURL` may be replaced
     * between calls (the demo page gives every resume a new AbortSignal).
     */
    this.options = {
      concurrency: Math.max(1, Math.floor(o.concurrency ?? 1)),
      retries: o.retries ?? 8,
      retryDelay: o.retryDelay ?? 500,
      maxRetryDelay: o.maxRetryDelay ?? 30000,
      maxRetryAfter: o.maxRetryAfter ?? 300000,
      timeout: o.timeout ?? 300000,
      signal: o.signal,
      onProgress: o.onProgress,
      headers: o.headers ?? {},
      credentials: o.credentials ?? 'same-origin',
      fetch: o.fetch ?? globalThis.fetch?.bind(globalThis),
      onUploadURL: o.onUploadURL,
    };
    if (typeof this.options.fetch !== 'function') throw new TypeError('fileUploader: no fetch available');
    /** The segment endpoint, absolute. */
    this.endpoint = resolveEndpoint(o.endpoint ?? '/upload');
    const type = o.contentType ?? file.type;
    this.contentType = type && !/^multipart\//i.test(type) ? type : 'application/octet-stream';
    const cd = encodeContentDisposition(file.name ?? 'blob', o.fileNameEncoding ?? 'utf-8');
    this.disposition = cd.header;
    /** The name a server that reads filename= stores the file under (e.g. /file/<serverName>). */
    this.serverName = cd.serverName;
    this._sessionId = sessionId ?? undefined;
    /** @type {'nginx'|'tus'|'auto'} the protocol as given; `protocol` is the one found. */
    this._protocol = protocol;
    this._urls = o.urlStorage ?? defaultUrlStorage();
    /** The upload URL last given to onUploadURL. */
    this._announced = undefined;
  }

  /**
   * With tus, the absolute URL of the file's upload as the client knows it now: remembered
   * under the session ID (urlStorage) from an earlier upload of the same file, or made by a
   * creating POST; undefined when there is none yet, before the session ID is known, and with
   * the nginx protocol.
   * @returns {string|undefined}
   */
  get uploadURL() {
    if (this.protocol !== 'tus' || this._sessionId === undefined) return undefined;
    return this._urls.getItem(this._tusKey()) ?? undefined;
  }

  /** The urlStorage key of the file's tus upload URL. */
  _tusKey() {
    return `upspec-tus:${this.endpoint}:${this._sessionId}`;
  }

  /** Gives url to onUploadURL unless it was the last one given. */
  _announce(url) {
    if (url === this._announced) return;
    this._announced = url;
    this.options.onUploadURL?.(url);
  }

  /**
   * The protocol spoken: 'nginx' or 'tus'; with 'auto', undefined until the first request.
   * @returns {'nginx'|'tus'|undefined}
   */
  get protocol() {
    return this._protocol === 'auto' ? undefined : this._protocol;
  }

  /**
   * Resolves 'auto' with an OPTIONS request to the endpoint (retried like any request).
   * @returns {Promise<'nginx'|'tus'>}
   */
  async resolveProtocol() {
    if (this._protocol === 'auto') this._protocol = await new TusRun(this).detect();
    return this._protocol;
  }

  /**
   * The session ID: the caller's, or the one derived from the file.
   * @returns {Promise<string>}
   */
  async getSessionId() {
    if (this._sessionId === undefined) this._sessionId = await deriveSessionId(this.file);
    return this._sessionId;
  }

  /** The session ID once known (after getSessionId, fetchStatus or uploadSegments), else undefined. */
  get sessionId() {
    return this._sessionId;
  }

  /**
   * Asks the server what it holds, with a 2-byte probe (bytes 0-1; 0-0 for a 1-byte file)
   * that sends the file's first bytes again. Network errors, 5xx, 408, 409 and 429 are
   * retried with backoff.
   * @returns {Promise<UploadStatus>}
   */
  async fetchStatus() {
    await this.getSessionId();
    if ((await this.resolveProtocol()) === 'tus') return new TusRun(this).fetchStatus();
    const run = new Run(this, undefined);
    try {
      return await run.probeUntilAnswered();
    } finally {
      run.close();
    }
  }

  /**
   * Uploads every byte the status does not list, in segments of at most segmentSize bytes
   * (up to `concurrency` at once, never overlapping), following the server's list after every
   * answer: a gap anywhere is filled, and bytes the server no longer lists (a lost session, a
   * restart) are sent again. Resolves when every byte is acknowledged and the server gave
   * its final answer; never on a 201.
   * @param {UploadStatus} [status] from fetchStatus; when missing, fetchStatus is called first.
   * @param {(s: UploadStatus) => void} [onSegmentComplete] called after every acknowledged segment.
   * @returns {Promise<UploadStatus>}
   * @throws {UploadError} on a 4xx other than 408, 409 and 429, when retries are used up, or
   *   when the server's list names another total (the session ID is in use by another file).
   * @throws {DOMException} the signal's reason when aborted.
   */
  async uploadSegments(status, onSegmentComplete) {
    await this.getSessionId();
    if ((await this.resolveProtocol()) === 'tus') {
      if (status?.completed) return status;
      return new TusRun(this, onSegmentComplete).upload();
    }
    if (!status) status = await this.fetchStatus();
    if (status.completed) return status;
    const run = new Run(this, onSegmentComplete);
    try {
      run.adopt(status.ranges ?? []);
      return await run.upload();
    } finally {
      run.close();
    }
  }

  /**
   * fetchStatus, then uploadSegments.
   * @param {(s: UploadStatus) => void} [onSegmentComplete]
   * @returns {Promise<UploadStatus>}
   */
  async upload(onSegmentComplete) {
    return this.uploadSegments(await this.fetchStatus(), onSegmentComplete);
  }
}

// ---------------------------------------------------------------------------------------------
// tus 1.0.0

/** The tus version the client speaks. */
const TUS_VERSION = '1.0.0';

/** A UrlStorage in the page's localStorage when there is one, else in memory. */
function defaultUrlStorage() {
  try {
    const ls = globalThis.localStorage;
    if (ls) {
      const k = 'upspec-probe';
      ls.setItem(k, k);
      ls.removeItem(k);
      return ls;
    }
  } catch {
    // no usable localStorage (a sandboxed frame, Node): memory
  }
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}

/** Base64 of a string's UTF-8 bytes, as Upload-Metadata carries values. */
function base64UTF8(s) {
  return btoa(utf8ByteString(s));
}

/** Statuses of tus after which the client asks HEAD for the offset and goes on. */
function tusRetryable(status) {
  return status === 409 || status === 423 || retryable(status);
}

/**
 * One call of fetchStatus or uploadSegments with tus: the upload URL, the offset and the retry
 * state.
 */
class TusRun {
  /** @param {Uploader} up */
  constructor(up, onSegmentComplete) {
    this.up = up;
    this.opts = up.options;
    this.total = up.total;
    this.onSegmentComplete = onSegmentComplete;
    this.offset = 0;
    this.failures = 0;
    this.losses = 0;
    this.key = up._tusKey();
  }

  /** The upload URL remembered for the session, or null. */
  get url() {
    return this.up._urls.getItem(this.key);
  }

  status(extra = {}) {
    return {
      completed: false,
      start: 0,
      end: this.offset - 1,
      total: this.total,
      ranges: this.offset > 0 ? [{ start: 0, end: this.offset - 1 }] : [],
      acknowledged: this.offset,
      ...(this.url === null ? {} : { uploadURL: this.url }),
      ...extra,
    };
  }

  progress() {
    const cb = this.opts.onProgress;
    if (cb) cb({ acknowledged: this.offset, total: this.total, ranges: this.status().ranges, inFlight: 0 });
  }

  /** OPTIONS to the endpoint: 'tus' when the answer names a tus version. */
  async detect() {
    for (;;) {
      const res = await this.request('OPTIONS', this.up.endpoint, {});
      if (!res.error && !retryable(res.status)) {
        return res.headers.has('Tus-Version') || res.headers.has('Tus-Resumable') ? 'tus' : 'nginx';
      }
      await this.failed(res, 'OPTIONS');
    }
  }

  /** HEAD of the remembered upload; without one, or when the server forgot it, nothing. */
  async fetchStatus() {
    await this.head();
    if (this.url !== null && this.offset === this.total) return this.status({ completed: true, httpStatus: 200, body: '' });
    return this.status({ httpStatus: this.url === null ? undefined : 200 });
  }

  /**
   * Sets the offset from a HEAD of the upload (retried); forgets an upload the server no
   * longer has (404, 410, 403).
   */
  async head() {
    for (;;) {
      const url = this.url;
      if (url === null) {
        this.offset = 0;
        return;
      }
      this.up._announce(url);
      const res = await this.request('HEAD', url, { 'Cache-Control': 'no-store' });
      if (res.error || tusRetryable(res.status)) {
        await this.failed(res, 'HEAD');
        continue;
      }
      if (res.status === 404 || res.status === 410 || res.status === 403) {
        this.up._urls.removeItem(this.key);
        this.offset = 0;
        return;
      }
      const offset = Number(res.headers.get('Upload-Offset'));
      if (res.status < 200 || res.status >= 300 || !Number.isSafeInteger(offset) || offset < 0 || offset > this.total) {
        throw new UploadError(`the server answered ${res.status} to HEAD of ${url} with Upload-Offset ${JSON.stringify(res.headers.get('Upload-Offset'))}`, { status: res.status, body: clip(res.body) });
      }
      const length = res.headers.get('Upload-Length');
      if (length !== null && Number(length) !== this.total) {
        this.up._urls.removeItem(this.key); // another file's upload
        this.offset = 0;
        return;
      }
      this.offset = offset;
      return;
    }
  }

  /** Creates the upload (POST with Upload-Length and the file's name and type). */
  async create() {
    const meta = [`filename ${base64UTF8(this.up.file.name ?? 'blob')}`];
    if (this.up.contentType) meta.push(`filetype ${base64UTF8(this.up.contentType)}`);
    for (;;) {
      const res = await this.request('POST', this.up.endpoint, { 'Upload-Length': String(this.total), 'Upload-Metadata': meta.join(',') });
      if (res.error || retryable(res.status)) {
        await this.failed(res, 'POST');
        continue;
      }
      const loc = res.headers.get('Location');
      if (res.status !== 201 || !loc) {
        throw new UploadError(`the server answered ${res.status} to the creating POST${loc ? '' : ' without Location'}: ${clip(res.body) || '(no reason given)'}`, { status: res.status, body: clip(res.body) });
      }
      const url = new URL(loc, this.up.endpoint).href;
      this.up._urls.setItem(this.key, url);
      this.up._announce(url);
      this.offset = 0;
      this.failures = 0;
      return;
    }
  }

  /** The upload loop: create or find the upload, then PATCH from its offset to the end. */
  async upload() {
    await this.head();
    if (this.url === null) await this.create();
    this.progress();
    for (;;) {
      if (this.offset === this.total) {
        return this.status({ completed: true, httpStatus: this.lastStatus ?? 200, body: '' });
      }
      const end = Math.min(this.total, this.offset + this.up.segmentSize);
      const range = { start: this.offset, end: end - 1 };
      const res = await this.request('PATCH', this.url, { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(this.offset) }, this.up.file.slice(this.offset, end));
      if (!res.error && (res.status === 404 || res.status === 410)) {
        // The server forgot the upload: start a new one, within the retries.
        if (++this.losses > this.opts.retries) {
          throw new UploadError(`the server lost the upload ${this.losses} times`, { status: res.status, body: clip(res.body), range });
        }
        this.up._urls.removeItem(this.key);
        await this.create();
        this.progress();
        continue;
      }
      if (res.error || tusRetryable(res.status)) {
        await this.failed(res, 'PATCH', range);
        await this.head();
        if (this.url === null) await this.create();
        this.progress();
        continue;
      }
      const offset = Number(res.headers.get('Upload-Offset'));
      if (res.status !== 204 && res.status !== 200) {
        throw new UploadError(`the server answered ${res.status} to bytes ${range.start}-${range.end}/${this.total}: ${clip(res.body) || '(no reason given)'}`, { status: res.status, body: clip(res.body), range });
      }
      if (!Number.isSafeInteger(offset) || offset < this.offset || offset > end) {
        // An offset that went down or beyond what was sent: the HEAD is the truth.
        await this.failed({ status: res.status, body: `Upload-Offset ${res.headers.get('Upload-Offset')} after bytes ${range.start}-${range.end}` }, 'PATCH', range);
        await this.head();
        continue;
      }
      if (offset > this.offset) this.failures = 0;
      this.offset = offset;
      this.lastStatus = res.status;
      this.progress();
      this.onSegmentComplete?.(this.status({ httpStatus: res.status }));
    }
  }

  /** Counts a failure in a row (throws when the retries are used up) and waits the backoff. */
  async failed(res, what, range) {
    this.failures++;
    if (this.failures > this.opts.retries) {
      const cause = res.error ? String(res.error.message ?? res.error) : `${res.status} ${clip(res.body)}`.trim();
      throw new UploadError(`giving up after ${this.failures} failures in a row; the last (${what}): ${cause}`, { status: res.status, body: clip(res.body), range, cause: res.error });
    }
    let ms = Math.min(this.opts.maxRetryDelay, this.opts.retryDelay * 2 ** (this.failures - 1));
    const after = res.headers ? parseRetryAfter(res.headers.get('Retry-After')) : undefined;
    if (after !== undefined) {
      if (after > this.opts.maxRetryAfter) {
        throw new UploadError(`the server asks to retry after ${Math.round(after / 1000)} s, beyond maxRetryAfter`, { status: res.status, body: clip(res.body) });
      }
      ms = after;
    }
    await sleep(ms, this.opts.signal);
  }

  /**
   * One request with Tus-Resumable (but OPTIONS), the timeout and the signal. Never rejects
   * but for an abort: failures are in the result.
   * @returns {Promise<{status?: number, headers?: Headers, body?: string, error?: unknown}>}
   */
  async request(method, url, headers, body) {
    const outer = this.opts.signal;
    if (outer?.aborted) throw outer.reason ?? new DOMException('aborted', 'AbortError');
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(outer.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    let timer;
    if (this.opts.timeout > 0) timer = setTimeout(() => ctl.abort(new DOMException('request timed out', 'TimeoutError')), this.opts.timeout);
    try {
      const h = { ...this.opts.headers, ...headers };
      if (method !== 'OPTIONS') h['Tus-Resumable'] = TUS_VERSION;
      const res = await this.opts.fetch(url, { method, headers: h, body, credentials: this.opts.credentials, cache: 'no-store', signal: ctl.signal });
      const text = method === 'HEAD' ? '' : await res.text();
      return { status: res.status, headers: res.headers, body: text };
    } catch (error) {
      if (outer?.aborted) throw outer.reason ?? new DOMException('aborted', 'AbortError');
      return { error };
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }
}

function resolveEndpoint(endpoint) {
  const base = globalThis.location?.href;
  try {
    return new URL(String(endpoint), base).href;
  } catch {
    throw new TypeError(`fileUploader: endpoint ${JSON.stringify(String(endpoint))} is not a URL (outside a page, give an absolute one)`);
  }
}

/**
 * One call of fetchStatus or uploadSegments: the model, the requests in flight and the
 * retry state.
 */
class Run {
  /** @param {Uploader} up */
  constructor(up, onSegmentComplete) {
    this.up = up;
    this.opts = up.options;
    this.total = up.total;
    this.onSegmentComplete = onSegmentComplete;
    /** @type {ByteRange[]} */
    this.have = [];
    /** @type {Set<{range: ByteRange, knownAtStart: ByteRange[], result: any, done: Promise<any>}>} */
    this.inFlight = new Set();
    this.failures = 0;
    /** Losses of acknowledged bytes since the model last reached a new maximum, best. */
    this.losses = 0;
    this.best = 0;
    /** The final answer once a non-201 positive answer came. */
    this.final = undefined;
    this.controller = new AbortController();
    const outer = this.opts.signal;
    this.onAbort = () => this.controller.abort(outer.reason);
    if (outer) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else outer.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  close() {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (!this.controller.signal.aborted) this.controller.abort(new DOMException('upload ended', 'AbortError'));
  }

  throwIfAborted() {
    const s = this.opts.signal;
    if (s?.aborted) throw s.reason ?? new DOMException('aborted', 'AbortError');
  }

  adopt(ranges) {
    this.have = normalize(ranges.filter((r) => r.end < this.total));
  }

  status(extra = {}) {
    const first = this.have[0];
    return {
      completed: false,
      start: first ? first.start : 0,
      end: first ? first.end : -1,
      total: this.total,
      ranges: this.have.map((r) => ({ start: r.start, end: r.end })),
      acknowledged: count(this.have),
      ...extra,
    };
  }

  progress() {
    const cb = this.opts.onProgress;
    if (cb) cb({ acknowledged: count(this.have), total: this.total, ranges: this.status().ranges, inFlight: this.inFlight.size });
  }

  probeRange() {
    return { start: 0, end: Math.min(1, this.total - 1) };
  }

  /** Sends the probe until an answer other than a retryable failure comes. */
  async probeUntilAnswered() {
    const st = await this.probe(undefined);
    if (st.kind === 'final' && covers(this.have, [{ start: 0, end: this.total - 1 }])) {
      return this.status({ completed: true, httpStatus: this.final.status, body: this.final.body });
    }
    // A positive answer to the probe while bytes are missing is no completion: the status says
    // what the client knows, and uploadSegments sends the rest.
    return this.status({ httpStatus: st.status });
  }

  /**
   * Sends the probe (after waiting the backoff of `failure`, when given) until it gets an
   * answer that is not a retryable failure; the answer updates the model.
   */
  async probe(failure) {
    let st = failure;
    for (;;) {
      if (st) await this.backoff(st);
      this.throwIfAborted();
      const res = await this.send(this.probeRange());
      st = this.judge(res, this.have);
      if (st.kind !== 'retry') return st;
      this.fail(st);
    }
  }

  /** The upload loop. */
  async upload() {
    const whole = [{ start: 0, end: this.total - 1 }];
    let allListed = 0;
    for (;;) {
      this.throwIfAborted();
      const complete = covers(this.have, whole);
      if (complete && this.inFlight.size === 0) {
        if (this.final) {
          return this.status({ completed: true, httpStatus: this.final.status, body: this.final.body });
        }
        // Every byte is listed but no final answer came (a 201 listed the whole file): send
        // the probe again, whose answer is the final one on a server that repeats completions,
        // or a shorter list on one that started over.
        if (++allListed > this.opts.retries) {
          throw new UploadError('the server lists every byte but never gave its final answer', { range: this.probeRange() });
        }
        await this.probe(undefined);
        continue;
      }
      if (!complete && this.inFlight.size === 0) this.final = undefined; // a success while bytes are missing is false
      this.fill();
      const flight = await Promise.race([...this.inFlight].map((f) => f.done));
      this.inFlight.delete(flight);
      const st = this.judge(flight.result, flight.knownAtStart);
      if (st.kind === 'retry') {
        this.fail(st);
        // Let the other requests settle, wait, and find out what the server holds.
        await this.drain();
        await this.probe(st);
      }
    }
  }

  /** Starts segments of the missing bytes until `concurrency` are in flight. */
  fill() {
    const busy = [...this.inFlight].map((f) => f.range);
    const gaps = missingRanges(union(this.have, busy), this.total);
    for (const gap of gaps) {
      for (const seg of splitGap(gap, this.up.segmentSize)) {
        if (this.inFlight.size >= this.opts.concurrency) return;
        const f = { range: seg, knownAtStart: this.have, result: undefined, done: undefined };
        f.done = this.send(seg).then((r) => {
          f.result = r;
          return f;
        });
        this.inFlight.add(f);
      }
    }
  }

  /** Waits for every request in flight and takes their answers into the model. */
  async drain() {
    while (this.inFlight.size > 0) {
      const flight = await Promise.race([...this.inFlight].map((f) => f.done));
      this.inFlight.delete(flight);
      this.judge(flight.result, flight.knownAtStart);
    }
  }

  /**
   * Takes one answer into the model. knownAtStart is the model when the request went out.
   * @returns {{kind: 'ok'|'final'|'retry', status?: number, body?: string, range?: ByteRange, retryAfter?: number, cause?: unknown}}
   * @throws {UploadError} on an answer that stops the upload.
   */
  judge(res, knownAtStart) {
    if (res.aborted) this.throwIfAborted();
    const range = res.range;
    if (res.error) return { kind: 'retry', range, cause: res.error };
    const { status, body } = res;
    if (status === 201) {
      let parsed;
      try {
        parsed = parseRangeList(res.list);
      } catch (e) {
        return { kind: 'retry', status, body, range, cause: e };
      }
      if (parsed.total !== this.total) {
        throw new UploadError(
          `session ${this.up.sessionId} belongs to a file of ${parsed.total} bytes, not ${this.total}: choose another session ID`,
          { status, body: clip(body), range },
        );
      }
      if (!covers(parsed.ranges, [range])) {
        // A 201 that does not list the segment it answers: the server did not keep it.
        this.adopt(covers(parsed.ranges, knownAtStart) ? union(this.have, parsed.ranges) : parsed.ranges);
        this.progress();
        return { kind: 'retry', status, body, range, cause: new Error(`the 201 to bytes ${range.start}-${range.end} does not list them`) };
      }
      if (covers(parsed.ranges, knownAtStart)) {
        this.adopt(union(this.have, parsed.ranges));
      } else {
        // The server no longer lists bytes it had acknowledged before this request went out
        // (a lost session, a restart without its state): its list is the truth now.
        this.adopt(parsed.ranges);
        if (++this.losses > this.opts.retries) {
          throw new UploadError(`the server lost acknowledged bytes ${this.losses} times without the upload getting further`, { status, body: clip(body), range });
        }
      }
      if (count(this.have) > this.best) {
        this.best = count(this.have);
        this.losses = 0;
      }
      const probe = this.probeRange();
      if (range.start !== probe.start || range.end !== probe.end) this.failures = 0; // a segment was kept
      this.progress();
      this.onSegmentComplete?.(this.status({ httpStatus: status }));
      return { kind: 'ok', status };
    }
    if ((status >= 200 && status < 400) || res.redirected) {
      // The server's final answer; it completes the upload only once every byte is known.
      this.adopt(union(this.have, [range]));
      this.final = { status, body };
      this.failures = 0;
      this.progress();
      this.onSegmentComplete?.(this.status({ httpStatus: status }));
      return { kind: 'final', status };
    }
    if (retryable(status)) return { kind: 'retry', retryAfter: res.retryAfter, status, body, range };
    throw new UploadError(`the server answered ${status} to bytes ${range.start}-${range.end}/${this.total}: ${clip(body) || '(no reason given)'}`, {
      status,
      body: clip(body),
      range,
    });
  }

  /** Counts a failure in a row; throws when the retries are used up. */
  fail(st) {
    this.failures++;
    if (this.failures > this.opts.retries) {
      const what = st.cause ? String(st.cause.message ?? st.cause) : st.status ? `${st.status} ${clip(st.body)}`.trim() : 'network error';
      throw new UploadError(`giving up after ${this.failures} failures in a row; the last: ${what}`, {
        status: st.status,
        body: clip(st.body),
        range: st.range,
        cause: st.cause,
      });
    }
  }

  /** Waits the backoff delay of the current failure count, or the server's Retry-After. */
  async backoff(st) {
    let ms = Math.min(this.opts.maxRetryDelay, this.opts.retryDelay * 2 ** Math.max(0, this.failures - 1));
    if (st.retryAfter !== undefined) {
      if (st.retryAfter > this.opts.maxRetryAfter) {
        throw new UploadError(`the server asks to retry after ${Math.round(st.retryAfter / 1000)} s, beyond maxRetryAfter`, { status: st.status, body: clip(st.body) });
      }
      ms = st.retryAfter;
    }
    await sleep(ms, this.opts.signal);
  }

  /**
   * Sends one segment and reads its answer. Never rejects: failures are in the result.
   * @returns {Promise<{range: ByteRange, status?: number, body?: string, list?: string, retryAfter?: number, error?: unknown, aborted?: boolean, redirected?: boolean}>}
   */
  async send(range) {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    this.controller.signal.addEventListener('abort', onAbort, { once: true });
    let timer;
    if (this.opts.timeout > 0) timer = setTimeout(() => ctl.abort(new DOMException('request timed out', 'TimeoutError')), this.opts.timeout);
    try {
      const headers = {
        ...this.opts.headers,
        'Content-Type': this.up.contentType,
        'Content-Disposition': this.up.disposition,
        'X-Content-Range': `bytes ${range.start}-${range.end}/${this.total}`,
        'Session-ID': this.up.sessionId,
      };
      const res = await this.opts.fetch(this.up.endpoint, {
        method: 'POST',
        headers,
        body: this.up.file.slice(range.start, range.end + 1),
        credentials: this.opts.credentials,
        redirect: 'manual',
        cache: 'no-store',
        signal: ctl.signal,
      });
      const body = await res.text();
      const list = res.status === 201 ? res.headers.get('Range') ?? body : undefined;
      return {
        range,
        status: res.status,
        body,
        list,
        retryAfter: parseRetryAfter(res.headers.get('Retry-After')),
        redirected: res.type === 'opaqueredirect',
      };
    } catch (error) {
      return { range, error, aborted: this.controller.signal.aborted };
    } finally {
      clearTimeout(timer);
      this.controller.signal.removeEventListener('abort', onAbort);
    }
  }
}

function clip(s) {
  const t = String(s ?? '').trim().replace(/\s+/g, ' ');
  return t.length > MAX_BODY_QUOTE ? t.slice(0, MAX_BODY_QUOTE) + '...' : t;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

if (typeof window !== 'undefined') {
  globalThis.upspec = { fileUploader, UploadError, deriveSessionId, parseRangeList, encodeContentDisposition };
  if (globalThis.fileUploader === undefined) globalThis.fileUploader = fileUploader;
}
