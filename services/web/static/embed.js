/* tryon embed snippet for a retailer's product page:
   <script src="https://studio.example/embed.js" data-key="pk_..." data-product="ID" async></script>
   Optional: data-shade, data-lang ("en" | "zh"), data-user, data-target ("#css-selector"),
   data-height ("720" or any CSS length; default 720px). */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) {
    // Very old browsers: the last matching tag that has not been handled yet.
    var all = document.querySelectorAll('script[src*="embed.js"][data-key]');
    for (var i = all.length - 1; i >= 0; i--) {
      if (!all[i].hasAttribute('data-tryon-embedded')) { script = all[i]; break; }
    }
  }
  if (!script || script.hasAttribute('data-tryon-embedded')) return;
  script.setAttribute('data-tryon-embedded', '');

  var origin;
  try {
    origin = new URL(script.src, location.href).origin;
  } catch (e) {
    return;
  }
  var d = script.dataset || {};
  var q = new URLSearchParams();
  q.set('key', d.key || '');
  if (d.product) q.set('product', d.product);
  if (d.shade) q.set('shade', d.shade);
  if (d.lang) q.set('lang', d.lang);
  if (d.user) q.set('user', d.user);
  q.set('embed', '1');

  var height = (d.height || '').trim() || '720px';
  if (/^\d+(\.\d+)?$/.test(height)) height += 'px';

  var frame = document.createElement('iframe');
  frame.src = origin + '/studio?' + q.toString();
  frame.title = 'Virtual try-on';
  frame.setAttribute('allow', 'camera; fullscreen');
  frame.setAttribute('referrerpolicy', 'strict-origin-when-cross-origin');
  frame.className = 'tryon-embed';
  frame.style.width = '100%';
  frame.style.height = height;
  frame.style.border = '0';
  frame.style.display = 'block';
  frame.style.maxWidth = '100%';

  function place() {
    if (d.target) {
      var target = null;
      try { target = document.querySelector(d.target); } catch (e) { target = null; }
      if (target) { target.appendChild(frame); return true; }
      return false;
    }
    if (script.parentNode) {
      script.parentNode.insertBefore(frame, script.nextSibling);
      return true;
    }
    return false;
  }

  if (!place()) {
    // The target may come later in the page than the (async) script.
    var done = false;
    var retry = function () {
      if (done) return;
      if (place()) { done = true; return; }
      if (document.readyState === 'complete') {
        done = true;
        if (window.console) console.warn('tryon embed: target ' + d.target + ' not found; placing after the script');
        if (script.parentNode) script.parentNode.insertBefore(frame, script.nextSibling);
        else document.body.appendChild(frame);
      }
    };
    document.addEventListener('DOMContentLoaded', retry);
    window.addEventListener('load', retry);
  }
})();
