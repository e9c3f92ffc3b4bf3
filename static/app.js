// Countersign progressive enhancement. Every page works without this file.
"use strict";
(function () {
  // Times: render UTC server-side, show them in the viewer's zone here.
  // One format everywhere: the date and time in the viewer's zone, then how long ago
  // (or how soon) it is; the UTC text stays as the tooltip.
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var rel = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
  function ago(d) {
    var s = (d.getTime() - Date.now()) / 1000, a = Math.abs(s);
    var units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (var i = 0; i < units.length; i++) {
      if (a >= units[i][1]) return rel.format(Math.round(s / units[i][1]), units[i][0]);
    }
    return rel.format(0, "minute");
  }
  document.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d)) return;
    t.title = t.textContent;
    // data-abs: the page already says how soon (a server countdown beside it).
    t.textContent = fmt.format(d) + (rel && !t.hasAttribute("data-abs") ? " · " + ago(d) : "");
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
  // Remember the queue's order (for j/k on a case page) and keep the place after an
  // assignment reloads the page: the same row, or the one now in its position.
  var store = window.sessionStorage;
  if (rows.length && store) {
    try {
      store.setItem("cs-queue", JSON.stringify(rows.map(function (r) { return r.getAttribute("data-href"); })));
      var back = JSON.parse(store.getItem("cs-focus") || "null");
      store.removeItem("cs-focus");
      if (back && back.path === location.pathname) {
        var at = rows.findIndex(function (r) { return r.getAttribute("data-id") === back.id; });
        focusRow(at >= 0 ? at : back.index);
      }
    } catch (err) { /* storage full or disabled: no memory, nothing breaks */ }
  }
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
    try {
      store.setItem("cs-focus", JSON.stringify({ path: location.pathname, id: r.getAttribute("data-id"), index: cur }));
    } catch (err) { /* see above */ }
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
    if (!rows.length && caseKey(e.key)) { e.preventDefault(); return; }
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

  // Case page shortcuts: a approve, r reject, n note (they open and focus the form;
  // nothing is decided without pressing its button), j / k next / previous case of
  // the queue the case was opened from.
  function caseKey(key) {
    if (!document.querySelector('[data-testid="case-title"]')) return false;
    var q = [];
    try { q = JSON.parse((store && store.getItem("cs-queue")) || "[]"); } catch (err) { q = []; }
    var i = q.indexOf(location.pathname);
    switch (key) {
      case "a": return focusIn('[data-testid="approve-form"]', "textarea");
      case "r": return openIn('[data-testid="reject-form"]', "select");
      case "n": return focusIn('[data-testid="note-form"]', "textarea") || focusIn("form", '[data-testid="note-text"]');
      case "j": if (i >= 0 && i + 1 < q.length) { window.location = q[i + 1]; return true; } return false;
      case "k": if (i > 0) { window.location = q[i - 1]; return true; } return false;
    }
    return false;
  }
  function focusIn(formSel, fieldSel) {
    var f = document.querySelector(formSel);
    var el = f && (f.matches(fieldSel) ? f : f.querySelector(fieldSel));
    if (!el) return false;
    el.scrollIntoView({ block: "center" }); el.focus();
    return true;
  }
  function openIn(formSel, fieldSel) {
    var f = document.querySelector(formSel);
    if (!f) return false;
    var d = f.closest("details");
    if (d) d.open = true;
    return focusIn(formSel, fieldSel);
  }

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
// until they settle, without reloading the page or losing what the user typed: a
// panel someone is working in (focus inside it, or a form in it opened) is left
// alone until they are done.
(function () {
  function busy(panel) {
    return panel.contains(document.activeElement) || panel.querySelector("details[open]") !== null;
  }
  function refresh(panel) {
    var every = parseInt(panel.getAttribute("data-refresh"), 10) || 2000;
    setTimeout(function () {
      if (busy(panel)) { refresh(panel); return; }
      fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var id = panel.getAttribute("data-testid");
          var fresh = doc.querySelector('[data-testid="' + id + '"]');
          if (!fresh) { return; }
          if (busy(panel)) { refresh(panel); return; }
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

  // @mention suggestions for a textarea with data-mentions (the id of a datalist of
  // "@handle" options). Typing "@" and letters lists matching people below the field;
  // Up/Down choose, Enter or Tab inserts, Escape closes. Without this script the
  // note is plain text and "@handle" typed by hand works the same.
  document.querySelectorAll("textarea[data-mentions]").forEach(function (ta) {
    var source = document.getElementById(ta.getAttribute("data-mentions"));
    if (!source) return;
    var people = Array.prototype.map.call(source.options, function (o) {
      return { handle: o.value.replace(/^@/, ""), label: o.textContent };
    });
    var list = document.createElement("ul");
    list.id = ta.id + "-mentions";
    list.className = "mentionlist";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "People to mention");
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "sr-only";
    status.setAttribute("role", "status");
    ta.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    ta.setAttribute("aria-controls", list.id);
    var matches = [], active = -1, start = -1;
    function close() {
      list.hidden = true; matches = []; active = -1;
      ta.removeAttribute("aria-activedescendant");
    }
    function show() {
      list.textContent = "";
      matches.forEach(function (p, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.textContent = "@" + p.handle + " · " + p.label;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.hidden = matches.length === 0;
      if (active >= 0) ta.setAttribute("aria-activedescendant", list.id + "-" + active);
      else ta.removeAttribute("aria-activedescendant");
    }
    function pick(i) {
      var p = matches[i];
      if (!p || start < 0) return;
      var before = ta.value.slice(0, start), after = ta.value.slice(ta.selectionStart);
      var text = "@" + p.handle + " ";
      ta.value = before + text + after;
      var at = before.length + text.length;
      ta.setSelectionRange(at, at);
      status.textContent = "Mentioned " + p.label + ".";
      close();
    }
    ta.addEventListener("input", function () {
      var upto = ta.value.slice(0, ta.selectionStart);
      var m = /(^|[^\w.@])@([A-Za-z0-9._-]{0,63})$/.exec(upto);
      if (!m) { close(); return; }
      start = upto.length - m[2].length - 1;
      var q = m[2].toLowerCase();
      matches = people.filter(function (p) {
        return p.handle.indexOf(q) === 0 || p.label.toLowerCase().split(/\s+/).some(function (w) { return w.indexOf(q) === 0; });
      }).slice(0, 8);
      active = matches.length ? 0 : -1;
      show();
      status.textContent = matches.length ? matches.length + " people match. Up and down to choose, Enter or Tab to mention, Escape to close." :
        (q ? "Nobody who has signed in matches @" + q + "." : "");
    });
    ta.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
        show();
      } else if (e.key === "Enter" || e.key === "Tab") {
        if (active >= 0) { e.preventDefault(); pick(active); }
      } else if (e.key === "Escape") {
        e.preventDefault(); e.stopPropagation(); close();
      }
    });
    ta.addEventListener("blur", function () { setTimeout(close, 150); });
  });
})();
