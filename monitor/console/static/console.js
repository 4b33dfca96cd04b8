// exwatch console: small progressive enhancements; every page works without this file.
"use strict";
(function () {
  // An estimate of X's weighted length as one types (CJK and emoji count 2, links 23);
  // the Preview button shows the exact post exwatch will send.
  var LINK = /https?:\/\/\S+/g;
  function weight(text) {
    var total = 0;
    var rest = text.replace(LINK, function () { total += 23; return ""; });
    for (var ch of rest) {
      var cp = ch.codePointAt(0);
      var light = (cp <= 0x10ff) || (cp >= 0x2000 && cp <= 0x200d) || (cp >= 0x2010 && cp <= 0x201f) || (cp >= 0x2032 && cp <= 0x2037);
      total += light ? 1 : 2;
    }
    return total;
  }
  function attach(area) {
    var note = document.createElement("span");
    note.className = "x-count";
    note.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", note);
    function update() {
      var w = weight(area.value);
      note.textContent = "≈ " + w + " of X's 280 (text only)";
      note.classList.toggle("over", w > 280);
    }
    area.addEventListener("input", update);
    update();
  }
  document.querySelectorAll("textarea[data-x-count]").forEach(attach);
  // Forms that end something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
