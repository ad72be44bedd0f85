"use strict";
// pytest-datasetrun report: rows come from the JSON block and are rendered on demand, as text
// nodes only (never innerHTML), so nothing from the data is ever parsed as HTML.
(function () {
  const ROWS = JSON.parse(document.getElementById("rows-data").textContent);
  const PAGE = 200;
  const head = Array.from(document.querySelectorAll("#rowtable th[data-sort]"));
  const scorerIds = head.map((th) => th.dataset.sort).filter((k) => k.startsWith("score:")).map((k) => k.slice(6));
  const tbody = document.querySelector("#rowtable tbody");
  const more = document.getElementById("more");
  const shown = document.getElementById("shown");
  const search = document.getElementById("search");
  const tagSelect = document.getElementById("tag");
  const state = { status: "all", tag: "", query: "", sort: null, desc: false, limit: PAGE, view: [] };
  const byId = new Map(ROWS.map((row, i) => [row.id, i]));

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function fmt(v) { return v === null || v === undefined ? "-" : Number(v).toFixed(3); }

  // search text per row, built once
  const haystack = ROWS.map((r) => {
    const reasons = Object.values(r.scores).map((s) => (s.r || "") + " " + (s.e || "")).join(" ");
    return [r.id, r.input, r.expected, r.output, r.error, reasons, r.tags.join(" ")].join("\n").toLowerCase();
  });

  const tags = Array.from(new Set(ROWS.flatMap((r) => r.tags))).sort();
  for (const t of tags) { const o = el("option", t); o.value = t; tagSelect.appendChild(o); }

  function key(row, sort) {
    if (sort === "id") return row.id;
    if (sort === "status") return row.status;
    if (sort === "latency") return row.latency;
    const s = row.scores[sort.slice(6)];
    return s && s.v !== null && s.v !== undefined ? s.v : -1;
  }

  function compute() {
    const q = state.query.toLowerCase();
    let view = [];
    for (let i = 0; i < ROWS.length; i++) {
      const r = ROWS[i];
      if (state.status !== "all" && r.status !== state.status) continue;
      if (state.tag && !r.tags.includes(state.tag)) continue;
      if (q && !haystack[i].includes(q)) continue;
      view.push(i);
    }
    if (state.sort) {
      const s = state.sort, sign = state.desc ? -1 : 1;
      view.sort((a, b) => {
        const x = key(ROWS[a], s), y = key(ROWS[b], s);
        return (x < y ? -1 : x > y ? 1 : a - b) * sign;
      });
    }
    state.view = view;
    state.limit = PAGE;
    render();
  }

  function rowNode(i) {
    const r = ROWS[i];
    const tr = el("tr");
    tr.dataset.index = i;
    tr.appendChild(el("td", r.id));
    tr.appendChild(el("td", r.status, "st-" + r.status));
    for (const id of scorerIds) {
      const s = r.scores[id];
      const td = el("td", s ? (s.e ? "ERR" : fmt(s.v)) : "", "num");
      if (s && (s.p === false || s.e)) td.classList.add("fail");
      tr.appendChild(td);
    }
    tr.appendChild(el("td", r.latency.toFixed(3) + " s", "num"));
    return tr;
  }

  function render() {
    const frag = document.createDocumentFragment();
    const end = Math.min(state.limit, state.view.length);
    for (let n = 0; n < end; n++) frag.appendChild(rowNode(state.view[n]));
    tbody.replaceChildren(frag);
    more.hidden = end >= state.view.length;
    shown.textContent = end + " of " + state.view.length + " matching rows (" + ROWS.length + " in the run)";
  }

  document.querySelectorAll(".filters button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(".filters button").forEach((x) => x.classList.toggle("on", x === b));
    state.status = b.dataset.status;
    compute();
  }));
  tagSelect.addEventListener("change", () => { state.tag = tagSelect.value; compute(); });
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.query = search.value.trim(); compute(); }, 120);
  });
  head.forEach((th) => th.addEventListener("click", () => {
    const s = th.dataset.sort;
    state.desc = state.sort === s ? !state.desc : false;
    state.sort = s;
    head.forEach((x) => x.classList.remove("asc", "desc"));
    th.classList.add(state.desc ? "desc" : "asc");
    compute();
  }));
  more.addEventListener("click", () => { state.limit += PAGE; render(); });
  tbody.addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr");
    if (tr) openRow(Number(tr.dataset.index));
  });
  document.querySelectorAll("a.rowlink").forEach((a) => a.addEventListener("click", (ev) => {
    ev.preventDefault();
    const i = byId.get(a.dataset.row);
    if (i !== undefined) openRow(i);
  }));

  function setText(id, text) { document.getElementById(id).textContent = text === null || text === undefined ? "-" : text; }

  function openRow(i) {
    const r = ROWS[i];
    setText("d-title", r.id + " · " + r.status + (r.tags.length ? " · " + r.tags.join(", ") : ""));
    const err = document.getElementById("d-error");
    err.hidden = !r.error;
    err.textContent = r.error || "";
    setText("d-input", r.input);
    setText("d-expected", r.expected);
    setText("d-output", r.output);
    document.getElementById("d-diff").replaceChildren(diff(r.expected || "", r.output || ""));
    const body = document.querySelector("#d-scores tbody");
    const frag = document.createDocumentFragment();
    for (const [id, s] of Object.entries(r.scores)) {
      const tr = el("tr");
      tr.appendChild(el("td", id));
      tr.appendChild(el("td", s.e ? "error" : fmt(s.v)));
      tr.appendChild(el("td", s.t === null ? "-" : "≥ " + s.t));
      tr.appendChild(el("td", s.e ? "ERROR" : s.p === null ? "-" : s.p ? "pass" : "FAIL", s.p === false || s.e ? "fail" : ""));
      tr.appendChild(el("td", s.e || s.r || ""));
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    const tools = document.getElementById("d-tools");
    tools.replaceChildren(...r.tools.map((t) => el("li", t)));
    document.getElementById("d-tools-box").hidden = !r.tools.length;
    const usage = r.usage ? JSON.stringify(r.usage, null, 1) + (r.cost !== null ? "\ncost: $" + r.cost : "") : "";
    setText("d-usage", usage);
    document.getElementById("d-usage-box").hidden = !usage;
    const dialog = document.getElementById("detail");
    if (!dialog.open) dialog.showModal();
  }

  // A line diff (words when both sides are one line), by longest common subsequence.
  function diff(a, b) {
    const oneLine = !a.includes("\n") && !b.includes("\n");
    const split = (t) => (oneLine ? t.split(/\s+/).filter(Boolean) : t.split("\n"));
    const x = split(a), y = split(b);
    const frag = document.createDocumentFragment();
    if (x.length * y.length > 400000) {
      frag.appendChild(el("span", "(too long to diff)", "same"));
      return frag;
    }
    const m = x.length, n = y.length;
    const dp = Array.from({ length: m + 1 }, () => new Uint32Array(n + 1));
    for (let i = m - 1; i >= 0; i--)
      for (let j = n - 1; j >= 0; j--)
        dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    let i = 0, j = 0;
    const push = (text, cls) => {
      const node = el("span", (cls === "add" ? "+ " : cls === "del" ? "- " : "  ") + text, cls);
      frag.appendChild(node);
    };
    while (i < m && j < n) {
      if (x[i] === y[j]) { push(x[i], "same"); i++; j++; }
      else if (dp[i + 1][j] >= dp[i][j + 1]) { push(x[i], "del"); i++; }
      else { push(y[j], "add"); j++; }
    }
    while (i < m) push(x[i++], "del");
    while (j < n) push(y[j++], "add");
    return frag;
  }

  compute();
  document.body.dataset.ready = "1";
})();
