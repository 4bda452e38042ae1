// The demo page: pick or drop files; each goes up with fileUploader, with a progress bar,
// pause and resume, the server's final answer and a link to the stored file.
//
// Query parameters preset the form: endpoint (URL of the segment endpoint), files (URL prefix
// of completed files; default /file/ on the endpoint's host), segment (bytes), concurrency,
// retries, retryDelay and maxRetryDelay (ms), protocol (nginx, tus or auto: the default, which
// asks the endpoint with OPTIONS), admin (URL prefix of the admin API of `upspec serve`,
// default /_upspec/ on the endpoint's host; "off" shows nothing). Without endpoint, the page
// takes the one the server names in upspec-config.json beside the page (`upspec serve
// --protocol tus` serves it), else /upload.
//
// Each file's "What the server saw" panel polls the admin API while the upload runs, and once
// at its end: the session's acknowledged ranges and the journal lines of the session. With
// tus, the upload's offset and the journal lines of the upload the client works on (its ID
// from the upload URL the client announces: the one remembered, or the Location of the
// creation POST): the creation POST, the HEADs and the PATCHes.

import { fileUploader, UploadError } from './upspec-uploader.js';
import { ServerView, adminURL, describeHeld, journalCells, journalColumns, uploadIdOf } from './server-view.js';

const params = new URLSearchParams(location.search);
const $ = (sel, root = document) => root.querySelector(sel);

/** What the server says of itself beside the page: {protocol, endpoint}; {} when nothing. */
const config = await fetch('upspec-config.json', { cache: 'no-store' })
  .then((r) => (r.ok ? r.json() : {}))
  .catch(() => ({}));

const endpointInput = $('#endpoint');
const segmentSelect = $('#segment');
const concurrencySelect = $('#concurrency');
if (params.has('endpoint')) endpointInput.value = params.get('endpoint');
else if (typeof config.endpoint === 'string') endpointInput.value = config.endpoint;
if (params.has('segment')) {
  const v = params.get('segment');
  if (![...segmentSelect.options].some((o) => o.value === v)) segmentSelect.add(new Option(`${v} B`, v));
  segmentSelect.value = v;
}
if (params.has('concurrency')) concurrencySelect.value = params.get('concurrency');
const showEndpoint = () => {
  const href = new URL(endpointInput.value, location.href).href;
  for (const el of document.querySelectorAll('.endpoint-shown')) el.textContent = href;
};
// The page speaks of the protocol the server beside it says it serves (nginx when it says
// nothing): on tus there is no range list and one PATCH at a time, so no "At once".
const pageProtocol = (params.get('protocol') ?? config.protocol) === 'tus' ? 'tus' : 'nginx';
for (const el of document.querySelectorAll('[data-protocol]')) el.hidden = el.dataset.protocol !== pageProtocol;
endpointInput.addEventListener('input', showEndpoint);
showEndpoint();

