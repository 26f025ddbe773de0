// Inlay debug view: outlines and labels drawn over the page's boxes. The
// page itself is left as it is: Inlay marks each box with a pair of
// comments, and this script draws in a layer of its own, positioned over
// the boxes, that takes no space in the page.
(function () {
  var boxes = JSON.parse(document.getElementById("inlay-debug-data").textContent);
  var layer = document.createElement("div");
  layer.className = "inlay-debug-layer";
  layer.setAttribute("data-inlay-debug-layer", "");
  layer.setAttribute("aria-hidden", "true");

  // Find the comment pairs that mark each box.
  var ranges = [];
  var starts = {};
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_COMMENT);
  for (var c = walker.nextNode(); c; c = walker.nextNode()) {
    var m = /^(\/?)inlay-debug:(\d+)$/.exec(c.data);
    if (!m) continue;
    if (!m[1]) {
      starts[m[2]] = c;
    } else if (starts[m[2]]) {
      ranges.push({ start: starts[m[2]], end: c, info: boxes[+m[2]] });
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

  function label(info) {
    var parts = [info.id, info.service, info.status, info.duration];
    if (info.cache) parts.push("cache " + info.cache);
    if (info.tier) parts.push("from " + info.tier);
    if (info.breaker) parts.push("breaker " + info.breaker);
    if (info.version) parts.push("v " + info.version);
    if (info.shown) parts.push("shows " + info.shown);
    if (info.reason) parts.push(info.reason);
    return parts.join(" · ");
  }

  function draw() {
    layer.textContent = "";
    var sx = window.scrollX, sy = window.scrollY;
    var pageWidth = document.documentElement.clientWidth;
    ranges.forEach(function (b) {
      var rect = rectOf(b);
      // Never wider than the page: an outline must not make it scroll.
      var left = Math.max(rect.left, 0);
      rect = { left: left, top: rect.top, width: Math.min(rect.left + rect.width, pageWidth) - left, height: rect.height };
      var box = document.createElement("div");
      box.className = "inlay-debug-outline" + (b.info.degraded ? " inlay-debug-degraded" : "");
      box.setAttribute("data-fragment", b.info.id);
      box.style.left = rect.left + sx + "px";
      box.style.top = rect.top + sy + "px";
      box.style.width = Math.max(rect.width, 4) + "px";
      box.style.height = Math.max(rect.height, 4) + "px";
      var tag = document.createElement("span");
      tag.className = "inlay-debug-label";
      tag.textContent = label(b.info);
      tag.title = JSON.stringify(b.info, null, 1);
      box.appendChild(tag);
      layer.appendChild(box);
      // Keep the whole label on the page: flip it inside the box at the
      // top edge, and right-align it at the right edge.
      var t = tag.getBoundingClientRect();
      if (t.top + sy < 0) {
        tag.style.bottom = "auto";
        tag.style.top = "0";
      }
      if (t.right > document.documentElement.clientWidth) {
        tag.style.left = "auto";
        tag.style.right = "-1px";
      } else if (t.left < 0) {
        // An empty box at the page's left edge.
        tag.style.left = "0";
      }
    });
  }

  document.body.appendChild(layer);
  draw();
  // Images and late styles move boxes: follow them.
  window.addEventListener("load", draw);
  window.addEventListener("resize", draw);
  if (window.ResizeObserver) new ResizeObserver(draw).observe(document.body);
  document.documentElement.setAttribute("data-inlay-debug-ready", "");
})();
