/* tryon studio: the browser front end of services/web (contract: services/web/API.md).
   Plain JS, no framework, runs under a strict CSP (no inline script/style, no eval). */
(function () {
  'use strict';

  // ---------------------------------------------------------------- constants, state
  var I18N = window.TRYON_I18N || { en: {} };
  var params = new URLSearchParams(location.search);
  var KEY = (params.get('key') || '').trim();
  var CATEGORIES = ['lipstick', 'lip_liner', 'blush', 'bronzer', 'contour', 'highlighter',
    'foundation', 'concealer', 'eyeshadow', 'eyeliner', 'mascara', 'brow'];
  // The look is kept (and sent) in paint order: base, cheeks, eyes, brows, lips.
  var PAINT_ORDER = ['foundation', 'concealer', 'contour', 'bronzer', 'blush', 'highlighter',
    'eyeshadow', 'eyeliner', 'mascara', 'brow', 'lip_liner', 'lipstick'];
  var DEFAULT_INTENSITY = { foundation: 0.8, concealer: 0.8, contour: 0.7, bronzer: 0.7,
    blush: 0.8, highlighter: 0.8, eyeshadow: 0.9, eyeliner: 1, mascara: 1, brow: 0.6,
    lip_liner: 1, lipstick: 1 };
  var ZONES = ['lid', 'crease', 'outer_corner'];
  var PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
  var MAX_PHOTO_BYTES = 8 * 1024 * 1024;
  var MAX_IN_FLIGHT = 2;
  var FRAME_TIMEOUT_MS = 2500;

  var lang = pickLang();
  var userId = shopperId();

  var stats = window.tryonStats = {
    framesSent: 0,
    framesReceived: 0,
    firstMadeUpFrameAt: null,
    pageOpenedAt: 0,
    latenciesMs: [],
    fps: 0,
    lastError: null,
    mode: 'idle'
  };

  var productCache = new Map();           // product_id -> Product
  var look = [];                          // [{product_id, shade_id, intensity, zone?, category?}]
  var catalog = { category: 'lipstick', brand: '', family: '', q: '', products: [],
    nextToken: '', gen: 0, loading: false, facets: { brands: [], colour_families: [] },
    selected: null };
  var foundation = { results: [], tone: null };
  var recs = { items: [] };
  var tried = new Set();
  var bagCount = 0;
  var statusState = null;                 // {kind, key?, vars?, text?}
  var statusTimer = 0;
  var toastTimer = 0;
  var split = 0;                          // 0..100: share of the view showing "before"

  var live = { stream: null, video: null, ws: null, seq: 0, pending: new Map(),
    capCanvas: null, capCtx: null, raf: 0, capturing: false, lastSendAt: 0,
    minInterval: 0, lastDrawnSeq: 0, replyTimes: [], afterBmp: null, beforeBmp: null,
    faceId: '', faceExpiresAt: 0, faces: [], hudAt: 0, lastThrottleMsg: 0, lastFrameErr: 0, starting: false };
  var photo = { file: null, bitmap: null, faceId: '', faceExpiresAt: 0, faces: [], afterUrl: null,
    afterImg: null, gen: 0, busy: false, dirty: false };

  var $ = function (id) { return document.getElementById(id); };
  var view = $('view');
  var viewCtx = view.getContext('2d');

  // ---------------------------------------------------------------- small helpers
  function pickLang() {
    var p = (params.get('lang') || '').toLowerCase();
    if (p === 'en' || p === 'zh') return p;
    if (p.indexOf('zh') === 0) return 'zh';
    if (p.indexOf('en') === 0) return 'en';
    var n = (navigator.language || 'en').toLowerCase();
    return n.indexOf('zh') === 0 ? 'zh' : 'en';
  }

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function shopperId() {
    var u = (params.get('user') || '').trim();
    if (u) return u;
    try {
      var id = localStorage.getItem('tryon_user');
      if (!id) { id = 'anon-' + uuid(); localStorage.setItem('tryon_user', id); }
      return id;
    } catch (e) {
      return 'anon-' + uuid();
    }
  }

  function lookup(table, key) {
    var parts = key.split('.');
    var v = table;
    for (var i = 0; i < parts.length; i++) {
      if (v == null || typeof v !== 'object') return null;
      v = v[parts[i]];
    }
    return typeof v === 'string' ? v : null;
  }

  function t(key, vars) {
    var s = lookup(I18N[lang] || {}, key);
    if (s == null) s = lookup(I18N.en || {}, key);
    if (s == null) return key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, function (m, k) { return k in vars ? String(vars[k]) : m; });
    }
    return s;
  }

  function titleCase(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, ' ') : ''; }
  function catName(c) { var s = lookup(I18N[lang] || {}, 'categories.' + c); return s || titleCase(c || ''); }
  function familyName(f) { var s = lookup(I18N[lang] || {}, 'families.' + f); return s || titleCase(f); }
  function finishName(f) { var s = lookup(I18N[lang] || {}, 'finishes.' + f); return s || titleCase(f || ''); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

  function validHex(h) { return typeof h === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(h) ? h : '#cccccc'; }

  function formatPrice(price) {
    if (!price || !price.currency) return '';
    try {
      var nf = new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US',
        { style: 'currency', currency: price.currency });
      var digits = nf.resolvedOptions().maximumFractionDigits;
      return nf.format((price.amount_minor || 0) / Math.pow(10, digits));
    } catch (e) {
      return (price.amount_minor / 100).toFixed(2) + ' ' + price.currency;
    }
  }

  function shadeOf(product, shadeId) {
    if (!product || !product.shades) return null;
    for (var i = 0; i < product.shades.length; i++) {
      if (product.shades[i].shade_id === shadeId) return product.shades[i];
    }
    return null;
  }

  function throttle(fn, ms) {
    var last = 0, timer = 0;
    return function () {
      var now = Date.now();
      var wait = ms - (now - last);
      if (wait <= 0) {
        clearTimeout(timer); timer = 0; last = now; fn();
      } else if (!timer) {
        timer = setTimeout(function () { timer = 0; last = Date.now(); fn(); }, wait);
      }
    };
  }

  function debounce(fn, ms) {
    var timer = 0;
    var d = function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
    d.now = function () { clearTimeout(timer); fn(); };
    return d;
  }

  // ---------------------------------------------------------------- status, toast
  function showStatus(kind, key, vars, text) {
    statusState = { kind: kind, key: key, vars: vars, text: text };
    if (kind === 'error') stats.lastError = text || t(key, vars);
    renderStatus();
    clearTimeout(statusTimer);
    if (kind === 'info') statusTimer = setTimeout(clearStatus, 6000);
  }
  function info(key, vars) { showStatus('info', key, vars); }
  function pending(key, vars) { showStatus('pending', key, vars); }
  function warn(key, vars) { showStatus('warn', key, vars); }
  function error(key, vars) { showStatus('error', key, vars); }
  function errorText(text) { showStatus('error', null, null, text); }
  function reportError(e) {
    var msg = (e && e.message) ? e.message : String(e);
    errorText(msg);
  }
  function clearStatus() {
    clearTimeout(statusTimer);
    statusState = null;
    renderStatus();
  }
  function clearStatusIf(key) { if (statusState && statusState.key === key) clearStatus(); }
  function renderStatus() {
    var wrap = $('status-wrap'), box = $('status');
    $('status-close').hidden = !statusState;
    if (!statusState) {
      box.textContent = '';
      wrap.className = 'status-wrap';
      return;
    }
    box.textContent = statusState.text != null ? statusState.text : t(statusState.key, statusState.vars);
    wrap.className = 'status-wrap show ' + statusState.kind;
  }

  function toast(text) {
    var tst = $('toast');
    tst.textContent = text;
    tst.className = 'toast show';
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { tst.className = 'toast'; tst.textContent = ''; }, 2600);
  }

  // ---------------------------------------------------------------- HTTP API
  function ApiError(status, code, message) {
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function api(method, path, opts) {
    opts = opts || {};
    var headers = { 'X-Tryon-Key': KEY };
    var body = opts.body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.contentType) {
      headers['Content-Type'] = opts.contentType;
    }
    if (opts.expect !== 'blob') headers.Accept = 'application/json';
    return fetch(path, { method: method, headers: headers, body: body, credentials: 'same-origin' })
      .catch(function () { throw new ApiError(0, 'NETWORK', t('networkError')); })
      .then(function (res) {
        if (!res.ok) {
          return res.text().then(function (txt) {
            var code = 'HTTP_' + res.status, msg = null;
            try {
              var j = JSON.parse(txt);
              if (j && j.error) { msg = j.error.message || null; code = j.error.code || code; }
            } catch (e) { /* not JSON */ }
            throw new ApiError(res.status, code, msg || t('httpError', { n: res.status }));
          });
        }
        return opts.expect === 'blob' ? res.blob() : res.json();
      });
  }

  function qs(obj) {
    var u = new URLSearchParams();
    Object.keys(obj).forEach(function (k) { if (obj[k] !== '' && obj[k] != null) u.set(k, obj[k]); });
    return u.toString();
  }

  function requireKey() { return !!KEY && KEY.indexOf('pk_') === 0; }

  // ---------------------------------------------------------------- i18n rendering
  function applyI18n() {
    document.documentElement.lang = lang;
    document.title = t('pageTitle');
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n]'), function (e) {
      e.textContent = t(e.getAttribute('data-i18n'));
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n-placeholder]'), function (e) {
      e.setAttribute('placeholder', t(e.getAttribute('data-i18n-placeholder')));
    });
    $('split').setAttribute('aria-label', t('split'));
    $('status-close').setAttribute('aria-label', t('dismiss'));
    $('lang').value = lang;
    if (!KEY) $('empty-text').textContent = t('noKey');
    else if (!requireKey()) $('empty-text').textContent = t('notPublishable');
    renderCategorySelect();
    renderFacets();
    renderProducts();
    renderShades();
    renderLook();
    renderFoundation();
    renderRecs();
    renderAdvice();
    renderBag();
    renderStatus();
    updateModeUI();
    updateHud(true);
  }

  function setLang(l) {
    lang = l === 'zh' ? 'zh' : 'en';
    applyI18n();
  }

  // ---------------------------------------------------------------- the view (canvas)
  function setAspect(w, h) {
    $('view-wrap').style.setProperty('--ar', String(w / h));
  }

  function drawView() {
    var after, before = null, mirror = false;
    if (stats.mode === 'live') {
      after = live.afterBmp; before = live.beforeBmp; mirror = true;
    } else if (stats.mode === 'photo') {
      before = photo.bitmap;
      after = photo.afterImg || photo.bitmap;
    }
    if (!after) return false;
    var w = after.naturalWidth || after.width, h = after.naturalHeight || after.height;
    if (!w || !h) return false;
    if (view.width !== w || view.height !== h) {
      view.width = w; view.height = h; setAspect(w, h);
    }
    paint(after, mirror, w, h, null);
    if (before && before !== after && split > 0) {
      var x = splitX(w);
      paint(before, mirror, w, h, x);
      viewCtx.fillStyle = 'rgba(255,255,255,0.92)';
      viewCtx.fillRect(Math.max(0, x - 1), 0, 2, h);
    }
    return true;
  }

  // The split line sits under the slider's thumb (the range spans the view's full width).
  function splitX(w) {
    if (split >= 100) return w;
    var cssW = view.clientWidth || w;
    var thumb = Math.min(18, cssW);
    return Math.round((thumb / 2 + (split / 100) * (cssW - thumb)) * (w / cssW));
  }

  function paint(img, mirror, w, h, clipX) {
    viewCtx.save();
    if (clipX != null) {
      viewCtx.beginPath();
      viewCtx.rect(0, 0, clipX, h);
      viewCtx.clip();
    }
    if (mirror) { viewCtx.translate(w, 0); viewCtx.scale(-1, 1); }
    viewCtx.drawImage(img, 0, 0, w, h);
    viewCtx.restore();
  }

  function clearView() {
    viewCtx.clearRect(0, 0, view.width, view.height);
    view.width = 640; view.height = 480;
    setAspect(4, 3);
  }

  function updateModeUI() {
    var mode = stats.mode;
    var ok = requireKey();
    $('start-camera').hidden = mode === 'live' || live.starting;
    $('stop-camera').hidden = !(mode === 'live' || live.starting);
    $('start-camera').disabled = !ok;
    $('photo-input').disabled = !ok;
    $('download').disabled = mode === 'idle';
    $('hud').hidden = mode !== 'live';
    $('split-bar').hidden = mode === 'idle';
    $('empty').hidden = mode !== 'idle';
    $('view-wrap').classList.toggle('has-image', mode !== 'idle');
    $('view-wrap').classList.toggle('is-live', mode === 'live');
    view.setAttribute('aria-label', mode === 'idle' ? t('viewEmptyLabel') : t('viewLabel'));
    $('find-foundation').disabled = !ok;
    $('recommend').disabled = !ok;
  }

  function setMode(mode) {
    stats.mode = mode;
    updateModeUI();
  }

  // ---------------------------------------------------------------- the look
  function paintIndex(cat) { var i = PAINT_ORDER.indexOf(cat); return i < 0 ? PAINT_ORDER.length : i; }

  function wireLook() {
    // Intensity 0 means "unset" (= 1.0) to the platform, so a slider at 0 leaves the product out.
    var out = [];
    look.forEach(function (a) {
      if (!(a.intensity > 0)) return;
      var w = { product_id: a.product_id, shade_id: a.shade_id,
        intensity: Math.round(a.intensity * 1000) / 1000 };
      if (a.zone) w.zone = a.zone;
      out.push(w);
    });
    return out;
  }

  function publicLook() {
    return look.map(function (a) {
      var o = { product_id: a.product_id, shade_id: a.shade_id, intensity: a.intensity };
      if (a.zone) o.zone = a.zone;
      return o;
    });
  }

  function applyShade(product, shadeId, opts) {
    opts = opts || {};
    productCache.set(product.product_id, product);
    if (!shadeId && product.shades && product.shades.length) shadeId = product.shades[0].shade_id;
    var cat = product.category;
    var prev = null;
    look = look.filter(function (a) {
      var same = a.product_id === product.product_id || (cat && categoryOf(a) === cat);
      if (same && !prev) prev = a;
      return !same;
    });
    var item = {
      product_id: product.product_id,
      shade_id: shadeId || '',
      intensity: prev ? prev.intensity : (DEFAULT_INTENSITY[cat] || 0.8),
      category: cat
    };
    if (cat === 'eyeshadow' && prev && prev.zone) item.zone = prev.zone;
    var at = look.length;
    for (var i = 0; i < look.length; i++) {
      if (paintIndex(categoryOf(look[i])) > paintIndex(cat)) { at = i; break; }
    }
    look.splice(at, 0, item);
    if (cat && cat === catalog.category && (!catalog.selected || catalog.selected.product_id !== product.product_id)) {
      selectProduct(product);
    }
    lookChanged(true);
    if (opts.record !== false) recordTried(product.product_id, item.shade_id);
  }

  function categoryOf(a) {
    if (a.category) return a.category;
    var p = productCache.get(a.product_id);
    return p ? p.category : '';
  }

  function removeFromLook(productId) {
    look = look.filter(function (a) { return a.product_id !== productId; });
    lookChanged(true);
  }

  function clearLook() {
    look = [];
    lookChanged(true);
    info('lookCleared');
  }

  function lookChanged(structural) {
    if (structural) { renderLook(); renderShadesPressed(); renderProductBadges(); }
    pushLook();
  }

  function pushLook() {
    if (stats.mode === 'live') sendConfig();
    else if (stats.mode === 'photo') schedulePhotoRender();
  }

  var pushLookThrottled = throttle(pushLook, 100);

  function renderLook() {
    var list = $('look');
    var focusedId = document.activeElement && list.contains(document.activeElement) ?
      document.activeElement.id : '';
    list.textContent = '';
    $('look-empty').hidden = look.length > 0;
    $('clear-look').disabled = look.length === 0;
    look.forEach(function (a, i) {
      var p = productCache.get(a.product_id);
      var shade = shadeOf(p, a.shade_id);
      var li = el('li', 'look-item');
      li.setAttribute('data-product-id', a.product_id);
      li.setAttribute('data-shade-id', a.shade_id);
      var chip = el('span', 'chip-sm');
      chip.style.backgroundColor = validHex(shade && shade.hex);
      chip.setAttribute('aria-hidden', 'true');
      li.appendChild(chip);

      var body = el('div', 'li-body');
      var top = el('div', 'li-top');
      top.appendChild(el('span', 'li-cat', catName(categoryOf(a))));
      top.appendChild(el('span', 'li-brand', p ? p.brand : ''));
      body.appendChild(top);
      var display = p ? p.name : t('loadingProduct');
      body.appendChild(el('div', 'li-name', display + (shade ? ' · ' + shade.name : '')));

      var row = el('div', 'li-slider');
      var sid = 'intensity-' + i;
      var label = el('label', 'li-label');
      label.setAttribute('for', sid);
      label.appendChild(document.createTextNode(t('intensity')));
      label.appendChild(el('span', 'sr-only', ' — ' + (p ? p.brand + ' ' + p.name : a.product_id)));
      var range = el('input', 'intensity');
      range.type = 'range'; range.min = '0'; range.max = '100'; range.step = '1';
      range.id = sid;
      range.value = String(Math.round(a.intensity * 100));
      var out = el('output', 'li-value', range.value + '%');
      out.setAttribute('for', sid);
      range.addEventListener('input', function () {
        a.intensity = clamp(Number(range.value) / 100, 0, 1);
        out.textContent = range.value + '%';
        pushLookThrottled();
      });
      row.appendChild(label);
      row.appendChild(range);
      row.appendChild(out);
      body.appendChild(row);

      if (categoryOf(a) === 'eyeshadow') {
        var zrow = el('div', 'li-zone');
        var zid = 'zone-' + i;
        var zl = el('label', 'li-label', t('zone'));
        zl.setAttribute('for', zid);
        var zs = el('select', 'zone');
        zs.id = zid;
        ZONES.forEach(function (z) {
          var o = el('option', null, t('zones.' + z));
          o.value = z;
          zs.appendChild(o);
        });
        zs.value = a.zone || 'lid';
        zs.addEventListener('change', function () {
          a.zone = zs.value === 'lid' ? undefined : zs.value;
          if (!a.zone) delete a.zone;
          pushLook();
        });
        zrow.appendChild(zl);
        zrow.appendChild(zs);
        body.appendChild(zrow);
      }
      li.appendChild(body);

      var rm = el('button', 'icon-btn remove', '×');
      rm.type = 'button';
      rm.id = 'remove-' + i;
      rm.setAttribute('aria-label', t('removeItem', { name: p ? p.brand + ' ' + p.name : a.product_id }));
      rm.title = t('remove');
      rm.addEventListener('click', function () {
        removeFromLook(a.product_id);
        var next = $('remove-' + Math.min(i, look.length - 1));
        (next || $('clear-look')).focus();
      });
      li.appendChild(rm);
      list.appendChild(li);
    });
    if (focusedId && $(focusedId)) $(focusedId).focus();
  }

  function ensureProduct(productId) {
    if (productCache.has(productId)) return Promise.resolve(productCache.get(productId));
    return api('GET', '/api/v1/products/' + encodeURIComponent(productId)).then(function (p) {
      productCache.set(p.product_id, p);
      return p;
    });
  }

  function setLook(applications) {
    if (!Array.isArray(applications)) throw new TypeError('setLook expects an array of applications');
    look = applications.map(function (a) {
      var item = {
        product_id: String(a.product_id),
        shade_id: a.shade_id ? String(a.shade_id) : '',
        intensity: a.intensity == null ? 1 : clamp(Number(a.intensity) || 0, 0, 1)
      };
      if (a.zone) item.zone = String(a.zone);
      var p = productCache.get(item.product_id);
      if (p) item.category = p.category;
      return item;
    });
    lookChanged(true);
    var missing = look.filter(function (a) { return !productCache.has(a.product_id); });
    if (missing.length && requireKey()) {
      Promise.all(missing.map(function (a) {
        return ensureProduct(a.product_id).then(function (p) { a.category = p.category; });
      })).then(function () { renderLook(); renderShadesPressed(); }).catch(reportError);
    }
    return publicLook();
  }

  function selectShade(productId, shadeId) {
    return ensureProduct(productId).then(function (p) {
      applyShade(p, shadeId || '', { record: true });
      return publicLook();
    }).catch(function (e) { reportError(e); throw e; });
  }

  // ---------------------------------------------------------------- events (tried, bag)
  function recordTried(productId, shadeId) {
    var k = productId + '\u0000' + shadeId;
    if (tried.has(k) || !requireKey()) return;
    tried.add(k);
    api('POST', '/api/v1/events', { json: { user_id: userId, type: 'tried', product_id: productId,
      shade_id: shadeId, event_id: uuid() } })
      .catch(function (e) { tried.delete(k); reportError(e); });
  }

  function addToBag(product, shadeId, button) {
    if (button) button.disabled = true;
    api('POST', '/api/v1/events', { json: { user_id: userId, type: 'add_to_bag',
      product_id: product.product_id, shade_id: shadeId, event_id: uuid() } })
      .then(function () {
        bagCount++;
        try { sessionStorage.setItem('tryon_bag:' + userId, String(bagCount)); } catch (e) { /* private mode */ }
        renderBag();
        var shade = shadeOf(product, shadeId);
        toast(t('addedToBag', { name: product.brand + ' ' + product.name + (shade ? ' — ' + shade.name : '') }));
      })
      .catch(reportError)
      .then(function () { if (button) button.disabled = false; });
  }

  function renderBag() {
    $('bag-count').textContent = String(bagCount);
    $('bag').setAttribute('title', t('bagLabel', { n: bagCount }));
  }

  // ---------------------------------------------------------------- catalog
  function renderCategorySelect() {
    var sel = $('category');
    var cur = catalog.category;
    sel.textContent = '';
    CATEGORIES.forEach(function (c) {
      var o = el('option', null, catName(c));
      o.value = c;
      sel.appendChild(o);
    });
    sel.value = cur;
  }

  function renderFacets() {
    var b = $('brand'), f = $('family');
    b.textContent = ''; f.textContent = '';
    var o = el('option', null, t('allBrands')); o.value = ''; b.appendChild(o);
    (catalog.facets.brands || []).forEach(function (name) {
      var x = el('option', null, name); x.value = name; b.appendChild(x);
    });
    o = el('option', null, t('allFamilies')); o.value = ''; f.appendChild(o);
    (catalog.facets.colour_families || []).forEach(function (name) {
      var x = el('option', null, familyName(name)); x.value = name; f.appendChild(x);
    });
    b.value = catalog.brand; if (b.value !== catalog.brand) { catalog.brand = ''; b.value = ''; }
    f.value = catalog.family; if (f.value !== catalog.family) { catalog.family = ''; f.value = ''; }
  }

  function loadFacets() {
    var cat = catalog.category;
    return api('GET', '/api/v1/facets?' + qs({ category: cat })).then(function (r) {
      if (cat !== catalog.category) return;
      catalog.facets = { brands: r.brands || [], colour_families: r.colour_families || [] };
      renderFacets();
    }).catch(reportError);
  }

  function loadProducts(more) {
    if (!requireKey()) return Promise.resolve();
    var gen = more ? catalog.gen : ++catalog.gen;
    var query = { category: catalog.category, brand: catalog.brand, family: catalog.family,
      q: catalog.q, page_size: 60 };
    if (more) query.page_token = catalog.nextToken;
    catalog.loading = true;
    $('products').setAttribute('aria-busy', 'true');
    $('products').classList.add('loading');
    if (!more && !catalog.products.length) $('products').textContent = t('loading');
    $('load-more').disabled = true;
    return api('GET', '/api/v1/products?' + qs(query)).then(function (r) {
      if (gen !== catalog.gen) return;
      var list = r.products || [];
      list.forEach(function (p) { productCache.set(p.product_id, p); });
      catalog.products = more ? catalog.products.concat(list) : list;
      catalog.nextToken = r.next_page_token || '';
      if (!more && catalog.products.length) {
        var sel = catalog.selected;
        var filtered = catalog.brand || catalog.family || catalog.q;
        var inList = sel && catalog.products.some(function (x) { return x.product_id === sel.product_id; });
        if (!sel || (filtered && !inList)) catalog.selected = catalog.products[0];
      }
      renderProducts();
      renderShades();
    }).catch(function (e) {
      if (gen !== catalog.gen) return;
      renderProducts();
      reportError(e);
    }).then(function () {
      if (gen !== catalog.gen) return;
      catalog.loading = false;
      $('products').setAttribute('aria-busy', 'false');
      $('products').classList.remove('loading');
      $('load-more').disabled = false;
    });
  }

  function setCategory(cat, keepSelection) {
    catalog.category = CATEGORIES.indexOf(cat) >= 0 ? cat : 'lipstick';
    $('category').value = catalog.category;
    catalog.brand = ''; catalog.family = '';
    catalog.facets = { brands: [], colour_families: [] };
    catalog.products = []; catalog.nextToken = '';
    if (!keepSelection) catalog.selected = null;
    renderFacets();
    renderShades();
    loadFacets();
    return loadProducts(false);
  }

  function productInLook(pid) {
    for (var i = 0; i < look.length; i++) if (look[i].product_id === pid) return look[i];
    return null;
  }

  function renderProducts() {
    var box = $('products');
    box.textContent = '';
    catalog.products.forEach(function (p) {
      var card = el('button', 'product');
      card.type = 'button';
      card.setAttribute('data-product-id', p.product_id);
      card.setAttribute('aria-pressed', catalog.selected && catalog.selected.product_id === p.product_id ? 'true' : 'false');
      var media = el('span', 'p-media');
      var first = p.shades && p.shades[0];
      media.style.backgroundColor = validHex(first && first.hex);
      if (p.swatch_url) {
        var img = el('img', 'p-img');
        img.alt = '';
        img.loading = 'lazy';
        img.decoding = 'async';
        img.addEventListener('error', function () { img.remove(); });
        img.src = p.swatch_url;
        media.appendChild(img);
      }
      var badge = el('span', 'p-badge', t('applied'));
      badge.hidden = !productInLook(p.product_id);
      media.appendChild(badge);
      card.appendChild(media);
      var body = el('span', 'p-body');
      body.appendChild(el('span', 'p-brand', p.brand));
      body.appendChild(el('span', 'p-name', p.name));
      var dots = el('span', 'p-dots');
      dots.setAttribute('aria-hidden', 'true');
      (p.shades || []).slice(0, 6).forEach(function (s) {
        var d = el('span', 'dot-sm');
        d.style.backgroundColor = validHex(s.hex);
        dots.appendChild(d);
      });
      body.appendChild(dots);
      var meta = el('span', 'p-meta');
      meta.appendChild(el('span', 'p-price', formatPrice(p.price)));
      var n = (p.shades || []).length;
      meta.appendChild(el('span', 'p-count', n === 1 ? t('shadeCountOne') : t('shadeCount', { n: n })));
      body.appendChild(meta);
      card.appendChild(body);
      card.addEventListener('click', function () { selectProduct(p); });
      box.appendChild(card);
    });
    $('products-empty').hidden = catalog.products.length > 0 || catalog.loading || !requireKey();
    $('load-more').hidden = !catalog.nextToken;
  }

  function renderProductBadges() {
    Array.prototype.forEach.call($('products').querySelectorAll('.product'), function (card) {
      var b = card.querySelector('.p-badge');
      if (b) b.hidden = !productInLook(card.getAttribute('data-product-id'));
    });
  }

  function selectProduct(p) {
    catalog.selected = p;
    Array.prototype.forEach.call($('products').querySelectorAll('.product'), function (card) {
      card.setAttribute('aria-pressed', card.getAttribute('data-product-id') === p.product_id ? 'true' : 'false');
    });
    renderShades();
  }

  function renderShades() {
    var box = $('shades');
    box.textContent = '';
    var p = catalog.selected;
    $('shades-hint').hidden = !!p;
    $('shades-box').classList.toggle('has-product', !!p);
    if (!p) {
      $('shades-title').textContent = t('shadesTitle');
      $('shade-name').textContent = '';
      return;
    }
    $('shades-title').textContent = p.brand + ' · ' + p.name;
    box.setAttribute('aria-label', t('shadesOf', { name: p.brand + ' ' + p.name }));
    (p.shades || []).forEach(function (s) {
      var b = el('button', 'chip');
      b.type = 'button';
      b.setAttribute('data-shade-id', s.shade_id);
      b.setAttribute('aria-label', s.name + ' ' + s.hex);
      b.title = s.name;
      b.style.backgroundColor = validHex(s.hex);
      if (s.finish) b.classList.add('finish-' + s.finish);
      b.addEventListener('click', function () { applyShade(p, s.shade_id); });
      b.addEventListener('mouseenter', function () { showShadeName(s); });
      b.addEventListener('focus', function () { showShadeName(s); });
      b.addEventListener('mouseleave', function () { showShadeName(null); });
      box.appendChild(b);
    });
    renderShadesPressed();
  }

  function showShadeName(s) {
    if (!s) {
      var p = catalog.selected, a = p && productInLook(p.product_id);
      s = a ? shadeOf(p, a.shade_id) : null;
    }
    $('shade-name').textContent = s ? t('shadeLine', { shade: s.name, finish: finishName(s.finish) }) : t('pickShade');
  }

  function renderShadesPressed() {
    var p = catalog.selected;
    var a = p && productInLook(p.product_id);
    Array.prototype.forEach.call($('shades').querySelectorAll('.chip'), function (b) {
      b.setAttribute('aria-pressed', a && a.shade_id === b.getAttribute('data-shade-id') ? 'true' : 'false');
    });
    if (p) showShadeName(null);
  }

  function preselect(productId, shadeId) {
    return api('GET', '/api/v1/products/' + encodeURIComponent(productId)).then(function (p) {
      productCache.set(p.product_id, p);
      catalog.selected = p;
      setCategory(p.category, true);
      var sid = shadeId && shadeOf(p, shadeId) ? shadeId : (p.shades && p.shades[0] ? p.shades[0].shade_id : '');
      applyShade(p, sid, { record: false });
    }).catch(function (e) {
      reportError(e);
      setCategory('lipstick');
    });
  }

  // ---------------------------------------------------------------- live camera + stream
  function cameraErrorKey(e) {
    var n = e && e.name;
    if (n === 'NotAllowedError' || n === 'SecurityError' || n === 'PermissionDeniedError') return 'cameraDenied';
    if (n === 'NotFoundError' || n === 'OverconstrainedError' || n === 'DevicesNotFoundError') return 'cameraMissing';
    if (n === 'NotReadableError' || n === 'AbortError' || n === 'TrackStartError') return 'cameraBusy';
    return null;
  }

  function startCamera() {
    if (!requireKey() || stats.mode === 'live' || live.starting) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      error('cameraInsecure');
      return;
    }
    live.starting = true;
    updateModeUI();
    pending('cameraStarting');
    navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false })
      .then(function (stream) {
        if (!live.starting) { stream.getTracks().forEach(function (tr) { tr.stop(); }); return; }
        leavePhoto();
        var v = document.createElement('video');
        v.className = 'camera-src';
        v.muted = true; v.playsInline = true; v.autoplay = true;
        v.setAttribute('playsinline', '');
        v.setAttribute('aria-hidden', 'true');
        v.srcObject = stream;
        document.body.appendChild(v);
        live.stream = stream; live.video = v;
        // Send each camera frame once: without this the loop would re-send the same picture
        // whenever a reply comes back faster than the camera's next frame.
        live.freshFrame = true;
        if (v.requestVideoFrameCallback) {
          var onVideoFrame = function () {
            if (live.video !== v) return;
            live.freshFrame = true;
            v.requestVideoFrameCallback(onVideoFrame);
          };
          v.requestVideoFrameCallback(onVideoFrame);
        }
        stream.getVideoTracks().forEach(function (tr) {
          tr.addEventListener('ended', function () { if (live.stream === stream) stopLive(); });
        });
        return v.play().catch(function () { /* autoplay of a muted stream; frames flow anyway */ })
          .then(function () {
            live.starting = false;
            setMode('live');
            openSocket();
          });
      })
      .catch(function (e) {
        live.starting = false;
        updateModeUI();
        var k = cameraErrorKey(e);
        if (k) error(k); else error('cameraFailed', { msg: (e && (e.message || e.name)) || String(e) });
      });
  }

  function openSocket() {
    var url = (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host +
      '/api/v1/stream?key=' + encodeURIComponent(KEY);
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      errorText(String(e && e.message || e));
      stopLive(true);
      return;
    }
    ws.binaryType = 'arraybuffer';
    live.ws = ws;
    live.seq = 0; live.lastDrawnSeq = 0; live.minInterval = 0; live.replyTimes = [];
    pending('connecting');
    ws.addEventListener('open', function () {
      if (live.ws !== ws) return;
      sendConfig();
      info('liveOn');
      loop();
    });
    ws.addEventListener('message', function (ev) {
      if (live.ws !== ws) return;
      if (typeof ev.data === 'string') onText(ev.data);
      else onReply(ev.data);
    });
    ws.addEventListener('close', function (ev) {
      if (live.ws !== ws) return;           // closed by us
      live.ws = null;
      stopLive(true);
      var reason = ev.reason;
      if (reason) error('streamClosed', { msg: reason });
      else error('streamLost');
    });
  }

  function sendConfig() {
    var ws = live.ws;
    if (!ws || ws.readyState !== 1) return;
    ws.send(JSON.stringify({ type: 'config', look: wireLook(), max_faces: 1 }));
  }

  function loop() {
    cancelAnimationFrame(live.raf);
    var step = function () {
      if (!live.ws) return;
      live.raf = requestAnimationFrame(step);
      expirePending();
      pump();
      updateHud(false);
    };
    live.raf = requestAnimationFrame(step);
  }

  function expirePending() {
    var now = performance.now();
    live.pending.forEach(function (p, seq) {
      if (now - p.t > FRAME_TIMEOUT_MS) dropPending(seq, p);
    });
  }

  function dropPending(seq, p) {
    live.pending.delete(seq);
    if (p && p.before) p.before.then(function (b) { if (b) b.close(); });
  }

  function pump() {
    var ws = live.ws, v = live.video;
    if (!ws || ws.readyState !== 1 || !v || live.capturing) return;
    if (live.pending.size >= MAX_IN_FLIGHT) return;
    if (v.readyState < 2 || !v.videoWidth) return;
    if (ws.bufferedAmount > 2 * 1024 * 1024) return;
    var now = performance.now();
    if (now - live.lastSendAt < live.minInterval) return;
    if (!live.freshFrame) return;
    if (v.requestVideoFrameCallback) live.freshFrame = false;
    live.lastSendAt = now;
    live.capturing = true;
    var w = v.videoWidth, h = v.videoHeight;
    var scale = Math.min(1, 1920 / w, 1080 / h);
    w = Math.round(w * scale); h = Math.round(h * scale);
    if (!live.capCanvas) {
      live.capCanvas = document.createElement('canvas');
      live.capCtx = live.capCanvas.getContext('2d');
    }
    var c = live.capCanvas;
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    live.capCtx.drawImage(v, 0, 0, w, h);
    var before = split > 0 && window.createImageBitmap ?
      createImageBitmap(c).catch(function () { return null; }) : null;
    var madeUp = wireLook().length > 0;
    c.toBlob(function (blob) {
      if (!blob || live.ws !== ws || ws.readyState !== 1) {
        live.capturing = false;
        if (before) before.then(function (b) { if (b) b.close(); });
        return;
      }
      blob.arrayBuffer().then(function (jpeg) {
        if (live.ws !== ws || ws.readyState !== 1) {
          if (before) before.then(function (b) { if (b) b.close(); });
          return;
        }
        live.seq = (live.seq + 1) >>> 0;
        var seq = live.seq;
        var buf = new Uint8Array(4 + jpeg.byteLength);
        new DataView(buf.buffer).setUint32(0, seq, false);
        buf.set(new Uint8Array(jpeg), 4);
        live.pending.set(seq, { t: performance.now(), madeUp: madeUp, before: before });
        ws.send(buf);
        stats.framesSent++;
      }).catch(function () { /* the frame is skipped */ }).then(function () {
        live.capturing = false;
      });
    }, 'image/jpeg', 0.8);
  }

  function onText(text) {
    var msg;
    try { msg = JSON.parse(text); } catch (e) { return; }
    var now = performance.now();
    if (msg.type === 'error') {
      if (msg.sequence != null && live.pending.has(msg.sequence)) dropPending(msg.sequence, live.pending.get(msg.sequence));
      stats.lastError = msg.message || msg.code || 'error';
      if (now - live.lastFrameErr > 3000) {
        live.lastFrameErr = now;
        warn('frameError', { msg: msg.message || msg.code || '' });
        stats.lastError = msg.message || msg.code || 'error';
      }
    } else if (msg.type === 'throttled') {
      live.minInterval = Math.min(500, Math.max(20, live.minInterval * 1.5));
      if (now - live.lastThrottleMsg > 5000) {
        live.lastThrottleMsg = now;
        warn('throttled', { msg: msg.message || '' });
      }
    }
  }

  function onReply(buf) {
    if (!(buf instanceof ArrayBuffer) || buf.byteLength < 8) return;
    var dv = new DataView(buf);
    var seq = dv.getUint32(0, false);
    var n = dv.getUint32(4, false);
    if (8 + n > buf.byteLength) return;
    var header = {};
    try { header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n))); } catch (e) { /* keep {} */ }
    var jpeg = new Uint8Array(buf, 8 + n);
    var now = performance.now();
    var p = live.pending.get(seq) || null;
    // Replies come in order: every frame still pending before this one was dropped.
    live.pending.forEach(function (info, s) {
      if (s < seq) dropPending(s, info);
    });
    live.pending.delete(seq);
    stats.framesReceived++;
    if (p) {
      stats.latenciesMs.push(Math.round((now - p.t) * 10) / 10);
      if (stats.latenciesMs.length > 300) stats.latenciesMs.splice(0, stats.latenciesMs.length - 300);
    }
    live.replyTimes.push(now);
    if (live.minInterval > 0) live.minInterval = Math.max(0, live.minInterval * 0.97 - 0.5);
    live.lastHeader = header;
    var ws = live.ws;
    var beforeP = p && p.before ? p.before : Promise.resolve(null);
    Promise.all([createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' })), beforeP]).then(function (r) {
      var bmp = r[0], before = r[1];
      if (live.ws !== ws || stats.mode !== 'live' || seq < live.lastDrawnSeq) {
        bmp.close(); if (before) before.close();
        return;
      }
      live.lastDrawnSeq = seq;
      if (live.afterBmp) live.afterBmp.close();
      if (live.beforeBmp) live.beforeBmp.close();
      live.afterBmp = bmp;
      live.beforeBmp = before;
      drawView();
      if (p && p.madeUp && stats.firstMadeUpFrameAt === null) stats.firstMadeUpFrameAt = performance.now();
    }).catch(function () {
      if (p && p.before) p.before.then(function (b) { if (b) b.close(); });
    });
    pump();
  }

  function median(a) {
    if (!a.length) return 0;
    var s = a.slice().sort(function (x, y) { return x - y; });
    return s[Math.floor(s.length / 2)];
  }

  function updateHud(force) {
    var now = performance.now();
    if (!force && now - live.hudAt < 250) return;
    live.hudAt = now;
    var times = live.replyTimes;
    while (times.length && now - times[0] > 2000) times.shift();
    var fps = 0;
    if (times.length >= 2) {
      var span = (times[times.length - 1] - times[0]) / 1000;
      fps = span > 0 ? (times.length - 1) / span : 0;
    }
    stats.fps = Math.round(fps * 10) / 10;
    var lat = median(stats.latenciesMs.slice(-30));
    var live_ = stats.mode === 'live';
    $('fps').textContent = live_ && times.length ? t('fps', { n: fps.toFixed(fps < 10 ? 1 : 0) }) : t('fps', { n: '–' });
    $('latency').textContent = live_ && stats.latenciesMs.length ? t('latency', { n: Math.round(lat) }) : t('latency', { n: '–' });
  }

  function stopLive(quiet) {
    var wasLive = stats.mode === 'live' || live.starting;
    live.starting = false;
    cancelAnimationFrame(live.raf);
    var ws = live.ws;
    live.ws = null;
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) {
      try { ws.close(1000, 'camera stopped'); } catch (e) { /* already closing */ }
    }
    if (live.stream) live.stream.getTracks().forEach(function (tr) { tr.stop(); });
    live.stream = null;
    if (live.video) { live.video.srcObject = null; live.video.remove(); }
    live.video = null;
    live.pending.forEach(function (p, s) { dropPending(s, p); });
    live.capturing = false;
    if (live.afterBmp) live.afterBmp.close();
    if (live.beforeBmp) live.beforeBmp.close();
    live.afterBmp = live.beforeBmp = null;
    live.replyTimes = [];
    stats.fps = 0;
    if (stats.mode === 'live') { setMode('idle'); clearView(); } else updateModeUI();
    updateHud(true);
    if (wasLive && !quiet) info('cameraStopped');
  }

  function captureFrameJpeg() {
    return new Promise(function (resolve, reject) {
      var v = live.video;
      if (!v || !v.videoWidth) { reject(new ApiError(0, 'NO_FRAME', t('needFace'))); return; }
      var c = document.createElement('canvas');
      c.width = v.videoWidth; c.height = v.videoHeight;
      c.getContext('2d').drawImage(v, 0, 0);
      c.toBlob(function (b) { if (b) resolve(b); else reject(new ApiError(0, 'NO_FRAME', t('needFace'))); }, 'image/jpeg', 0.92);
    });
  }

  // ---------------------------------------------------------------- photo path
  function leavePhoto() {
    photo.gen++;
    photo.file = null; photo.faceId = ''; photo.faces = []; photo.dirty = false;
    if (photo.bitmap && photo.bitmap.close) photo.bitmap.close();
    photo.bitmap = null;
    if (photo.afterUrl) URL.revokeObjectURL(photo.afterUrl);
    photo.afterUrl = null; photo.afterImg = null;
    $('view-wrap').classList.remove('busy');
    if (stats.mode === 'photo') { setMode('idle'); clearView(); }
  }

  function decodeImage(blob) {
    if (window.createImageBitmap) {
      return createImageBitmap(blob).catch(function () { return decodeViaImg(blob); });
    }
    return decodeViaImg(blob);
  }

  function decodeViaImg(blob) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(blob);
      var img = new Image();
      img.addEventListener('load', function () { resolve(img); });
      img.addEventListener('error', function () { URL.revokeObjectURL(url); resolve(null); });
      img.src = url;
    });
  }

  function toJpeg(src, maxSide) {
    return new Promise(function (resolve) {
      var w = src.naturalWidth || src.width, h = src.naturalHeight || src.height;
      var s = Math.min(1, maxSide / Math.max(w, h));
      var c = document.createElement('canvas');
      c.width = Math.round(w * s); c.height = Math.round(h * s);
      c.getContext('2d').drawImage(src, 0, 0, c.width, c.height);
      c.toBlob(function (b) { resolve(b); }, 'image/jpeg', 0.9);
    });
  }

  function uploadPhoto(body, type) {
    return api('POST', '/api/v1/photo', { body: body, contentType: type });
  }

  function loadPhoto(file) {
    if (!file || !requireKey()) return;
    if (file.type && file.type.indexOf('image/') !== 0) { error('notImage'); return; }
    stopLive(true);
    var gen = ++photo.gen;
    pending('uploading');
    $('view-wrap').classList.add('busy');
    var bitmap = null;
    decodeImage(file).then(function (bmp) {
      bitmap = bmp;
      var type = file.type || 'image/jpeg';
      if (bmp && (PHOTO_TYPES.indexOf(type) < 0 || file.size > MAX_PHOTO_BYTES)) {
        return toJpeg(bmp, 4096).then(function (jpg) {
          return jpg ? { body: jpg, type: 'image/jpeg' } : { body: file, type: type };
        });
      }
      return { body: file, type: type };
    }).then(function (up) {
      return uploadPhoto(up.body, up.type).then(function (res) { return { res: res, up: up }; });
    }).then(function (r) {
      if (gen !== photo.gen) { if (bitmap && bitmap.close) bitmap.close(); return; }
      var res = r.res;
      if (photo.bitmap && photo.bitmap.close) photo.bitmap.close();
      if (photo.afterUrl) URL.revokeObjectURL(photo.afterUrl);
      photo.afterUrl = null; photo.afterImg = null;
      photo.file = r.up;
      photo.bitmap = bitmap;
      photo.faceId = res.face_id || '';
      photo.faces = res.faces || [];
      photo.faceExpiresAt = faceExpiry(res);
      setMode('photo');
      $('view-wrap').classList.remove('busy');
      if (bitmap) drawView();
      if (!photo.faces.length) {
        error('noFace');
      } else {
        info('photoReady');
        showSkinTone(photo.faces[0].skin_tone);
        loadRecommendations();
      }
      schedulePhotoRender();
    }).catch(function (e) {
      if (gen !== photo.gen) return;
      $('view-wrap').classList.remove('busy');
      if (bitmap && bitmap.close) bitmap.close();
      reportError(e);
    });
  }

  function schedulePhotoRender() {
    photo.dirty = true;
    if (!photo.busy) runPhotoRender();
  }

  function runPhotoRender() {
    if (stats.mode !== 'photo' || !photo.faceId || !photo.faces.length) { photo.dirty = false; return; }
    if (!photo.dirty) return;
    photo.dirty = false;
    var gen = photo.gen;
    var wire = wireLook();
    if (!wire.length) {
      if (photo.afterUrl) URL.revokeObjectURL(photo.afterUrl);
      photo.afterUrl = null; photo.afterImg = null;
      drawView();
      return;
    }
    photo.busy = true;
    $('view-wrap').classList.add('busy');
    tryonRequest(wire, true).then(function (blob) {
      if (gen !== photo.gen) return null;
      var url = URL.createObjectURL(blob);
      var img = new Image();
      img.src = url;
      return img.decode().then(function () {
        if (gen !== photo.gen) { URL.revokeObjectURL(url); return; }
        if (photo.afterUrl) URL.revokeObjectURL(photo.afterUrl);
        photo.afterUrl = url; photo.afterImg = img;
        drawView();
        if (stats.firstMadeUpFrameAt === null) stats.firstMadeUpFrameAt = performance.now();
        clearStatusIf('rendering');
      }, function () { URL.revokeObjectURL(url); });
    }).catch(function (e) {
      if (gen === photo.gen) reportError(e);
    }).then(function () {
      photo.busy = false;
      if (gen === photo.gen) {
        $('view-wrap').classList.remove('busy');
        if (photo.dirty) runPhotoRender();
      }
    });
  }

  // The platform keeps a selfie for minutes (expires_in_seconds): send the photo again just
  // before its face expires, rather than let the next call fail on it.
  function faceExpiry(res) {
    return performance.now() + Math.max(1, (res.expires_in_seconds || 600) - 1.5) * 1000;
  }

  function ensurePhotoFace() {
    if (!photo.file || performance.now() < photo.faceExpiresAt) return Promise.resolve(photo.faceId);
    var gen = photo.gen;
    return uploadPhoto(photo.file.body, photo.file.type).then(function (res) {
      if (gen === photo.gen) {
        photo.faceId = res.face_id || '';
        photo.faces = res.faces || [];
        photo.faceExpiresAt = faceExpiry(res);
      }
      return photo.faceId;
    });
  }

  // A face can still expire in between (a slow network): upload again, once.
  function tryonRequest(wire, retry) {
    var gen = photo.gen;
    return ensurePhotoFace().then(function (faceId) {
      return api('POST', '/api/v1/tryon', { json: { face_id: faceId, look: wire, user_id: userId }, expect: 'blob' });
    }).catch(function (e) {
        if (!retry || e.status !== 404 || !photo.file || gen !== photo.gen) throw e;
        return uploadPhoto(photo.file.body, photo.file.type).then(function (res) {
          if (gen !== photo.gen) throw e;
          photo.faceId = res.face_id || '';
          photo.faces = res.faces || [];
          photo.faceExpiresAt = faceExpiry(res);
          if (!photo.faces.length) throw new ApiError(0, 'NO_FACE', t('noFace'));
          return tryonRequest(wire, false);
        });
      });
  }

  // ---------------------------------------------------------------- skin tone, foundation
  function showSkinTone(tone) {
    foundation.tone = tone || null;
    renderSkinTone();
  }

  function renderSkinTone() {
    var box = $('skin-tone');
    box.textContent = '';
    var tone = foundation.tone;
    box.hidden = !tone;
    if (!tone) return;
    var sw = el('span', 'chip-sm');
    sw.style.backgroundColor = validHex(tone.hex);
    sw.setAttribute('aria-hidden', 'true');
    box.appendChild(sw);
    box.appendChild(el('span', null, t('skinTone', { hex: tone.hex || '', monk: tone.monk_bucket || '–',
      undertone: lookup(I18N[lang] || {}, 'undertones.' + tone.undertone) || tone.undertone || '' })));
  }

  function findFoundation() {
    if (!requireKey()) return;
    var btn = $('find-foundation');
    var faceP;
    if (stats.mode === 'photo') {
      if (!photo.faces.length) { error('noFace'); return; }
      faceP = ensurePhotoFace();
    } else if (stats.mode === 'live') {
      pending('capturing');
      faceP = captureFrameJpeg().then(function (jpg) { return uploadPhoto(jpg, 'image/jpeg'); }).then(function (res) {
        if (!res.faces || !res.faces.length) throw new ApiError(0, 'NO_FACE', t('noFace'));
        live.faceId = res.face_id;
        live.faceExpiresAt = faceExpiry(res);
        live.faces = res.faces;
        showSkinTone(res.faces[0].skin_tone);
        loadRecommendations();
        return res.face_id;
      });
    } else {
      error('needFace');
      return;
    }
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    faceP.then(function (faceId) {
      return api('POST', '/api/v1/recommendations', { json: { face_id: faceId, categories: ['foundation'], k: 5 } });
    }).then(function (r) {
      foundation.results = r.recommendations || [];
      (foundation.results).forEach(function (x) { if (x.product) productCache.set(x.product.product_id, x.product); });
      renderFoundation();
      clearStatusIf('capturing');
      if (!foundation.results.length) info('foundationNone');
    }).catch(reportError).then(function () {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    });
  }

  function resultItem(rec, withDelta) {
    var p = rec.product || {};
    var shade = shadeOf(p, rec.shade_id);
    var li = el('li', 'result');
    li.setAttribute('data-product-id', p.product_id || '');
    li.setAttribute('data-shade-id', rec.shade_id || '');
    var media = el('span', 'r-media');
    media.style.backgroundColor = validHex(shade && shade.hex);
    if (p.swatch_url) {
      var img = el('img', 'r-img');
      img.alt = ''; img.loading = 'lazy';
      img.addEventListener('error', function () { img.remove(); });
      img.src = p.swatch_url;
      media.appendChild(img);
    }
    var chip = el('span', 'r-chip');
    chip.style.backgroundColor = validHex(shade && shade.hex);
    chip.setAttribute('aria-hidden', 'true');
    media.appendChild(chip);
    li.appendChild(media);

    var body = el('div', 'r-body');
    var top = el('div', 'r-top');
    top.appendChild(el('span', 'r-brand', p.brand || ''));
    if (!withDelta && p.category) top.appendChild(el('span', 'r-cat', catName(p.category)));
    body.appendChild(top);
    body.appendChild(el('div', 'r-name', p.name || ''));
    var line = el('div', 'r-shade');
    line.appendChild(el('span', null, shade ? shade.name : (rec.shade_id || '')));
    if (withDelta && rec.delta_e != null) {
      var de = el('span', 'delta-e', t('deltaE', { v: Number(rec.delta_e).toFixed(1) }));
      de.title = t('deltaEHint');
      line.appendChild(de);
    } else if (p.price) {
      line.appendChild(el('span', 'r-price', formatPrice(p.price)));
    }
    body.appendChild(line);
    var reason = el('p', 'reason', rec.reason || '');
    if (!rec.reason) reason.hidden = true;
    body.appendChild(reason);
    li.appendChild(body);

    var actions = el('div', 'r-actions');
    var name = (p.brand ? p.brand + ' ' : '') + (p.name || '') + (shade ? ' — ' + shade.name : '');
    var tryBtn = el('button', 'btn small try', t('tryIt'));
    tryBtn.type = 'button';
    tryBtn.setAttribute('aria-label', t('tryItLabel', { name: name }));
    tryBtn.addEventListener('click', function () {
      if (!p.product_id) return;
      applyShade(p, rec.shade_id);
    });
    actions.appendChild(tryBtn);
    if (!withDelta) {
      var bagBtn = el('button', 'btn small primary add-to-bag', t('addToBag'));
      bagBtn.type = 'button';
      bagBtn.setAttribute('aria-label', t('addToBagLabel', { name: name }));
      bagBtn.addEventListener('click', function () { addToBag(p, rec.shade_id, bagBtn); });
      actions.appendChild(bagBtn);
    }
    li.appendChild(actions);
    return li;
  }

  function renderFoundation() {
    var box = $('foundation-results');
    box.textContent = '';
    foundation.results.forEach(function (r) { box.appendChild(resultItem(r, true)); });
    renderSkinTone();
  }

  // ---------------------------------------------------------------- recommendations
  function loadRecommendations() {
    if (!requireKey()) return Promise.resolve();
    var btn = $('recommend');
    var body = { user_id: userId, k: 8 };
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    $('recommendations').setAttribute('aria-busy', 'true');
    var faceP = stats.mode === 'photo' && photo.faces.length ? ensurePhotoFace()
      : Promise.resolve(live.faceId && performance.now() < live.faceExpiresAt ? live.faceId : '');
    return faceP.then(function (fid) {
      if (fid) body.face_id = fid;
      return api('POST', '/api/v1/recommendations', { json: body });
    }).catch(function (e) {
      // A face kept too long has expired: pick without it rather than fail.
      if (body.face_id && e.status === 404) {
        if (live.faceId === body.face_id) live.faceId = '';
        delete body.face_id;
        return api('POST', '/api/v1/recommendations', { json: body });
      }
      throw e;
    }).then(function (r) {
      recs.items = r.recommendations || [];
      recs.items.forEach(function (x) { if (x.product) productCache.set(x.product.product_id, x.product); });
      recs.loaded = true;
      renderRecs();
    }).catch(reportError).then(function () {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
      $('recommendations').setAttribute('aria-busy', 'false');
    });
  }

  function renderRecs() {
    var box = $('recommendations');
    box.textContent = '';
    if (recs.loaded && !recs.items.length) {
      box.appendChild(el('li', 'muted small', t('recsNone')));
      return;
    }
    recs.items.forEach(function (r) { box.appendChild(resultItem(r, false)); });
  }

  // ---------------------------------------------------------------- the advisor
  // The page keeps the conversation (the server keeps none) and sends it with each question,
  // so follow-ups such as "a bit lighter" or "换个哑光的" refine the last answer.
  var advice = { history: [], items: [] };

  function ask(ev) {
    if (ev) ev.preventDefault();
    if (!requireKey()) return;
    var input = $('ask-input');
    var message = input.value.trim();
    if (!message) { warn('askNeedText'); return; }
    var btn = $('ask-send');
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    var faceP = stats.mode === 'photo' && photo.faces.length ? ensurePhotoFace()
      : Promise.resolve(live.faceId && performance.now() < live.faceExpiresAt ? live.faceId : '');
    faceP.then(function (fid) {
      var body = { message: message, history: advice.history.slice(-18), user_id: userId, k: 6 };
      if (fid) body.face_id = fid;
      return api('POST', '/api/v1/advise', { json: body });
    }).then(function (r) {
      advice.history.push({ role: 'shopper', text: message });
      advice.history.push({ role: 'advisor', text: r.reply || '' });
      advice.items = r.products || [];
      advice.items.forEach(function (x) { if (x.product) productCache.set(x.product.product_id, x.product); });
      $('ask-reply').textContent = r.reply || '';
      input.value = '';
      renderAdvice();
    }).catch(reportError).then(function () {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    });
  }

  function renderAdvice() {
    var box = $('ask-results');
    box.textContent = '';
    advice.items.forEach(function (r) { box.appendChild(resultItem(r, false)); });
    var kinds = {};
    advice.items.forEach(function (r) { if (r.product) kinds[r.product.category] = true; });
    $('ask-try-look').hidden = Object.keys(kinds).length < 2;  // a look, not one category's picks
  }

  function tryAdvisedLook() {
    // One product per category: the advisor's best of each, painted in order.
    var seen = {};
    advice.items.forEach(function (r) {
      var p = r.product;
      if (!p || seen[p.category] || p.category === 'nail_polish') return;
      seen[p.category] = true;
      applyShade(p, r.shade_id);
    });
  }

  // ---------------------------------------------------------------- download
  function download() {
    if (stats.mode === 'idle') { warn('downloadEmpty'); return; }
    view.toBlob(function (blob) {
      if (!blob) { warn('downloadEmpty'); return; }
      var url = URL.createObjectURL(blob);
      var a = document.createElement('a');
      a.href = url;
      a.download = 'tryon.png';
      a.className = 'sr-only';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 4000);
    }, 'image/png');
  }

  // ---------------------------------------------------------------- wiring
  function wire() {
    $('lang').addEventListener('change', function () { setLang($('lang').value); });
    $('status-close').addEventListener('click', clearStatus);
    $('start-camera').addEventListener('click', startCamera);
    $('stop-camera').addEventListener('click', function () {
      stopLive(false);
      $('start-camera').focus();
    });
    $('photo-input').addEventListener('change', function () {
      var f = $('photo-input').files && $('photo-input').files[0];
      if (f) loadPhoto(f);
      $('photo-input').value = '';
    });
    $('download').addEventListener('click', download);
    $('ask-form').addEventListener('submit', ask);
    $('ask-try-look').addEventListener('click', tryAdvisedLook);
    $('split').addEventListener('input', function () {
      split = clamp(Number($('split').value) || 0, 0, 100);
      drawView();
    });

    var wrap = $('view-wrap');
    var depth = 0;
    var hasFiles = function (e) {
      return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], 'Files') >= 0;
    };
    wrap.addEventListener('dragenter', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault(); depth++; wrap.classList.add('dragging');
    });
    wrap.addEventListener('dragover', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault(); e.dataTransfer.dropEffect = 'copy';
    });
    wrap.addEventListener('dragleave', function () {
      depth = Math.max(0, depth - 1); if (!depth) wrap.classList.remove('dragging');
    });
    wrap.addEventListener('drop', function (e) {
      e.preventDefault(); e.stopPropagation();
      depth = 0; wrap.classList.remove('dragging');
      var f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (f) loadPhoto(f);
    });
    // A file dropped next to the view must not navigate away from the studio.
    window.addEventListener('dragover', function (e) { if (hasFiles(e)) e.preventDefault(); });
    window.addEventListener('drop', function (e) { if (hasFiles(e)) e.preventDefault(); });

    $('category').addEventListener('change', function () { setCategory($('category').value); });
    $('brand').addEventListener('change', function () { catalog.brand = $('brand').value; loadProducts(false); });
    $('family').addEventListener('change', function () { catalog.family = $('family').value; loadProducts(false); });
    var search = debounce(function () {
      var q = $('search').value.trim();
      if (q === catalog.q) return;
      catalog.q = q;
      loadProducts(false);
    }, 250);
    $('search').addEventListener('input', search);
    $('search').addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); search.now(); } });
    $('load-more').addEventListener('click', function () { loadProducts(true); });
    $('clear-look').addEventListener('click', clearLook);
    $('find-foundation').addEventListener('click', findFoundation);
    $('recommend').addEventListener('click', loadRecommendations);

    window.addEventListener('pagehide', function () { stopLive(true); });
    window.addEventListener('resize', throttle(function () { if (stats.mode === 'photo') drawView(); }, 150));
  }

  function init() {
    if (params.get('embed') === '1') document.documentElement.classList.add('embed');
    try { bagCount = Number(sessionStorage.getItem('tryon_bag:' + userId)) || 0; } catch (e) { bagCount = 0; }
    wire();
    setAspect(4, 3);
    applyI18n();
    window.tryonStudio = {
      setLook: setLook,
      getLook: publicLook,
      selectShade: selectShade,
      startCamera: startCamera,
      stopCamera: function () { stopLive(false); },
      setLang: setLang,
      userId: userId
    };
    if (!KEY) { error('noKey'); disableAll(); return; }
    if (KEY.indexOf('pk_') !== 0) { error('notPublishable'); disableAll(); return; }

    var pid = params.get('product');
    if (pid) preselect(pid, params.get('shade') || '');
    else setCategory('lipstick');
    loadRecommendations();
    if (params.get('autostart') === '1') startCamera();
  }

  function disableAll() {
    ['start-camera', 'photo-input', 'category', 'brand', 'family', 'search', 'find-foundation',
      'recommend', 'download', 'clear-look', 'split', 'ask-input', 'ask-send'].forEach(function (id) { $(id).disabled = true; });
    $('view-wrap').classList.add('no-key');
    $('products').textContent = '';
  }

  init();
})();
