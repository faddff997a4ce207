// The host table of driftless report --html: filters, sorting and drift
// charts, drawn from the JSON in #data. Text from the journal only ever
// goes into the page as textContent or an attribute value: never parsed
// as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var PAGE = 500;
  var SEVERITY = new Map([["CRITICAL", 0], ["HIGH", 1], ["MEDIUM", 2], ["LOW", 3], ["UNSPECIFIED", 4]]);
  var SVG = "http://www.w3.org/2000/svg";
  var collator = new Intl.Collator("en", { numeric: true });
  var drift = new Map(Object.entries(data.drift));
  var driftTotal = new Map();
  drift.forEach(function (periods, host) {
    var n = 0;
    periods.forEach(function (p) { n += p[1] + p[2] + p[3]; });
    driftTotal.set(host, n);
  });
  var rows = data.rows.map(function (r) {
    return { r: r, association: data.assocs[r.a], haystack: (r.h + "\u0000" + data.assocs[r.a]).toLowerCase() };
  });

  var tbody = document.querySelector("#hosts tbody");
  var count = document.getElementById("count");
  var more = document.getElementById("more");
  var q = document.getElementById("q");
  var fCompliance = document.getElementById("f-compliance");
  var fAssociation = document.getElementById("f-association");
  var fSeverity = document.getElementById("f-severity");
  var sortKey = "", sortDir = 1, shown = PAGE;

  function severityRank(s) { return SEVERITY.has(s) ? SEVERITY.get(s) : 5; }
  var keys = {
    host: function (a, b) { return collator.compare(a.r.h, b.r.h); },
    association: function (a, b) { return collator.compare(a.association, b.association); },
    severity: function (a, b) { return severityRank(a.r.v) - severityRank(b.r.v); },
    compliance: function (a, b) { return a.r.c - b.r.c; },
    at: function (a, b) { return a.r.t - b.r.t; },
    steps: function (a, b) { return (a.r.n[1] + a.r.n[3]) - (b.r.n[1] + b.r.n[3]); },
    drift: function (a, b) { return (driftTotal.get(a.r.h) || 0) - (driftTotal.get(b.r.h) || 0); }
  };
  // A first click on these sorts the most (or the newest) first.
  var descendingFirst = new Set(["at", "steps", "drift"]);
  // Without a chosen order: what needs a look first.
  var order = ["compliance", "severity", "association", "host"];

  function compare(a, b) {
    var c = 0;
    if (sortKey) {
      c = sortDir * keys[sortKey](a, b);
    }
    for (var i = 0; c === 0 && i < order.length; i++) {
      c = keys[order[i]](a, b);
    }
    return c;
  }

  function matching() {
    var needle = q.value.trim().toLowerCase();
    var comp = fCompliance.value, assoc = fAssociation.value, sev = fSeverity.value;
    return rows.filter(function (x) {
      return (!needle || x.haystack.indexOf(needle) >= 0) &&
        (!comp || (comp === "COMPLIANT") === (x.r.c === 1)) &&
        (!assoc || x.association === assoc) &&
        (!sev || x.r.v === sev);
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function timeText(unix) {
    return new Date(unix * 1000).toISOString().replace("T", " ").replace(/:\d\d\.\d+Z$/, "Z");
  }

  function stepsText(n) {
    if (n[0] === 0) { return "no steps"; }
    var parts = [n[0] + (n[0] === 1 ? " step" : " steps")];
    if (n[1] - n[2] > 0) { parts.push((n[1] - n[2]) + " drifted"); }
    if (n[2] > 0) { parts.push(n[2] + " corrected"); }
    if (n[3] > 0) { parts.push(n[3] + " failed"); }
    return parts.join(", ");
  }

  function spark(host) {
    var periods = drift.get(host) || [];
    var w = 4, h = 22, svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("width", data.buckets * w);
    svg.setAttribute("height", h);
    var base = document.createElementNS(SVG, "rect");
    base.setAttribute("class", "none");
    base.setAttribute("x", 0);
    base.setAttribute("y", h - 1);
    base.setAttribute("width", data.buckets * w);
    base.setAttribute("height", 1);
    svg.appendChild(base);
    var peak = 1, total = 0;
    periods.forEach(function (p) { peak = Math.max(peak, p[1] + p[2] + p[3]); total += p[1] + p[2] + p[3]; });
    periods.forEach(function (p) {
      var y = h;
      [[1, "corrected"], [2, "detected"], [3, "failed"]].forEach(function (k) {
        if (!p[k[0]]) { return; }
        var bh = Math.max(2, Math.round(p[k[0]] * (h - 2) / peak));
        y -= bh;
        var r = document.createElementNS(SVG, "rect");
        r.setAttribute("class", k[1]);
        r.setAttribute("x", p[0] * w);
        r.setAttribute("y", y);
        r.setAttribute("width", w - 1);
        r.setAttribute("height", bh);
        svg.appendChild(r);
      });
    });
    var title = document.createElementNS(SVG, "title");
    title.textContent = total + " drift events on " + host + " in the window";
    svg.appendChild(title);
    return svg;
  }

  function differ(text) {
    var pre = el("pre", "differ");
    text.split("\n").forEach(function (line, i) {
      var cls = "";
      if (/^(\+\+\+|---) /.test(line)) { cls = "hunk"; }
      else if (line.charAt(0) === "+") { cls = "add"; }
      else if (line.charAt(0) === "-") { cls = "del"; }
      else if (line.slice(0, 2) === "@@") { cls = "hunk"; }
      pre.appendChild(el("span", cls, (i > 0 ? "\n" : "") + line));
    });
    return pre;
  }

  function detail(r) {
    var td = el("td");
    td.colSpan = 7;
    if (r.e) { td.appendChild(el("div", "hosterror", r.e)); }
    var box = el("div", "steps");
    (r.d || []).forEach(function (s) {
      var div = el("div", "step");
      if (/^[A-Za-z]+$/.test(s.s)) { div.classList.add(s.s); }
      var head = el("div");
      head.appendChild(el("span", "name", s.n));
      var what = " · step " + (s.i + 1) + " · " + s.a + " · " + s.s + (s.k ? " (" + s.k + ")" : "");
      if (s.x !== undefined) { what += " · exit " + s.x; }
      head.appendChild(el("span", "status", what));
      div.appendChild(head);
      if (s.e) { div.appendChild(el("div", "hosterror", s.e)); }
      if (s.d) { div.appendChild(differ(s.d)); }
      if (s.o) { div.appendChild(el("pre", "stderr", s.o)); }
      box.appendChild(div);
    });
    td.appendChild(box);
    var tr = el("tr", "detail");
    tr.appendChild(td);
    return tr;
  }

  function line(x) {
    var r = x.r, tr = el("tr", r.c ? "ok" : "nc");
    tr.setAttribute("data-host", r.h);
    tr.setAttribute("data-association", x.association);
    tr.appendChild(el("td", "host", r.h));
    tr.appendChild(el("td", "association", x.association));
    var sev = el("td");
    var badge = el("span", "sev", r.v);
    if (SEVERITY.has(r.v)) { badge.classList.add("sev-" + r.v); }
    sev.appendChild(badge);
    tr.appendChild(sev);
    tr.appendChild(el("td", "compliance", r.c ? "COMPLIANT" : "NON_COMPLIANT"));
    tr.appendChild(el("td", "at", "#" + r.r + " " + timeText(r.t) + (r.m === "check" ? " (check)" : "")));
    tr.appendChild(el("td", "steps", stepsText(r.n) + (r.s === "Success" ? "" : " · host " + r.s)));
    var chart = el("td", "drift");
    chart.appendChild(spark(r.h));
    tr.appendChild(chart);
    return tr;
  }

  function render() {
    var list = matching().sort(compare);
    var frag = document.createDocumentFragment();
    list.slice(0, shown).forEach(function (x) {
      frag.appendChild(line(x));
      if (!x.r.c) { frag.appendChild(detail(x.r)); }
    });
    tbody.replaceChildren(frag);
    var n = Math.min(shown, list.length);
    count.textContent = list.length === rows.length ?
      "Showing " + n + " of " + rows.length + " rows" :
      "Showing " + n + " of " + list.length + " matching rows (" + rows.length + " in all)";
    count.setAttribute("data-matching", list.length);
    count.setAttribute("data-shown", n);
    more.hidden = list.length <= shown;
    more.textContent = "Show " + Math.min(PAGE, list.length - shown) + " more";
  }

  function refilter() { shown = PAGE; render(); }

  q.addEventListener("input", refilter);
  [fCompliance, fAssociation, fSeverity].forEach(function (s) { s.addEventListener("change", refilter); });
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  document.getElementById("filters").addEventListener("reset", function () { setTimeout(refilter, 0); });
  more.addEventListener("click", function () { shown += PAGE; render(); });
  document.querySelectorAll("#hosts th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-sort");
      sortDir = key === sortKey ? -sortDir : (descendingFirst.has(key) ? -1 : 1);
      sortKey = key;
      document.querySelectorAll("#hosts th[data-sort]").forEach(function (o) {
        o.setAttribute("aria-sort", o === th ? (sortDir === 1 ? "ascending" : "descending") : "none");
      });
      render();
    });
  });
  document.querySelectorAll("button[data-filter]").forEach(function (b) {
    b.addEventListener("click", function () {
      var select = b.getAttribute("data-filter") === "association" ? fAssociation : fSeverity;
      select.value = b.getAttribute("data-value");
      refilter();
      document.getElementById("hosts").scrollIntoView();
    });
  });
  render();
})();
