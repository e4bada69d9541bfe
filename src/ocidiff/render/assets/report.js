/* ocidiff HTML reports: lazy file trees, the cause filter, search, keyboard navigation, printing.
   Plain JavaScript, no network. The page is complete without it: this only adds interaction and
   renders large trees on demand. Every string from the report is inserted with textContent. */
(function () {
  "use strict";
  var doc = document;
  var CHUNK = 400; // rows rendered per directory before a "show more" button
  var AUTO_OPEN = 60; // a tree with at most this many rows opens fully
  var BUDGET = 1500; // rows one pass may open automatically (filter, expand all)
  var fillRow = null; // set by initTrees: renders a lazily filled row's content now

  doc.body.classList.remove("nojs");
  doc.body.classList.add("js");
  var source = doc.getElementById("ocidiff-data");
  var data = source ? JSON.parse(source.textContent) : null;
  if (data && data.trees) {
    initTrees(data);
  }
  initKeys();
  initPrint();
  doc.documentElement.setAttribute("data-ready", String(Math.round(performance.now())));

  function el(tag, cls, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function initTrees(data) {
    var S = data.strings;
    var CAUSES = data.causes;
    var STYLE = data.styles; // [colours, patterns]
    var WORDS = data.status; // letter -> [symbol, word]
    var N = [], P = [], KIDS = [], TREE = [], LOWER = null;
    var trees = {}, order = [];
    var selected = new Set(), query = "", VIS = null, CNT = null, rendered = 0;

    Object.keys(data.trees).forEach(function (anchor) {
      var t = data.trees[anchor], base = N.length, roots = [];
      var host = doc.querySelector('[data-tree="' + anchor + '"]');
      if (!host) return;
      for (var i = 0; i < t.nodes.length; i++) {
        var rec = t.nodes[i], g = base + i;
        N.push(rec);
        KIDS.push(null);
        TREE.push(anchor);
        if (rec.p < 0) {
          P.push(-1);
          roots.push(g);
        } else {
          P.push(base + rec.p);
          (KIDS[base + rec.p] || (KIDS[base + rec.p] = [])).push(g);
        }
      }
      trees[anchor] = { roots: roots, host: host, size: t.nodes.length, total: t.total,
        count: doc.querySelector('[data-count="' + anchor + '"]') };
      order.push(anchor);
    });
    order.sort(function (a, b) {
      var pa = trees[a].host.compareDocumentPosition(trees[b].host);
      return pa & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });

    function str(i) { return i === null || i === undefined ? null : S[i]; }
    function badge(ci) {
      var b = el("span", "bdg c" + (ci % STYLE[0]) + " p" + (ci % STYLE[1]));
      b.appendChild(el("span", "sw")).setAttribute("aria-hidden", "true");
      b.appendChild(doc.createTextNode(CAUSES[ci] || "unknown"));
      return b;
    }
    function brief(xs) { // the same rule as change_brief in html_entries.py
      var x = xs[0], field = str(x[1]), old = str(x[2]), nu = str(x[3]), detail = str(x[4]), text;
      if (detail && (field === "content" || (old === null && nu === null))) text = detail;
      else if (field === "path" && old !== null && nu !== null) text = "→ " + nu;
      else if (field === "path") text = old === null ? nu : old;
      else {
        var values = (old === null ? "(none)" : old) + " → " + (nu === null ? "(none)" : nu);
        text = field ? field + ": " + values : values;
      }
      return text + (xs.length > 1 ? " (+" + (xs.length - 1) + " more)" : "");
    }
    function cell(row, i, cls) {
      var td = row.appendChild(el("td", cls));
      var value = str(i);
      if (value !== null) td.textContent = value;
      else if (cls) td.appendChild(el("span", "none", "absent"));
    }
    function changeTable(xs) {
      var table = el("table", "chg"), head = table.appendChild(el("thead")).appendChild(el("tr"));
      ["cause", "field", "A", "B", "detail"].forEach(function (h) {
        head.appendChild(el("th", null, h)).setAttribute("scope", "col");
      });
      var body = table.appendChild(el("tbody"));
      xs.forEach(function (x) {
        var row = body.appendChild(el("tr"));
        row.appendChild(el("td")).appendChild(badge(x[0]));
        cell(row, x[1]); cell(row, x[2], "old"); cell(row, x[3], "new"); cell(row, x[4]);
      });
      return table;
    }
    function textDiff(text) { // the same marking as text_diff in html_entries.py
      var pre = el("pre", "tdiff");
      text.split("\n").forEach(function (line, i, all) {
        if (i === all.length - 1 && line === "") return;
        var c = line.charAt(0);
        var kind = c === "+" ? "l-add" : c === "-" ? "l-del" : c === "@" ? "l-hunk" : "l-ctx";
        if (i < 2 && (line.indexOf("--- ") === 0 || line.indexOf("+++ ") === 0)) kind = "l-hdr";
        pre.appendChild(el("span", kind, line));
      });
      return pre;
    }
    function factTable(fs) { // the same rows as fact_rows in html_entries.py
      var rows = [], seen = {};
      fs.forEach(function (f) {
        var key = str(f[0]), value = str(f[1]), cut = key.indexOf("-");
        var side = cut > 0 ? key.slice(0, cut) : "", name = key.slice(cut + 1);
        if ((side === "old" || side === "new") && name) {
          if (!(name in seen)) { seen[name] = rows.length; rows.push([name, null, null]); }
          rows[seen[name]][side === "old" ? 1 : 2] = value;
        } else rows.push([key, value, undefined]);
      });
      var table = el("table", "chg facts-t"), head = table.appendChild(el("thead")).appendChild(el("tr"));
      ["fact", "A", "B"].forEach(function (h) { head.appendChild(el("th", null, h)).setAttribute("scope", "col"); });
      var body = table.appendChild(el("tbody"));
      rows.forEach(function (r) {
        var tr = body.appendChild(el("tr"));
        tr.appendChild(el("th", null, r[0])).setAttribute("scope", "row");
        if (r[2] === undefined) tr.appendChild(el("td", null, r[1] || "")).colSpan = 2;
        else { tr.appendChild(el("td", "old", r[1] || "")); tr.appendChild(el("td", "new", r[2] || "")); }
      });
      return table;
    }
    function visible(list) {
      if (!VIS) return list;
      return list.filter(function (g) { return VIS[g] === 1; });
    }
    function row(g, open, chain) { // open: the whole subtree; chain: only this row
      var r = N[g], kids = KIDS[g];
      var li = el("li", "row " + (kids ? "dir" : "file") + (r.x ? " st-" + r.s : ""));
      var d = li.appendChild(el("details"));
      d.setAttribute("data-g", String(g));
      var s = d.appendChild(el("summary"));
      if (r.x) {
        var w = WORDS[r.s] || ["~", "changed"];
        var st = s.appendChild(el("span", "st", w[0]));
        st.title = w[1];
        st.appendChild(el("span", "vh", " " + w[1]));
        s.appendChild(doc.createTextNode(" "));
      }
      s.appendChild(el("span", "nm", r.n + (kids ? "/" : "")));
      s.appendChild(doc.createTextNode(" "));
      if (!r.x) {
        s.appendChild(el("span", "cnt", CNT ? CNT[g] + " of " + r.e + " match" : r.e + " changed"));
        s.appendChild(doc.createTextNode(" "));
      }
      var bs = s.appendChild(el("span", "bdgs"));
      for (var i = 0; i < r.c.length; i++) bs.appendChild(badge(r.c[i]));
      if (r.x && r.x.length) {
        s.appendChild(doc.createTextNode(" "));
        s.appendChild(el("span", "brief", brief(r.x)));
      }
      rendered++;
      if ((open || chain) && kids && rendered < BUDGET) {
        d.open = true;
        fill(d, open);
      }
      return li;
    }
    function fillList(ul, kids, start, open) {
      var end = Math.min(kids.length, start + CHUNK);
      // A lone subdirectory opens by itself: one click less on every deep, narrow path.
      var chain = kids.length === 1 && KIDS[kids[0]] !== null;
      for (var i = start; i < end; i++) ul.appendChild(row(kids[i], open, chain));
      if (end < kids.length) {
        var li = ul.appendChild(el("li"));
        var more = li.appendChild(el("button", "plain more",
          "Show " + Math.min(CHUNK, kids.length - end) + " more (" + (kids.length - end) + " left)"));
        more.type = "button";
        more.addEventListener("click", function () {
          li.remove();
          fillList(ul, kids, end, false);
        });
      }
    }
    function fill(d, open) {
      if (d.hasAttribute("data-f")) return;
      d.setAttribute("data-f", "1");
      var g = Number(d.getAttribute("data-g")), r = N[g];
      if (r.x) {
        var box = d.appendChild(el("div", "entry"));
        box.appendChild(changeTable(r.x));
        if (r.f) box.appendChild(factTable(r.f));
        if (r.d) box.appendChild(textDiff(r.d));
      }
      if (KIDS[g]) {
        fillList(d.appendChild(el("ul", "tree")), visible(KIDS[g]), 0, open);
      }
    }
    function renderAll(mode) {
      rendered = 0;
      order.forEach(function (anchor) {
        var t = trees[anchor];
        var open = mode === "open" || (mode !== "closed" && (VIS !== null || t.size <= AUTO_OPEN));
        t.host.textContent = "";
        var roots = visible(t.roots);
        if (!roots.length) {
          t.host.appendChild(el("p", "quiet", "No entry here matches."));
          return;
        }
        fillList(t.host.appendChild(el("ul", "tree")), roots, 0, open);
      });
    }
    function buildPaths() {
      LOWER = new Array(N.length);
      var full = new Array(N.length);
      for (var g = 0; g < N.length; g++) {
        full[g] = P[g] < 0 ? N[g].n : full[P[g]] + "/" + N[g].n;
        LOWER[g] = full[g].toLowerCase();
      }
    }
    function selfMatch(g) {
      var r = N[g];
      if (!r.x) return false;
      if (selected.size) {
        var ok = false;
        for (var i = 0; i < r.x.length && !ok; i++) ok = selected.has(r.x[i][0]);
        if (!ok) return false;
      }
      return !query || LOWER[g].indexOf(query) >= 0;
    }
    function apply() {
      var counts = {};
      order.forEach(function (a) { counts[a] = 0; });
      if (!selected.size && !query) {
        VIS = null;
        CNT = null;
      } else {
        if (query && !LOWER) buildPaths();
        VIS = new Uint8Array(N.length);
        CNT = new Uint32Array(N.length); // matching entries in each subtree
        for (var g = N.length - 1; g >= 0; g--) { // children come after parents
          if (selfMatch(g)) {
            VIS[g] = 1;
            CNT[g]++;
            counts[TREE[g]]++;
          }
          if (VIS[g] === 1 && P[g] >= 0) {
            VIS[P[g]] = 1;
            CNT[P[g]] += CNT[g];
          }
        }
      }
      renderAll("auto");
      var matched = 0, total = 0;
      order.forEach(function (a) {
        var t = trees[a];
        total += t.total;
        matched += counts[a];
        if (t.count) {
          t.count.textContent = VIS ? counts[a] + " of " + t.total + " changed entries match"
            : t.total + " changed entries";
        }
      });
      var names = [];
      selected.forEach(function (ci) { names.push(CAUSES[ci]); });
      status(VIS ? matched + " of " + total + " changed entries match" +
        (names.length ? " (causes: " + names.join(", ") + ")" : "") +
        (query ? ' (path contains "' + query + '")' : "") : "");
    }
    function status(text) {
      var s = doc.querySelector("[data-status]");
      if (s) s.textContent = text;
    }
    function syncButtons() {
      doc.querySelectorAll("button.cf").forEach(function (b) {
        b.setAttribute("aria-pressed", selected.has(Number(b.getAttribute("data-cause"))) ? "true" : "false");
      });
    }

    fillRow = function (d) { if (d.hasAttribute("data-g")) fill(d, false); };
    doc.addEventListener("toggle", function (e) {
      var d = e.target;
      if (d.open && d.hasAttribute && d.hasAttribute("data-g")) fill(d, false);
    }, true);
    var controls = doc.querySelector("[data-controls]");
    if (controls) controls.hidden = false;
    doc.querySelectorAll("button.cf").forEach(function (b) {
      b.addEventListener("click", function () {
        var ci = Number(b.getAttribute("data-cause"));
        if (selected.has(ci)) selected.delete(ci); else selected.add(ci);
        syncButtons();
        apply();
      });
    });
    var clear = doc.querySelector("[data-clear]");
    if (clear) clear.addEventListener("click", function () { selected.clear(); syncButtons(); apply(); });
    var expand = doc.querySelector("[data-expand]");
    if (expand) expand.addEventListener("click", function () {
      renderAll("open");
      if (rendered >= BUDGET) status("Opened the first " + BUDGET + " rows; open the others one by one.");
    });
    var collapse = doc.querySelector("[data-collapse]");
    if (collapse) collapse.addEventListener("click", function () { renderAll("closed"); });
    var input = doc.getElementById("q"), timer = 0;
    if (input) {
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { query = input.value.trim().toLowerCase(); apply(); }, 120);
      });
      input.addEventListener("keydown", function (e) {
        if (e.key === "Escape" && input.value) { input.value = ""; query = ""; apply(); }
      });
    }
    doc.querySelectorAll("a[data-filter]").forEach(function (a) {
      a.addEventListener("click", function () {
        var target = doc.getElementById(a.getAttribute("href").slice(1));
        var ci = CAUSES.indexOf(a.getAttribute("data-filter"));
        if (!target || !target.classList.contains("tree-block") || ci < 0) return;
        selected = new Set([ci]);
        query = "";
        if (input) input.value = "";
        syncButtons();
        apply(); // synchronous: the browser then scrolls to the anchor in the filtered page
      });
    });
    renderAll("auto");
  }

  function initKeys() {
    doc.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName || "")) {
        var q = doc.getElementById("q");
        if (q && !q.closest("[hidden]")) { e.preventDefault(); q.focus(); }
        return;
      }
      if (t.tagName !== "SUMMARY" || !t.closest(".tree-host")) return;
      var d = t.parentElement, all, i;
      if (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "Home" || e.key === "End") {
        all = Array.prototype.filter.call(doc.querySelectorAll(".tree-host summary"),
          function (s) { return shown(s); });
        i = all.indexOf(t);
        i = e.key === "ArrowDown" ? i + 1 : e.key === "ArrowUp" ? i - 1 : e.key === "Home" ? 0 : all.length - 1;
        if (all[i]) { e.preventDefault(); all[i].focus(); }
      } else if (e.key === "ArrowRight") {
        e.preventDefault();
        if (!d.open) d.open = true;
        else { var first = d.querySelector("ul.tree summary"); if (first) first.focus(); }
      } else if (e.key === "ArrowLeft") {
        e.preventDefault();
        if (d.open) d.open = false;
        else {
          var up = d.parentElement.parentElement.closest("details");
          if (up && up.closest(".tree-host")) up.querySelector("summary").focus();
        }
      }
    });
  }

  function shown(node) {
    // Closed <details> hide their content with content-visibility: offsetParent stays set.
    return node.checkVisibility ? node.checkVisibility() : node.offsetParent !== null;
  }

  function initPrint() {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      doc.querySelectorAll("details:not([open])").forEach(function (d) {
        d.open = true;
        if (fillRow) fillRow(d); // now, not on the (asynchronous) toggle event
        opened.push(d);
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    });
  }
})();
