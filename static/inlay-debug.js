// Inlay debug view: outlines and labels drawn over the page's boxes, and a
// page summary. The page itself is left as it is: Inlay marks each box
// with a pair of comments, and this script draws in a layer of its own,
// positioned over the boxes, that takes no space in the page.
//
// Labels stay inside the viewport (cut with an ellipsis when too long)
// and never cover a control: each is tried above its box, inside its top,
// below it and inside its bottom, and goes where it covers none. Where
// every place covers one, it shrinks to a compact badge that opens on
// hover or focus. A failed box's label starts with what failed and why.
// A box that shows nothing, and did not fail, is in the summary only.
(function () {
  var data = JSON.parse(document.getElementById("inlay-debug-data").textContent);
  var boxes = data.boxes || [];
  var MARGIN = 4; // px kept between a label and the viewport's edges
  var CONTROLS = "a, button, input, select, textarea, [role=button], label";
  var OURS = "[data-inlay-debug-layer], [data-inlay-debug-summary], [data-inlay-warnings], [data-inlay-overlay]";

  var layer = document.createElement("div");
  layer.className = "inlay-debug-layer";
  layer.setAttribute("data-inlay-debug-layer", "");

  // Find the comment pairs that mark each box.
  var ranges = [];
  var starts = {};
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_COMMENT);
  for (var c = walker.nextNode(); c; c = walker.nextNode()) {
    var m = /^(\/?)inlay-debug:(\d+)$/.exec(c.data);
    if (!m) continue;
    if (!m[1]) {
      starts[m[2]] = c;
    } else if (starts[m[2]] && boxes[+m[2]]) {
      ranges.push({ start: starts[m[2]], end: c, info: boxes[+m[2]], index: +m[2] });
    }
  }

  // rectOf is the union of the boxes of what stands between two marks:
  // the elements' own boxes (not what overflows them, such as a scrolling
  // row's hidden part) and the text's.
  function rectOf(b) {
    var l = Infinity, t = Infinity, r = -Infinity, btm = -Infinity;
    function add(x) {
      if (!x || (x.width === 0 && x.height === 0)) return;
      l = Math.min(l, x.left); t = Math.min(t, x.top);
      r = Math.max(r, x.right); btm = Math.max(btm, x.bottom);
    }
    if (b.start.parentNode === b.end.parentNode) {
      for (var n = b.start.nextSibling; n && n !== b.end; n = n.nextSibling) {
        if (n.nodeType === 1) {
          add(n.getBoundingClientRect());
        } else if (n.nodeType === 3 && n.data.trim()) {
          var tr = document.createRange();
          tr.selectNodeContents(n);
          add(tr.getBoundingClientRect());
        }
      }
    } else {
      var rg = document.createRange();
      rg.setStartAfter(b.start);
      rg.setEndBefore(b.end);
      add(rg.getBoundingClientRect());
    }
    if (l === Infinity) {
      var at = b.end.parentNode.getBoundingClientRect();
      return { left: at.left, top: at.top, width: 0, height: 0 };
    }
    return { left: l, top: t, width: r - l, height: btm - t };
  }

  // The label's words. A failed box's start with its id, team, failed or
  // timeout and the reason, before the cache, tier and duration.
  function fullText(info) {
    var parts = [info.id, info.service, info.status];
    if (info.degraded) {
      if (info.reason) parts.push(info.reason);
      if (info.shown) parts.push("shows " + info.shown);
    }
    parts.push(info.duration);
    if (info.cache) parts.push("cache " + info.cache);
    if (info.tier) parts.push("from " + info.tier);
    if (info.breaker) parts.push("breaker " + info.breaker);
    if (info.instance) parts.push("at " + info.instance);
    if (info.canary) parts.push("canary");
    if (info.version) parts.push("v " + info.version);
    if (!info.degraded && info.shown) parts.push("shows " + info.shown);
    return parts.join(" · ");
  }

  // shortText is a compact badge's: the id, and what failed on a line
  // of its own.
  function shortText(info) {
    return info.degraded ? info.id + "\n" + info.status : info.id;
  }

  // The tooltip's rows and the legend of the words they use.
  function rows(info) {
    var out = [["box", info.id], ["team", info.service], ["status", info.status]];
    if (info.reason) out.push(["reason", info.reason]);
    if (info.shown) out.push(["shows", info.shown]);
    out.push(["duration", info.duration]);
    if (info.cache) out.push(["cache", info.cache]);
    if (info.tier) out.push(["tier", info.tier]);
    if (info.breaker) out.push(["breaker", info.breaker]);
    if (info.instance) out.push(["instance", info.instance]);
    if (info.canary) out.push(["version", "canary"]);
    if (info.version) out.push(["version", info.version]);
    return out;
  }

  var WORDS = {
    "cache hit": "cache hit: a fresh copy from the cache",
    "cache miss": "cache miss: fetched from the team just now",
    "cache stale": "cache stale: an older copy, served while it is refreshed or while the team fails",
    "cache pass": "cache pass: the team said it may not be cached, so every page fetches it",
    "tier memory": "memory: this Inlay's own in-process cache",
    "tier shared": "shared: the cache all Inlays share",
    "tier origin": "origin: the team's service",
    "duration 0s": "0s: served from the cache in under 0.1 ms",
    "breaker closed": "breaker closed: the team is called as usual",
    "breaker open": "breaker open: the team failed too often and is left alone for a while",
    "breaker half-open": "breaker half-open: a few calls test whether the team is back",
    "shows fallback-src": "fallback-src: the layout's fallback fragment",
    "shows inline fallback": "inline fallback: the markup written inside <fragment>",
    "status timeout": "timeout: no answer within the fragment's timeout",
  };

  function legend(info) {
    var out = [];
    rows(info).forEach(function (r) {
      var w = WORDS[r[0] + " " + r[1]];
      if (w) out.push(w);
    });
    return out.join(" · ");
  }

  // The tooltip, one for every label: shown on hover and keyboard focus.
  var tip = document.createElement("div");
  tip.className = "inlay-debug-tip";
  tip.id = "inlay-debug-tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;

  function showTip(tag) {
    var info = tag.inlayInfo;
    tip.textContent = "";
    var table = document.createElement("table");
    rows(info).forEach(function (r) {
      var tr = table.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = r[0];
      tr.appendChild(th);
      tr.insertCell().textContent = r[1];
    });
    tip.appendChild(table);
    var words = legend(info);
    if (words) {
      var p = document.createElement("p");
      p.className = "inlay-debug-legend";
      p.textContent = words;
      tip.appendChild(p);
    }
    if (tag.inlayCompact) openCompact(tag);
    tip.hidden = false;
    // Below the label, or above it when there is no room below; always
    // inside the viewport's width.
    var vw = document.documentElement.clientWidth, sx = window.scrollX, sy = window.scrollY;
    var t = tag.getBoundingClientRect();
    tip.style.maxWidth = Math.min(480, vw - 2 * MARGIN) + "px";
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var top = t.bottom + 2;
    if (top + h > window.innerHeight && t.top - h - 2 >= 0) top = t.top - h - 2;
    tip.style.left = clamp(t.left, MARGIN, vw - MARGIN - w) + sx + "px";
    tip.style.top = top + sy + "px";
  }

  function hideTip(tag) {
    tip.hidden = true;
    if (tag && tag.inlayCompact) closeCompact(tag);
  }

  function clamp(v, lo, hi) { return Math.max(lo, Math.min(v, hi)); }

  // A compact badge opens to its whole label, kept inside the viewport.
  function openCompact(tag) {
    var vw = document.documentElement.clientWidth;
    tag.classList.add("inlay-debug-open");
    tag.style.maxWidth = vw - 2 * MARGIN + "px";
    var w = tag.offsetWidth;
    tag.style.left = clamp(tag.inlayX, MARGIN, vw - MARGIN - w) + window.scrollX + "px";
  }

  function closeCompact(tag) {
    tag.classList.remove("inlay-debug-open");
    tag.style.left = tag.inlayX + window.scrollX + "px";
  }

  function overlap(a, b) {
    var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && h > 0 ? w * h : 0;
  }

  function cost(r, rects) {
    var sum = 0;
    for (var i = 0; i < rects.length; i++) sum += overlap(r, rects[i]);
    return sum;
  }

  // controlRects are the visible controls' boxes, in page coordinates.
  function controlRects(sx, sy) {
    var out = [];
    document.querySelectorAll(CONTROLS).forEach(function (e) {
      if (e.closest(OURS)) return;
      var r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) return;
      out.push({ left: r.left + sx, top: r.top + sy, right: r.right + sx, bottom: r.bottom + sy });
    });
    return out;
  }

  // place puts tag by box (page coordinates): the first place that
  // covers no control and no other label; else, as a compact badge, the
  // first such place for the badge; else the badge where it covers least.
  function place(tag, box, vw, pageHeight, controls, placed) {
    function spots(w, h, sides) {
      var xs = [clamp(box.left, MARGIN, vw - MARGIN - w), clamp(box.right - w, MARGIN, vw - MARGIN - w)];
      if (xs[1] === xs[0]) xs.pop();
      var out = [];
      function add(x, y) {
        if (y < 0 || y + h > pageHeight || x < MARGIN || x + w > vw - MARGIN) return; // off the page
        out.push(nudge({ left: x, top: y, right: x + w, bottom: y + h }));
      }
      [box.top - h, box.top, box.bottom, box.bottom - h].forEach(function (y) {
        xs.forEach(function (x) { add(x, y); });
      });
      if (sides) {
        // Beside the box, at its top, middle or bottom.
        [box.top, box.top + (box.bottom - box.top - h) / 2, box.bottom - h].forEach(function (y) {
          add(box.left - w - 2, y);
          add(box.right + 2, y);
        });
      }
      return out;
    }
    // nudge moves a spot off controls it only grazes (a few pixels at
    // its top or bottom edge), away from them.
    function nudge(s) {
      var down = 0, up = 0;
      for (var i = 0; i < controls.length; i++) {
        var c = controls[i];
        if (!overlap(s, c)) continue;
        if (c.bottom - s.top <= 4) down = Math.max(down, c.bottom - s.top);
        else if (s.bottom - c.top <= 4) up = Math.max(up, s.bottom - c.top);
        else return s;
      }
      if (down && !up) return { left: s.left, right: s.right, top: s.top + down, bottom: s.bottom + down };
      if (up && !down && s.top - up >= 0) return { left: s.left, right: s.right, top: s.top - up, bottom: s.bottom - up };
      return s;
    }
    function measure() {
      tag.style.maxWidth = vw - 2 * MARGIN + "px";
      return { w: Math.ceil(tag.getBoundingClientRect().width), h: Math.ceil(tag.getBoundingClientRect().height) };
    }
    var full = measure();
    var free = spots(full.w, full.h).filter(function (s) { return cost(s, controls) === 0 && cost(s, placed) === 0; })[0];
    if (!free) {
      tag.inlayCompact = true;
      tag.classList.add("inlay-debug-compact");
      var small = measure();
      var all = spots(small.w, small.h, true);
      free = all.filter(function (s) { return cost(s, controls) === 0 && cost(s, placed) === 0; })[0];
      if (!free) {
        all.sort(function (a, b) { return cost(a, controls) - cost(b, controls) || cost(a, placed) - cost(b, placed); });
        free = all[0] || { left: clamp(box.left, MARGIN, vw - MARGIN - small.w), top: Math.max(box.top, 0), right: 0, bottom: 0 };
      }
    }
    tag.inlayX = free.left - window.scrollX;
    tag.style.left = free.left + "px";
    tag.style.top = free.top + "px";
    return free;
  }

  function draw() {
    var focused = document.activeElement && document.activeElement.inlayIndex;
    hideTip();
    layer.textContent = "";
    layer.appendChild(tip);
    var sx = window.scrollX, sy = window.scrollY;
    var vw = document.documentElement.clientWidth;
    var pageHeight = Math.max(document.documentElement.scrollHeight, window.innerHeight);
    var controls = controlRects(sx, sy);
    var placed = [];
    // Failed boxes first: their labels get the best places.
    var order = ranges.slice().sort(function (a, b) {
      return (b.info.degraded ? 1 : 0) - (a.info.degraded ? 1 : 0) || a.index - b.index;
    });
    var refocus = null;
    order.forEach(function (b) {
      var rect = rectOf(b);
      // A box that shows nothing has nothing to outline: the summary
      // lists it. A failed one is labelled all the same.
      if (rect.width === 0 && rect.height === 0 && !b.info.degraded) return;
      // Never wider than the page: an outline must not make it scroll.
      var left = Math.max(rect.left, 0);
      var right = Math.min(rect.left + rect.width, vw);
      var box = document.createElement("div");
      box.className = "inlay-debug-outline" + (b.info.degraded ? " inlay-debug-degraded" : "");
      box.setAttribute("data-fragment", b.info.id);
      box.style.left = left + sx + "px";
      box.style.top = rect.top + sy + "px";
      box.style.width = Math.max(right - left, 4) + "px";
      box.style.height = Math.max(rect.height, 4) + "px";
      var tag = document.createElement("span");
      tag.className = "inlay-debug-label" + (b.info.degraded ? " inlay-debug-label-degraded" : "");
      tag.setAttribute("data-fragment", b.info.id);
      tag.setAttribute("data-short", shortText(b.info));
      tag.tabIndex = 0;
      tag.setAttribute("aria-describedby", tip.id);
      tag.inlayInfo = b.info;
      tag.inlayIndex = b.index + 1;
      var whole = document.createElement("span");
      whole.className = "inlay-debug-full";
      whole.textContent = fullText(b.info);
      tag.appendChild(whole);
      tag.addEventListener("mouseenter", function () { showTip(tag); });
      tag.addEventListener("mouseleave", function () { if (document.activeElement !== tag) hideTip(tag); });
      tag.addEventListener("focus", function () { showTip(tag); });
      tag.addEventListener("blur", function () { hideTip(tag); });
      tag.addEventListener("keydown", function (e) { if (e.key === "Escape") hideTip(tag); });
      layer.appendChild(box);
      layer.appendChild(tag);
      placed.push(place(tag, { left: left + sx, top: rect.top + sy, right: right + sx, bottom: rect.top + sy + rect.height },
        vw, pageHeight, controls, placed));
      if (focused === tag.inlayIndex) refocus = tag;
    });
    if (refocus) refocus.focus();
    placeSummary();
  }

  // The page summary: total time, time to first byte, and every box with
  // its team and status. Collapsed to one line where it covers no control.
  var summary = document.createElement("details");
  summary.className = "inlay-debug-summary";
  summary.setAttribute("data-inlay-debug-summary", "");
  var head = document.createElement("summary");
  summary.appendChild(head);
  var timing = document.createElement("p");
  summary.appendChild(timing);
  var list = document.createElement("table");
  var failed = 0;
  boxes.forEach(function (info) {
    if (info.degraded) failed++;
    var tr = list.insertRow();
    if (info.degraded) tr.className = "inlay-debug-summary-failed";
    [info.id, info.service, info.status, info.duration].forEach(function (v) { tr.insertCell().textContent = v; });
    tr.insertCell().textContent = info.reason || [info.cache, info.tier].filter(Boolean).join(" · ");
  });
  var th = list.createTHead().insertRow();
  ["box", "team", "status", "time", "detail"].forEach(function (v) {
    var cell = document.createElement("th");
    cell.textContent = v;
    th.appendChild(cell);
  });
  summary.appendChild(list);

  function ms(v) { return v < 10 ? v.toFixed(1) + " ms" : Math.round(v) + " ms"; }

  function fillSummary() {
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    var total = "", ttfb = "";
    if (nav) {
      total = ms((nav.loadEventEnd || nav.responseEnd) - nav.startTime);
      ttfb = ms(nav.responseStart - nav.startTime);
    }
    head.textContent = "Inlay · " + boxes.length + (boxes.length === 1 ? " box" : " boxes") +
      (failed ? " · " + failed + " failed" : "");
    var parts = [];
    if (total) parts.push("total " + total + (nav && nav.loadEventEnd ? " (to load)" : " (to the last byte)"));
    if (ttfb) parts.push("TTFB " + ttfb);
    parts.push("composed in " + data.composed + " on the server" + (data.ttfb ? ", headers after " + data.ttfb : ""));
    timing.textContent = parts.join(" · ");
  }

  // placeSummary puts the collapsed summary where it covers no control
  // in the viewport: a corner, else along an edge; else where it covers
  // least. It opens towards the middle of the viewport.
  function placeSummary() {
    if (summary.open) return;
    var controls = controlRects(0, 0);
    var badge = document.querySelector("[data-inlay-warnings]");
    if (badge) controls.push(badge.getBoundingClientRect());
    // Labels count too, for less than a control.
    var labels = [];
    layer.querySelectorAll(".inlay-debug-label").forEach(function (l) { labels.push(l.getBoundingClientRect()); });
    summary.style.left = "8px";
    summary.style.top = "8px";
    summary.style.right = summary.style.bottom = "auto";
    var r = summary.getBoundingClientRect();
    var w = r.width, h = r.height, vw = document.documentElement.clientWidth, vh = window.innerHeight;
    var spots = [[8, vh - h - 8], [vw - w - 8, vh - h - 8], [vw - w - 8, 8], [8, 8]];
    for (var y = vh - h - 24; y > 8; y -= 16) spots.push([8, y], [vw - w - 8, y]);
    for (var x = 24; x < vw - w - 8; x += 16) spots.push([x, vh - h - 8], [x, 8]);
    var best = null;
    for (var i = 0; i < spots.length; i++) {
      var at = { left: spots[i][0], top: spots[i][1], right: spots[i][0] + w, bottom: spots[i][1] + h };
      var c = cost(at, controls) * 1000 + cost(at, labels);
      if (!best || c < best.cost) best = { at: at, cost: c };
      if (c === 0) break;
    }
    var a = best.at;
    if (a.left + w / 2 > vw / 2) {
      summary.style.left = "auto";
      summary.style.right = vw - a.right + "px";
    } else {
      summary.style.left = a.left + "px";
    }
    if (a.top + h / 2 > vh / 2) {
      summary.style.top = "auto";
      summary.style.bottom = vh - a.bottom + "px";
    } else {
      summary.style.top = a.top + "px";
    }
  }

  fillSummary();
  document.body.appendChild(layer);
  document.body.appendChild(summary);
  draw();
  // Images and late styles move boxes: follow them.
  var size = "";
  window.addEventListener("load", function () {
    draw();
    setTimeout(fillSummary); // loadEventEnd is known once the load event is over
  });
  window.addEventListener("resize", draw);
  // The summary stays put while the page scrolls under it: move it off
  // a control it comes to cover.
  var moving = false;
  window.addEventListener("scroll", function () {
    if (moving) return;
    moving = true;
    requestAnimationFrame(function () { moving = false; placeSummary(); });
  }, { passive: true });
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      var now = document.body.offsetWidth + "x" + document.body.offsetHeight;
      if (now !== size) {
        size = now;
        draw();
      }
    }).observe(document.body);
  }
  size = document.body.offsetWidth + "x" + document.body.offsetHeight;
  document.documentElement.setAttribute("data-inlay-debug-ready", "");
})();
