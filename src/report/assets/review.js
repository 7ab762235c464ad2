// fishscore report: live review. Clicking a gallery tile or an outline
// toggles a nucleus between counted and excluded; the figures, plots and
// gallery are recomputed with FishScore.applyReview (score.js), the same
// arithmetic as `fishscore rescore`. "Export review" downloads the
// decisions as a small JSON file for `fishscore rescore DIR --review FILE`.
// The page renders the same markup as src/report/html.rs (keep in step).
(function () {
  "use strict";
  const FS = window.FishScore;
  const data = JSON.parse(document.getElementById("fishscore-data").textContent);
  const input = data.input;
  const panel = input.panel;
  const $ = (id) => document.getElementById(id);

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const keyOf = (n) => n.field + ":" + n.id;

  // Decisions relative to the automated result, "field:id" -> action.
  const decisions = new Map();
  for (const d of data.decisions) {
    const f = input.fields.indexOf(d.field);
    if (f >= 0) decisions.set(f + ":" + d.id, d.decision);
  }
  const baseDecisions = new Map(decisions);
  const automated = FS.applyReview(input, new Map());
  const autoStatus = new Map(automated.per_nucleus.map((s) => [keyOf(s), s]));
  const countsByKey = new Map(input.nuclei.map((n) => [keyOf(n), n]));

  function reasonText(code) {
    const t = data.reason_text[code];
    return t === undefined ? code : t;
  }

  function statusClass(s) {
    if (s.enumerated) return "st-enumerated";
    if (s.eligible) return "st-reserve";
    if (s.excluded_reason === "excluded_by_reviewer") return "st-reviewer";
    if (s.excluded_reason === "no_target_signal" || s.excluded_reason === "no_control_signal") return "st-signal";
    return "st-morph";
  }

  function whyText(s) {
    if (s.enumerated) return "counted, order " + (s.order + 1);
    if (s.eligible) return "eligible, not needed (order " + (s.order + 1) + ")";
    return "excluded: " + reasonText(s.excluded_reason);
  }

  // What a click does to a nucleus: its action, or null when it cannot change.
  function clickAction(key) {
    const a = autoStatus.get(key);
    const n = countsByKey.get(key);
    if (!a || !n) return null;
    if (a.eligible) return "exclude";
    if (FS.signalExclusion(n.target, n.control, panel.require_both_signals) !== null) return null;
    return "include";
  }

  // ---- rendering (mirrors html.rs) ----
  function fmtOpt(x, d) { return x === null ? "n/a" : FS.fixed(x, d); }
  function pct(x) { return x === null ? "n/a" : FS.fixed(100 * x, 1) + " %"; }
  function ciText(ci) { return ci === null ? "n/a" : FS.fixed(ci[0], 2) + " \u2013 " + FS.fixed(ci[1], 2); }

  function summaryRows(s) {
    const rows = [];
    const t = panel.target, c = panel.control;
    rows.push(["Probe set", s.cap.probe + " (" + panel.name + ")"]);
    rows.push(["Nuclei detected", String(s.nuclei_detected)]);
    rows.push(["Nuclei scorable (morphology)", String(s.nuclei_scorable)]);
    rows.push(["Nuclei eligible", String(s.nuclei_eligible)]);
    rows.push(["Nuclei counted", String(s.nuclei_scored) + " (required " + s.nuclei_required + ", up to " + s.nuclei_max + " when borderline)"]);
    const ex = Object.keys(s.nuclei_excluded).map((k) => reasonText(k) + ": " + s.nuclei_excluded[k]);
    rows.push(["Nuclei excluded, by reason", ex.length ? ex.join("; ") : "none"]);
    rows.push(["Total " + t + " / " + c + " signals", s.target_signals + " / " + s.control_signals]);
    rows.push(["Mean " + t + " signals per nucleus", fmtOpt(s.mean_target, 2)]);
    rows.push(["Mean " + c + " signals per nucleus", fmtOpt(s.mean_control, 2)]);
    rows.push([s.cap.probe + " ratio (95 % CI)", fmtOpt(s.ratio, 2) + " (" + ciText(s.ratio_ci95) + ")"]);
    rows.push(["Heterogeneity", s.cap.heterogeneity]);
    rows.push(["Nuclei too numerous to count", pct(s.share_tntc)]);
    rows.push(["Polysomy " + c, s.polysomy ? "yes (mean " + c + " \u2265 " + panel.polysomy_control_mean + " with ratio < " + panel.cutoff + ")" : "no"]);
    if (s.her2_group !== null) rows.push(["ASCO/CAP 2018 group", String(s.her2_group)]);
    rows.push(["ISCN", s.iscn]);
    rows.push(["Interpretation", s.rule]);
    rows.push(["Image analysis method", s.cap.image_analysis_method]);
    return rows;
  }

  // Histogram bins: integer counts 0..cap-1 and "cap+".
  function countBins(values, cap) {
    const bins = [];
    for (let k = 0; k <= cap; k++) bins.push([k === cap ? cap + "+" : String(k), 0]);
    for (const v of values) bins[Math.min(v, cap)][1]++;
    return bins;
  }
  function ratioBins(values, width, cap) {
    const n = Math.round(cap / width);
    const bins = [];
    for (let k = 0; k <= n; k++) bins.push([k === n ? "\u2265" + FS.fixed(cap, 0) : FS.fixed(k * width, 1), 0]);
    for (const v of values) {
      const k = v === null ? n : Math.min(Math.floor(v / width), n);
      bins[k][1]++;
    }
    return bins;
  }

  function histogramSvg(title, bins, colour, cutBin) {
    const W = 360, H = 190, L = 34, R = 8, T = 22, B = 34;
    const pw = W - L - R, ph = H - T - B;
    let max = 1;
    for (const b of bins) max = Math.max(max, b[1]);
    const bw = pw / bins.length;
    let s = '<svg class="plot" viewBox="0 0 ' + W + " " + H + '" width="' + W + '" height="' + H + '" role="img" aria-label="' + esc(title) + '">';
    s += '<text x="' + W / 2 + '" y="14" class="pt">' + esc(title) + "</text>";
    s += '<line x1="' + L + '" y1="' + (T + ph) + '" x2="' + (L + pw) + '" y2="' + (T + ph) + '" class="ax"/>';
    s += '<line x1="' + L + '" y1="' + T + '" x2="' + L + '" y2="' + (T + ph) + '" class="ax"/>';
    s += '<text x="' + (L - 4) + '" y="' + (T + 4) + '" class="yl">' + max + "</text>";
    s += '<text x="' + (L - 4) + '" y="' + (T + ph) + '" class="yl">0</text>';
    const every = Math.ceil(bins.length / 12);
    bins.forEach((b, i) => {
      const h = (b[1] / max) * ph;
      const x = L + i * bw;
      s += '<rect x="' + x.toFixed(2) + '" y="' + (T + ph - h).toFixed(2) + '" width="' + Math.max(bw - 1, 1).toFixed(2) + '" height="' + h.toFixed(2) + '" fill="' + colour + '"><title>' + esc(b[0]) + ": " + b[1] + "</title></rect>";
      if (i % every === 0 || i === bins.length - 1) {
        s += '<text x="' + (x + bw / 2).toFixed(2) + '" y="' + (T + ph + 12) + '" class="xl">' + esc(b[0]) + "</text>";
      }
    });
    if (cutBin !== null) {
      const x = L + cutBin * bw;
      s += '<line x1="' + x.toFixed(2) + '" y1="' + (T - 4) + '" x2="' + x.toFixed(2) + '" y2="' + (T + ph) + '" class="cut"/>';
      s += '<text x="' + (x + 3).toFixed(2) + '" y="' + (T + 6) + '" class="cutl">cutoff ' + panel.cutoff + "</text>";
    }
    s += '<text x="' + (L + pw / 2) + '" y="' + (H - 4) + '" class="xt">' + (cutBin === null ? "signals per nucleus" : "ratio per nucleus") + "</text>";
    return s + "</svg>";
  }

  function plotsHtml(s) {
    const scored = [];
    s.per_nucleus.forEach((p, i) => { if (p.enumerated) scored.push([p.order, input.nuclei[i]]); });
    scored.sort((a, b) => a[0] - b[0]);
    const ns = scored.map((x) => x[1]);
    const rw = data.plot.ratio_bin_width, rc = data.plot.ratio_cap;
    return histogramSvg(panel.target + " signals per counted nucleus", countBins(ns.map((n) => n.target), data.plot.target_cap), "#d62728", null) +
      histogramSvg(panel.control + " signals per counted nucleus", countBins(ns.map((n) => n.control), data.plot.control_cap), "#2ca02c", null) +
      histogramSvg(s.cap.probe + " ratio per counted nucleus", ratioBins(ns.map((n) => (n.control > 0 ? n.target / n.control : null)), rw, rc), "#6a51a3", panel.cutoff / rw);
  }

  function render(s) {
    const call = $("call");
    call.textContent = s.call;
    call.className = "call call-" + s.call;
    $("ratio").textContent = fmtOpt(s.ratio, 2);
    $("ratio").dataset.value = s.ratio === null ? "" : String(s.ratio);
    $("ci").textContent = ciText(s.ratio_ci95);
    $("ci").dataset.value = s.ratio_ci95 === null ? "" : JSON.stringify(s.ratio_ci95);
    $("rule").textContent = s.rule;
    $("nscored").textContent = String(s.nuclei_scored);
    $("summary-body").innerHTML = summaryRows(s).map((r) => "<tr><th>" + esc(r[0]) + "</th><td>" + esc(r[1]) + "</td></tr>").join("");
    $("qc").innerHTML = s.qc.length ? s.qc.map((q) => "<li>" + esc(q) + "</li>").join("") : "<li>none</li>";
    $("plots").innerHTML = plotsHtml(s);
    placeTiles(s);
    $("n-decisions").textContent = String(decisions.size);
    const diff = decisions.size !== baseDecisions.size || Array.from(decisions).some(([k, a]) => baseDecisions.get(k) !== a);
    document.body.classList.toggle("modified", diff);
    $("review-state").textContent = diff
      ? "Changed in this browser: " + decisions.size + " decision(s). The call above is recomputed; export the review and run fishscore rescore to record it."
      : decisions.size
        ? "Showing the reviewed result (" + decisions.size + " decision(s))."
        : "Automated result, no review decision.";
    window.fishscoreScore = s;
  }

  // Tiles and outlines of each nucleus, found once.
  const elsByKey = new Map();
  for (const el of document.querySelectorAll("[data-key]")) {
    const k = el.dataset.key;
    if (!elsByKey.has(k)) elsByKey.set(k, []);
    elsByKey.get(k).push(el);
  }

  function placeTiles(s) {
    const groups = { "st-enumerated": [], "st-reserve": [], excluded: [] };
    s.per_nucleus.forEach((p) => {
      const key = keyOf(p);
      const cls = statusClass(p);
      const d = decisions.get(key);
      for (const el of elsByKey.get(key) || []) {
        el.classList.remove("st-enumerated", "st-reserve", "st-reviewer", "st-signal", "st-morph", "decided");
        el.classList.add(cls);
        if (d) el.classList.add("decided");
        const why = el.querySelector(".why");
        if (why) why.textContent = whyText(p) + (d === "include" ? " (included by the reviewer)" : "");
        const t = el.querySelector("title");
        if (t && el.dataset.label) t.textContent = el.dataset.label + ": " + whyText(p);
      }
      const tile = $("tile-" + p.field + "-" + p.id);
      if (!tile) return;
      if (p.enumerated) groups["st-enumerated"].push([p.order, tile]);
      else if (p.eligible) groups["st-reserve"].push([p.order, tile]);
      else groups.excluded.push([p.excluded_reason + "\u0000" + String(p.field).padStart(6, "0") + ":" + String(p.id).padStart(10, "0"), tile]);
    });
    const put = (id, list) => {
      list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const box = $(id);
      for (const [, t] of list) box.appendChild(t);
      $(id + "-n").textContent = String(list.length);
    };
    put("g-enumerated", groups["st-enumerated"]);
    put("g-reserve", groups["st-reserve"]);
    put("g-excluded", groups.excluded);
  }

  function recompute() {
    render(FS.applyReview(input, decisions));
  }

  function toggle(key) {
    if (!verified) return;
    const action = clickAction(key);
    if (action === null) return;
    if (decisions.has(key)) decisions.delete(key);
    else decisions.set(key, action);
    recompute();
  }

  function exportReview() {
    const name = $("reviewer").value.trim();
    if (!name) {
      $("export-msg").textContent = "Enter the reviewer's name first.";
      $("reviewer").focus();
      return;
    }
    const s = window.fishscoreScore;
    const list = Array.from(decisions).map(([k, a]) => {
      const [f, id] = k.split(":").map(Number);
      return { field: input.fields[f], id, decision: a, f };
    });
    list.sort((a, b) => a.f - b.f || a.id - b.id);
    const review = {
      format: "fishscore-review/1",
      case: input.case,
      reviewer: name,
      time_utc: new Date().toISOString(),
      decisions: list.map((d) => ({ field: d.field, id: d.id, decision: d.decision })),
      shown: { call: s.call, ratio: s.ratio, ratio_ci95: s.ratio_ci95 },
    };
    const blob = new Blob([JSON.stringify(review, null, 1) + "\n"], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "review_" + input.case.replace(/[^A-Za-z0-9._-]/g, "_") + ".json";
    document.body.appendChild(a);
    a.click();
    a.remove();
    $("export-msg").textContent = "Saved " + a.download + " (" + list.length + " decision(s)). Record it with: fishscore rescore RESULT_DIR --review " + a.download;
  }

  // ---- start: check that this script reproduces the program's figures ----
  const first = FS.applyReview(input, decisions);
  const want = data.score;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const keys = ["call", "rule", "ratio", "ratio_ci95", "nuclei_scored", "nuclei_eligible", "mean_target", "mean_control", "iscn", "qc"];
  const bad = keys.filter((k) => !same(first[k], want[k]));
  const verified = bad.length === 0;
  const v = $("verify");
  if (verified) {
    v.textContent = "Live recomputation checked: this page reproduces fishscore's figures exactly.";
    v.className = "verify ok";
  } else {
    v.textContent = "This page's recomputation differs from fishscore's result (" + bad.join(", ") + "); live review is disabled. Use fishscore rescore.";
    v.className = "verify bad";
  }
  document.body.classList.add(verified ? "live" : "static");
  render(first);

  document.addEventListener("click", (e) => {
    const el = e.target.closest("[data-key]");
    if (el) toggle(el.dataset.key);
  });
  document.addEventListener("keydown", (e) => {
    if ((e.key === "Enter" || e.key === " ") && e.target.matches && e.target.matches(".tile[data-key]")) {
      e.preventDefault();
      toggle(e.target.dataset.key);
    }
  });
  $("export").addEventListener("click", exportReview);
  $("reset").addEventListener("click", () => {
    decisions.clear();
    recompute();
  });
  $("restore").addEventListener("click", () => {
    decisions.clear();
    for (const [k, a] of baseDecisions) decisions.set(k, a);
    recompute();
  });
  for (const b of document.querySelectorAll(".zoom")) {
    b.addEventListener("click", () => b.closest(".field").classList.toggle("full"));
  }
  window.fishscoreReady = true;
})();