function numberParam(name) {
  return params.has(name) ? Number(params.get(name)) : undefined;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** One file on the page. */
class Row {
  constructor(file) {
    this.file = file;
    this.el = $('#row').content.firstElementChild.cloneNode(true);
    this.el.dataset.name = file.name;
    $('.name', this.el).textContent = file.name;
    $('.size', this.el).textContent = formatBytes(file.size);
    this.bar = $('progress', this.el);
    this.toggle = $('.toggle', this.el);
    this.toggle.addEventListener('click', () => (this.controller ? this.pause() : this.start()));
    $('#list').append(this.el);
    if (file.size === 0) return; // the protocol cannot carry it: add() says so
    const endpoint = new URL(endpointInput.value, location.href);
    this.uploader = fileUploader(file, Number(segmentSelect.value), undefined, {
      endpoint,
      protocol: params.get('protocol') ?? 'auto',
      concurrency: Number(concurrencySelect.value),
      retries: numberParam('retries'),
      retryDelay: numberParam('retryDelay'),
      maxRetryDelay: numberParam('maxRetryDelay'),
      onProgress: (p) => this.show(p.acknowledged),
    });
    const files = params.get('files') ?? new URL('/file/', endpoint).href;
    this.fileURL = new URL(encodeURIComponent(this.uploader.serverName), new URL(files, location.href)).href;
    this.admin = params.get('admin') === 'off' ? undefined : adminURL(endpoint, params.get('admin') ?? undefined);
    this.saw = $('.saw', this.el);
    if (!this.admin) this.saw.hidden = true;
  }

  /**
   * Starts following the file on the server, once the session ID and the protocol are known:
   * nginx, its session; tus, the upload the client announces (onUploadURL), none before.
   */
  async watchServer(signal) {
    if (!this.admin) return;
    const id = await this.uploader.getSessionId();
    this.protocol = await this.uploader.resolveProtocol();
    if (!this.view) {
      this.view = new ServerView(this.admin, undefined, { onChange: (v) => this.showServer(v) });
      const head = $('.saw-journal thead tr', this.saw);
      head.replaceChildren(...journalColumns(this.protocol).map(([cls, text, title]) => {
        const th = document.createElement('th');
        th.className = cls;
        th.textContent = text;
        th.title = title;
        return th;
      }));
      if (this.protocol === 'tus') {
        this.uploader.options.onUploadURL = (url) => this.followUpload(url);
        if (this.uploader.uploadURL) this.followUpload(this.uploader.uploadURL);
      } else {
        this.view.follow(id);
      }
      this.showServer(this.view);
    }
    this.saw.dataset.watch = 'running';
    this.view.watch(signal);
  }

  /** tus: the panel follows the upload at url from now on. */
  followUpload(url) {
    const id = uploadIdOf(url);
    this.el.dataset.upload = id;
    this.view.follow(id);
  }

  /** Draws what the server saw: the note, the ranges as a bar and a list, the journal. */
  showServer(v) {
    const note = $('.saw-note', this.saw);
    const bar = $('.saw-bar', this.saw);
    const list = $('.saw-ranges', this.saw);
    const body = $('.saw-journal tbody', this.saw);
    this.saw.dataset.state = v.absent ? 'absent' : v.session ? v.session.state : 'none';
    if (v.absent) {
      note.textContent = v.absent;
      bar.hidden = list.hidden = true;
      $('.saw-journal', this.saw).hidden = true;
      return;
    }
    const tus = this.protocol === 'tus';
    const notes = [];
    if (v.sessionId === undefined) {
      notes.push('no upload yet: the client creates one with a POST, whose Location names it');
    } else if (tus) {
      notes.push(`upload ${v.sessionId}`);
      if (!v.session) notes.push('the server holds no upload of this ID');
    } else {
      notes.push(`session ${v.sessionId}`);
      if (!v.session) notes.push('the server holds no segment of it yet');
    }
    if (v.previous.length) {
      notes.push(`the client left ${tus ? 'upload' : 'session'} ${v.previous.join(', ')} before it`);
    }
    if (v.dropped) notes.push(`the journal dropped ${v.dropped} older entries`);
    if (v.error) notes.push(`last read failed: ${v.error}`);
    note.textContent = notes.join('; ');
    const s = v.session;
    const spans = [];
    if (s && s.total > 0) {
      for (const [cls, rs] of [['acked', s.acknowledged ?? []], ['in-flight', s.in_flight ?? []]]) {
        for (const r of rs) {
          const span = document.createElement('span');
          span.className = cls;
          span.style.left = `${(100 * r.start) / s.total}%`;
          span.style.width = `${(100 * (r.end - r.start + 1)) / s.total}%`;
          span.title = `${cls === 'acked' ? 'acknowledged' : 'in flight'} ${r.start}-${r.end}`;
          spans.push(span);
        }
      }
    }
    bar.replaceChildren(...spans);
    list.textContent = describeHeld(s, this.protocol);
    body.replaceChildren(...v.journal.map((e) => journalRow(e, this.protocol)));
  }

  set(state, text = state) {
    this.el.dataset.state = state;
    $('.state', this.el).textContent = text;
  }

  show(acknowledged) {
    this.bar.value = acknowledged / this.file.size;
    this.el.dataset.acknowledged = String(acknowledged);
    $('.bytes', this.el).textContent = `${formatBytes(acknowledged)} of ${formatBytes(this.file.size)}`;
  }

  async start() {
    this.controller = new AbortController();
    this.uploader.options.signal = this.controller.signal;
    this.toggle.textContent = 'Pause';
    try {
      this.set('probing', 'asking the server what it holds');
      await this.watchServer(this.controller.signal);
      const status = await this.uploader.fetchStatus();
      this.el.dataset.session = this.uploader.sessionId;
      this.el.dataset.resumedFrom = String(status.acknowledged);
      this.show(status.acknowledged);
      if (!status.completed) this.set('uploading');
      const done = await this.uploader.uploadSegments(status);
      this.show(done.acknowledged);
      this.set('completed', `completed: ${done.httpStatus} ${done.body}`.trim());
      this.toggle.disabled = true;
      const a = $('.link', this.el);
      a.href = done.uploadURL ?? this.fileURL; // tus: the upload's own URL serves its bytes
      a.hidden = false;
    } catch (e) {
      if (e?.name === 'AbortError') {
        this.set('paused');
        this.toggle.textContent = 'Resume';
      } else {
        this.set('error', e instanceof UploadError ? e.message : `error: ${e?.message ?? e}`);
        this.toggle.textContent = 'Retry';
      }
    } finally {
      this.controller = undefined;
      // The last poll, unless the upload was aborted; then the panel says that it is done.
      this.view?.stop().then(() => {
        if (!this.controller) this.saw.dataset.watch = 'ended';
      });
    }
  }

  pause() {
    this.controller?.abort(new DOMException('paused', 'AbortError'));
  }
}

/** One journal line as a table row, in the columns of the protocol. */
function journalRow(e, protocol) {
  const tr = document.createElement('tr');
  tr.dataset.seq = String(e.seq);
  tr.dataset.status = String(e.status);
  tr.className = e.status >= 200 && e.status < 300 ? 'ok' : 'refused';
  const cells = journalCells(e, protocol);
  for (const [cls] of journalColumns(protocol)) {
    const td = document.createElement('td');
    td.className = cls;
    td.textContent = cells[cls];
    tr.append(td);
  }
  return tr;
}

function add(files) {
  for (const f of files) {
    const row = new Row(f);
    if (f.size > 0) {
      row.start();
    } else {
      row.set('error', 'an empty file cannot be uploaded with this protocol');
      row.toggle.disabled = true;
    }
  }
}

const input = $('#files');
input.addEventListener('change', () => {
  add([...input.files]);
  input.value = '';
});
const drop = $('#drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  add([...e.dataTransfer.files]);
});
document.documentElement.dataset.ready = 'true';
