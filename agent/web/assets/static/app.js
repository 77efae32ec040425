// tally — the little script behind the live screens. Every text goes in
// through textContent, never as markup; the server sends words, not HTML.
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : '';

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function icon(name, cls) {
    var s = document.createElementNS(SVG, 'svg');
    s.setAttribute('class', 'icon' + (cls ? ' ' + cls : ''));
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    var u = document.createElementNS(SVG, 'use');
    u.setAttribute('href', '#o-' + name);
    s.appendChild(u);
    return s;
  }
  function setIcon(container, name) {
    var u = container.querySelector('use');
    if (u) u.setAttribute('href', '#o-' + name);
  }

  document.addEventListener('click', function (e) {
    var t = e.target.closest && e.target.closest('[data-action="print"]');
    if (t) { e.preventDefault(); window.print(); }
  });

  // The inventory page attaches a pull list: the file goes to the API,
  // which the agent writes as the database's one writer.
  var pullForm = $('pullform');
  if (pullForm) {
    pullForm.addEventListener('submit', function (e) {
      e.preventDefault();
      var f = $('pullfile').files[0], msg = $('pull-msg');
      if (!f) { msg.textContent = 'Choose a CSV file first.'; return; }
      msg.textContent = 'Attaching…';
      fetch('/api/inventories/' + pullForm.dataset.inventory + '/pull?file=' + encodeURIComponent(f.name), {
        method: 'POST', credentials: 'same-origin', body: f,
        headers: { 'Content-Type': 'text/csv', 'X-CSRF-Token': csrf }
      }).then(function (resp) {
        return resp.json().then(function (b) { return { ok: resp.ok, b: b }; });
      }).then(function (x) {
        if (!x.ok) { msg.textContent = x.b.error || 'The list was not attached.'; return; }
        window.location.reload();
      }).catch(function () { msg.textContent = 'The agent did not answer: the list was not attached.'; });
    });
  }

  var root = document.querySelector('[data-session]');
  if (!root) return;
  var sid = root.dataset.session;
  var lastID = Number(root.dataset.lastId || 0);
  var form = $('scanform'), input = $('code'), errBox = $('scan-error');
  var FEED_MAX = Number(root.dataset.feed || 25);

  function restart(node, cls) {
    node.classList.remove(cls);
    void node.offsetWidth; // restart the animation
    node.classList.add(cls);
  }

  function setLast(r) {
    var box = $('last');
    if (!box) return;
    var o = r ? r.outcome : 'none';
    box.className = 'last o-' + o + (r && r.pull ? ' pull' : '');
    setIcon(box, o);
    var pull = $('last-pull');
    if (pull) { pull.textContent = r && r.pull || ''; pull.hidden = !(r && r.pull); }
    $('last-label').textContent = r ? r.label : 'Ready';
    $('last-headline').textContent = r ? r.headline : 'Scan the first item.';
    $('last-item').textContent = r ? r.item : '';
    var notes = $('last-notes');
    notes.replaceChildren();
    (r && r.notes || []).forEach(function (n) { notes.appendChild(el('li', null, n)); });
    if (r) restart(box, 'flash');
  }

  function feedItem(r) {
    var li = el('li', 'o-' + r.outcome + (r.pull ? ' pull' : ''));
    li.dataset.id = r.id;
    li.dataset.barcode = r.barcode || '';
    li.appendChild(icon(r.outcome));
    li.appendChild(el('span', 'lbl', r.label));
    li.appendChild(document.createTextNode(' '));
    if (r.pull) {
      li.appendChild(el('span', 'pullbadge', r.pull));
      li.appendChild(document.createTextNode(' '));
    }
    li.appendChild(el('span', 'hl', r.headline));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('span', 'it', r.item));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('time', null, r.at));
    return li;
  }

  function addFeed(r) {
    var feed = $('feed');
    if (!feed || feed.querySelector('li[data-id="' + Number(r.id) + '"]')) return;
    feed.insertBefore(feedItem(r), feed.firstChild);
    while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
  }

  function setFeed(list) {
    var feed = $('feed');
    if (!feed) return;
    feed.replaceChildren();
    (list || []).forEach(function (r) { feed.appendChild(feedItem(r)); });
  }

  function setCounts(cs) {
    (cs || []).forEach(function (c) {
      var li = document.querySelector('#counts li[data-outcome="' + c.outcome + '"]');
      if (!li) return;
      li.querySelector('b').textContent = c.n;
      li.classList.toggle('zero', !c.n);
    });
  }

  function setProgress(p) {
    var pr = $('prog');
    if (!p || !pr) return;
    pr.max = p.expected || 1;
    pr.value = p.seen;
    pr.textContent = p.text;
    $('prog-text').textContent = p.text;
  }

  function fmt(n) { return Number(n).toLocaleString('en-US'); }

  function setMissing(m) {
    var list = $('missing');
    if (!m || !list) return;
    $('missing-heading').textContent = m.heading;
    $('missing-count').textContent = m.text;
    list.replaceChildren();
    (m.items || []).forEach(function (it) {
      var li = el('li');
      li.dataset.barcode = it.barcode;
      li.appendChild(el('b', null, it.call_number));
      li.appendChild(document.createTextNode(' ' + it.title + ' '));
      li.appendChild(el('span', 'muted', it.barcode));
      list.appendChild(li);
    });
    var more = $('missing-more');
    if (more) {
      more.hidden = !m.more;
      if (m.more && more.firstChild) more.firstChild.textContent = 'and ' + fmt(m.more) + ' more — see the ';
    }
  }

  var stateWords = { present: 'here', waiting: 'not read yet', skipped: 'not expected' };
  var stateIcons = { present: 'present', waiting: 'missing', skipped: 'skipped' };

  function setCart(c) {
    if (!c) return;
    (c.cells || []).forEach(function (cell) {
      var li = document.querySelector('#grid li[data-barcode="' + CSS.escape(cell.barcode) + '"]');
      if (!li) return;
      var was = li.classList.contains('s-present');
      li.className = 'cell s-' + cell.state;
      setIcon(li, stateIcons[cell.state] || 'missing');
      li.querySelector('.st').textContent = stateWords[cell.state] || cell.state;
      if (cell.state === 'present' && !was) restart(li, 'lit');
    });
    var st = $('cart-status');
    st.textContent = c.text;
    st.classList.toggle('complete', !!c.complete);
    var pr = $('cart-prog');
    pr.max = c.expected || 1;
    pr.value = c.present;
    var fl = $('foreign');
    fl.replaceChildren();
    (c.foreign || []).forEach(function (f) {
      var li = el('li', null, f.item + ' — belongs in ');
      li.dataset.barcode = f.barcode;
      li.appendChild(el('b', null, f.cart));
      fl.appendChild(li);
    });
    $('foreign-n').textContent = (c.foreign || []).length;
    $('waiting-n').textContent = (c.waiting || []).length;
    $('waiting').textContent = (c.waiting || []).join(', ');
  }

  function markRetro(rt) {
    document.querySelectorAll('#feed li[data-barcode="' + CSS.escape(rt.barcode) + '"]').forEach(function (li) {
      if (!li.classList.contains('o-ok')) return;
      li.className = 'o-' + rt.outcome + ' retro' + (li.classList.contains('pull') ? ' pull' : '');
      setIcon(li, rt.outcome);
      li.querySelector('.lbl').textContent = rt.label;
      li.querySelector('.hl').textContent = rt.headline;
    });
  }

  function setOpen(open) {
    if (input) input.disabled = !open;
    if (form) form.querySelector('button').disabled = !open;
  }

  function onState(v) {
    lastID = v.last_id || 0;
    setLast(v.last || null);
    setFeed(v.feed);
    setCounts(v.counts);
    setProgress(v.progress);
    if (v.missing) setMissing(v.missing);
    if (v.cart) setCart(v.cart);
    setOpen(v.open);
  }

  function onRead(ev) {
    if (ev.read.id <= lastID) return;
    lastID = ev.read.id;
    var undone = $('undo-note');
    if (undone) undone.hidden = true; // a new read: the undo note is old news
    setLast(ev.read);
    addFeed(ev.read);
    // Seen now: off the missing list at once (the server sends the
    // recounted list a moment later).
    if (ev.read.barcode) {
      var gone = document.querySelector('#missing li[data-barcode="' + CSS.escape(ev.read.barcode) + '"]');
      if (gone) gone.remove();
    }
    (ev.retro || []).forEach(markRetro);
    setCounts(ev.counts);
    setProgress(ev.progress);
    if (ev.cart) setCart(ev.cart);
  }

  // Live updates.
  var conn = $('conn');
  var es = null;
  function connect() {
    es = new EventSource('/sessions/' + encodeURIComponent(sid) + '/events');
    es.addEventListener('open', function () { conn.textContent = 'Live'; conn.className = 'conn live'; });
    es.addEventListener('error', function () { conn.textContent = 'Reconnecting…'; conn.className = 'conn down'; });
    es.addEventListener('state', function (e) { onState(JSON.parse(e.data)); });
    es.addEventListener('read', function (e) { onRead(JSON.parse(e.data)); });
    es.addEventListener('missing', function (e) {
      var d = JSON.parse(e.data);
      setMissing(d.missing);
      setProgress(d.progress);
    });
    // This screen fell behind: the server dropped it. Start again from a
    // fresh state (the next connection sends one).
    es.addEventListener('reload', function () {
      es.close();
      conn.textContent = 'Reloading…'; conn.className = 'conn down';
      setTimeout(connect, 250);
    });
  }
  if (window.EventSource) connect();

  function showError(msg) {
    if (!errBox) return;
    errBox.textContent = msg;
    errBox.hidden = !msg;
  }

  function post(path, body) {
    return fetch(path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (d) {
        if (!res.ok) { var e = new Error(d.error || ('HTTP ' + res.status)); e.data = d; throw e; }
        return d;
      });
    });
  }

  // Typed reads and keyboard-wedge scanners: Enter submits.
  if (form && input) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var code = input.value.trim();
      if (!code) return;
      input.value = '';
      post('/api/sessions/' + encodeURIComponent(sid) + '/reads', { code: code }).then(function (d) {
        showError('');
        // The live stream usually gets here first; without it, show the
        // result we were given.
        if (!es || es.readyState !== EventSource.OPEN) { setLast(d.read); addFeed(d.read); setProgress(d.progress); }
      }).catch(function (err) {
        showError(code + ': ' + err.message);
        // A paused session: offer its Resume button right here.
        if (err.data && err.data.resume && errBox) {
          var b = document.createElement('button');
          b.type = 'button'; b.id = 'resume'; b.textContent = 'Resume';
          b.addEventListener('click', function () {
            post(err.data.resume, { state: 'open' }).then(function () { location.reload(); })
              .catch(function (e2) { showError('Resume: ' + e2.message); });
          });
          errBox.appendChild(document.createTextNode(' '));
          errBox.appendChild(b);
        }
      });
      input.focus();
    });
    // A wedge scanner types wherever focus is: send printable keys typed
    // outside a field to the scan input, so Enter never lands on a button.
    document.addEventListener('keydown', function (e) {
      if (input.disabled || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1) return;
      var t = e.target;
      if (t === input || (t.closest && t.closest('input, select, textarea, [contenteditable]'))) return;
      if (/[!-~]/.test(e.key)) input.focus();
    });
  }

  var undo = $('undoform');
  if (undo) {
    undo.addEventListener('submit', function (e) {
      e.preventDefault();
      post('/api/sessions/' + encodeURIComponent(sid) + '/undo').then(function (d) {
        showError('');
        var note = $('undo-note');
        if (note) { note.textContent = d.text || ''; note.hidden = !d.text; }
        // The live stream repaints the screen with a fresh state.
        if (!es || es.readyState !== EventSource.OPEN) location.reload();
        void d;
      }).catch(function (err) { showError('Undo: ' + err.message); });
      if (input && !input.disabled) input.focus();
    });
  }
})();
