/* One-click copy for [data-copy-target] buttons (HR link pages). Without JavaScript the buttons
   stay hidden and the text remains a selectable field. */
(function () {
  "use strict";
  function status(message) {
    var el = document.querySelector(".copy-status");
    if (el) { el.textContent = message; }
  }
  function fallbackCopy(source) {
    source.focus();
    source.select();
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () { status(button.getAttribute("data-copied") || "コピーしました"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () {
          if (fallbackCopy(source)) { done(); }
        });
      } else if (fallbackCopy(source)) {
        done();
      }
    });
  });
})();
