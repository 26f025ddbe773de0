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
      var r = document.createRange();
      r.setStartAfter(starts[m[2]]);
      r.setEndBefore(c);
      ranges.push({ range: r, info: boxes[+m[2]] });
    }
  }

  function label(info) {
    var parts = [info.id, info.service, info.status, info.duration];
    if (info.cache) parts.push("cache " + info.cache);
    if (info.breaker) parts.push("breaker " + info.breaker);
    if (info.version) parts.push("v " + info.version);
    if (info.shown) parts.push("shows " + info.shown);
    if (info.reason) parts.push(info.reason);
    return parts.join(" · ");
  }

  function draw() {
    layer.textContent = "";
    var sx = window.scrollX, sy = window.scrollY;
    ranges.forEach(function (b) {
      var rect = b.range.getBoundingClientRect();
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
