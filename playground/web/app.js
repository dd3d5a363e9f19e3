// The playground page: one chat per persona, fed by one Server-Sent Events
// stream of every chat, so another persona's messages arrive while you act.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { personas: [], places: [], chats: {}, current: null, recorder: null };

function chat(id) {
  if (!state.chats[id]) state.chats[id] = { order: [], msgs: {}, keyboard: null, unread: 0 };
  return state.chats[id];
}

function persona() { return state.personas.find((p) => p.key === state.current); }

async function post(path, body) {
  const p = persona();
  const opts = { method: 'POST' };
  if (body instanceof FormData) opts.body = body;
  else { opts.body = JSON.stringify(body || {}); opts.headers = { 'Content-Type': 'application/json' }; }
  const r = await fetch('/api/' + p.key + '/' + path, opts);
  if (!r.ok) showToast(await r.text());
}

function apply(ev) {
  const c = chat(ev.chat);
  switch (ev.type) {
    case 'msg':
      if (!c.msgs[ev.key]) c.order.push(ev.key);
      c.msgs[ev.key] = ev;
      if (ev.from === 'bot' && !ev.edited && !state.replaying && !isCurrent(ev.chat)) c.unread++;
      break;
    case 'del':
      if (c.msgs[ev.key]) c.msgs[ev.key] = { ...c.msgs[ev.key], deleted: true };
      break;
    case 'keyboard':
      c.keyboard = ev.remove ? null : ev.keyboard;
      break;
    case 'toast':
      if (isCurrent(ev.chat) && !state.replaying) showToast(ev.text);
      return;
  }
  if (state.replaying) return;
  if (isCurrent(ev.chat)) render(); else renderPersonas();
}

function isCurrent(chatID) { const p = persona(); return p && p.user_id === chatID; }

function showToast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { t.hidden = true; }, 3500);
}

