// Inlay dev mode: live reload. Listens for layout and config changes; a
// change reloads the page, a broken change shows the error overlay, and
// the fix closes it. Pages carry this script in dev mode only.
(function () {
  var me = document.currentScript;
  var version = me.dataset.inlayVersion;
  var events = new EventSource(me.dataset.inlayEvents);
  events.onmessage = function (e) {
    var msg = JSON.parse(e.data);
    me.dataset.inlayLive = "listening"; // for people (and tests) asking why nothing reloads
    var shown = document.querySelector("[data-inlay-overlay]");
    if (msg.overlay) {
      if (shown) {
        shown.outerHTML = msg.overlay;
      } else {
        document.body.insertAdjacentHTML("beforeend", msg.overlay);
      }
      return;
    }
    if (msg.version !== version || shown) {
      events.close();
      location.reload();
    }
  };
})();
