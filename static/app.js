// Countersign progressive enhancement. Every page works without this file.
"use strict";
(function () {
  // Times: render UTC server-side, show them in the viewer's zone here.
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  document.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) { t.title = t.textContent; t.textContent = fmt.format(d); }
  });

  // Shortcut list.
  var dialog = document.getElementById("shortcuts");
  function toggleHelp() {
    if (!dialog || !dialog.showModal) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }
  document.querySelectorAll("[data-shortcuts-open]").forEach(function (b) { b.addEventListener("click", toggleHelp); });

  // Extracted field → transcript turn highlight (the #turn-N anchor works without JS).
  document.querySelectorAll("a[data-turn]").forEach(function (a) {
    a.addEventListener("click", function () {
      document.querySelectorAll(".turn.hl").forEach(function (t) { t.classList.remove("hl"); });
      var t = document.getElementById(a.getAttribute("data-turn"));
      if (t) t.classList.add("hl");
    });
  });

  // Queue keyboard navigation.
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
  var cur = -1;
  function focusRow(i) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (cur >= 0 && rows[cur]) rows[cur].classList.remove("focused");
    cur = i;
    rows[cur].classList.add("focused");
    rows[cur].focus({ preventScroll: true });
    rows[cur].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (r, i) { r.addEventListener("focusin", function () { if (cur !== i) focusRow(i); }); });
  function toggleSelect(r) {
    var box = r.querySelector("input[data-select]");
    if (box) { box.checked = !box.checked; r.classList.toggle("selected", box.checked); }
  }
  document.querySelectorAll("input[data-select]").forEach(function (b) {
    b.addEventListener("change", function () { b.closest("tr").classList.toggle("selected", b.checked); });
  });
  function assignToMe(r) {
    var bulk = document.getElementById("bulk");
    if (!bulk) return;
    var f = document.createElement("form");
    f.method = "post"; f.action = "/queues/bulk";
    [["queue", bulk.elements.queue.value], ["filter", bulk.elements.filter.value],
     ["action", "assign_me"], ["ids", r.getAttribute("data-id")]].forEach(function (kv) {
      var i = document.createElement("input");
      i.type = "hidden"; i.name = kv[0]; i.value = kv[1]; f.appendChild(i);
    });
    document.body.appendChild(f); f.submit();
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    var r = rows[cur];
    switch (e.key) {
      case "?": toggleHelp(); break;
      case "/": var s = document.querySelector("[data-search]"); if (s) s.focus(); else return; break;
      case "j": focusRow(cur + 1); break;
      case "k": focusRow(cur - 1); break;
      case "o": case "Enter": if (!r) return; window.location = r.getAttribute("data-href"); break;
      case "x": if (!r) return; toggleSelect(r); break;
      case "a": if (!r) return; assignToMe(r); break;
      default: return;
    }
    e.preventDefault();
  });

  // New cases: poll every 15 s; show a banner that does not move the list.
  var banner = document.getElementById("newcases");
  if (banner && window.fetch) {
    var since = banner.getAttribute("data-since"), max = banner.getAttribute("data-max-id");
    var url = since + (since.indexOf("?") < 0 ? "?" : "&") + "id=" + encodeURIComponent(max);
    var poll = function () {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d || !d.count) return;
          banner.querySelector("[data-newcount]").textContent = d.text;
          banner.hidden = false;
        }).catch(function () {});
    };
    setInterval(poll, 15000);
  }
})();

// Panels marked data-refresh (actions in flight) re-read themselves from the server
// until they settle, without reloading the page or losing what the user typed.
(function () {
  function refresh(panel) {
    var every = parseInt(panel.getAttribute("data-refresh"), 10) || 2000;
    setTimeout(function () {
      fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var id = panel.getAttribute("data-testid");
          var fresh = doc.querySelector('[data-testid="' + id + '"]');
          if (!fresh) { return; }
          panel.replaceWith(fresh);
          var status = doc.querySelector('[data-testid="case-status"]');
          var old = document.querySelector('[data-testid="case-status"]');
          if (status && old) { old.replaceWith(status); }
          // Once everything settled, the decision panel's statuses are stale: refresh
          // it too, unless the user is typing in it.
          var decision = document.querySelector('[data-testid="decision-panel"]');
          var freshDecision = doc.querySelector('[data-testid="decision-panel"]');
          if (!fresh.hasAttribute("data-refresh") && decision && freshDecision && !decision.contains(document.activeElement)) {
            decision.replaceWith(freshDecision);
          }
          if (fresh.hasAttribute("data-refresh")) { refresh(fresh); }
        })
        .catch(function () { refresh(panel); });
    }, every);
  }
  document.querySelectorAll("[data-refresh]").forEach(refresh);
})();