function renderPersonas() {
  const nav = $('personas');
  nav.replaceChildren(...state.personas.map((p) => {
    const b = document.createElement('button');
    b.className = 'persona';
    b.dataset.persona = p.key;
    b.setAttribute('aria-pressed', String(p.key === state.current));
    const label = document.createElement('span');
    label.innerHTML = '<span></span><small></small>';
    label.firstChild.textContent = p.role;
    label.lastChild.textContent = p.name + ' · ' + p.phone;
    const badge = document.createElement('span');
    badge.className = 'badge';
    const n = chat(p.user_id).unread;
    badge.textContent = n ? String(n) : '';
    b.append(label, badge);
    b.onclick = () => { location.hash = p.key; };
    return b;
  }));
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function photo(src) { const i = el('img'); i.src = src; i.alt = 'عکس'; return i; }

function render() {
  const p = persona();
  const c = chat(p.user_id);
  c.unread = 0;
  renderPersonas();
  $('who').textContent = 'شما: ' + p.role + ' (' + p.name + ')';
  $('hint').textContent = p.hint;
  const box = $('messages');
  const out = [];
  let album = null;
  for (const key of c.order) {
    const m = c.msgs[key];
    if (m.group && album && album.group === m.group) {
      album.grid.append(photo(m.file));
      continue;
    }
    const b = el('div', 'bubble ' + m.from);
    b.dataset.key = key;
    b.dir = 'auto';
    album = null;
    if (m.deleted) {
      b.classList.add('deleted');
      b.textContent = 'این پیام حذف شد.';
      out.push(b);
      continue;
    }
    if (m.kind === 'photo' && m.group) {
      const grid = el('div', 'album');
      grid.append(photo(m.file));
      b.append(grid);
      album = { group: m.group, grid };
    } else if (m.kind === 'photo') {
      b.append(photo(m.file));
    } else if (m.kind === 'document') {
      const a = el('a', 'doc', '📄 ' + (m.name || 'پرونده'));
      a.href = m.file;
      a.download = m.name || '';
      b.append(a, document.createElement('br'));
    } else if (m.kind === 'voice') {
      const au = el('audio');
      au.controls = true;
      au.src = m.file;
      b.append(au);
    } else if (m.kind === 'location') {
      b.append('📍 ');
    } else if (m.kind === 'contact') {
      b.append('👤 ');
    }
    if (m.text && m.kind !== 'voice') b.append(m.text);
    if (m.edited) b.append(el('span', 'edited', 'ویرایش‌شده'));
    if (m.inline) {
      const kb = el('div', 'inline');
      for (const row of m.inline) {
        const r = el('div', 'row');
        for (const btn of row) {
          let x;
          if (btn.url) {
            x = el('a', 'inline-btn', btn.text);
            x.href = btn.url;
            x.target = '_blank';
            x.rel = 'noopener';
          } else {
            x = el('button', 'inline-btn', btn.text);
            x.type = 'button';
            x.onclick = () => post('press', { key, data: btn.data });
          }
          r.append(x);
        }
        kb.append(r);
      }
      b.append(kb);
    }
    out.push(b);
  }
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.replaceChildren(...out);
  if (atBottom || !render.done) box.scrollTop = box.scrollHeight;
  render.done = true;
  renderKeyboard(c.keyboard);
}

function renderKeyboard(rows) {
  const k = $('keyboard');
  if (!rows || !rows.length) { k.hidden = true; k.replaceChildren(); return; }
  k.hidden = false;
  k.replaceChildren(...rows.map((row) => {
    const r = el('div', 'row');
    for (const btn of row) {
      const b = el('button', 'kb-btn', btn.text);
      b.type = 'button';
      if (btn.contact) b.onclick = () => post('contact');
      else if (btn.location) b.onclick = openLocation;
      else b.onclick = () => post('text', { text: btn.text });
      r.append(b);
    }
    return r;
  }));
}

function openLocation() {
  const list = $('places');
  list.replaceChildren(...state.places.map((pl) => {
    const b = el('button', '', pl.name);
    b.type = 'button';
    b.onclick = () => { $('locdlg').close(); post('location', { lat: pl.lat, lon: pl.lon, name: pl.name }); };
    return b;
  }));
  $('locdlg').showModal();
}

$('locform').addEventListener('submit', (e) => {
  if (e.submitter && e.submitter.value === 'send') {
    const lat = parseFloat(toLatin($('lat').value)), lon = parseFloat(toLatin($('lon').value));
    if (isNaN(lat) || isNaN(lon)) { e.preventDefault(); showToast('عرض و طول جغرافیایی را به عدد بنویسید.'); return; }
    post('location', { lat, lon });
  }
});

function toLatin(s) {
  return s.replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x6f0)).replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace('٫', '.');
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('text');
  const text = t.value.trim();
  if (!text) return;
  t.value = '';
  post('text', { text });
});
$('attach').onclick = () => $('photo').click();
$('photo').onchange = () => {
  const files = $('photo').files;
  if (!files.length) return;
  const fd = new FormData();
  for (const f of files) fd.append('photo', f);
  fd.append('caption', $('text').value.trim());
  $('text').value = '';
  $('photo').value = '';
  post('photos', fd);
};
$('locate').onclick = openLocation;

function setupVoice() {
  const btn = $('record');
  if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    btn.disabled = true;
    btn.title = 'ضبط صدا در این مرورگر یا این نشانی ممکن نیست.';
    return;
  }
  btn.onclick = async () => {
    if (state.recorder) { state.recorder.stop(); return; }
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); } catch (err) {
      showToast('اجازهٔ استفاده از میکروفون داده نشد.');
      return;
    }
    const rec = new MediaRecorder(stream);
    const parts = [];
    const start = Date.now();
    rec.ondataavailable = (e) => parts.push(e.data);
    rec.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      state.recorder = null;
      btn.classList.remove('recording');
      const fd = new FormData();
      fd.append('voice', new Blob(parts, { type: rec.mimeType }), 'voice');
      fd.append('seconds', String(Math.max(1, Math.round((Date.now() - start) / 1000))));
      post('voice', fd);
    };
    state.recorder = rec;
    btn.classList.add('recording');
    btn.title = 'پایان ضبط و فرستادن';
    rec.start();
  };
}

function selectFromHash() {
  const key = location.hash.slice(1);
  state.current = state.personas.some((p) => p.key === key) ? key : state.personas[0].key;
  render.done = false;
  render();
}

async function start() {
  const setup = await (await fetch('/api/setup')).json();
  state.personas = setup.personas;
  state.places = setup.places;
  for (const p of state.personas) chat(p.user_id);
  window.addEventListener('hashchange', selectFromHash);
  selectFromHash();
  setupVoice();
  const es = new EventSource('/api/events');
  es.addEventListener('reset', () => {
    state.chats = {};
    state.replaying = true;
    render();
  });
  es.addEventListener('live', () => { state.replaying = false; render(); });
  es.onmessage = (e) => apply(JSON.parse(e.data));
  document.body.dataset.ready = 'true';
}
start();
