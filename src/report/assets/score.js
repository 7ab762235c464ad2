// fishscore scoring in JavaScript: a line-by-line port of
// src/scoring (rescore, enumerate, bootstrap, rules, iscn) for the HTML
// report's live review. It must give the same doubles and the same strings
// as the Rust code; tests/report_js.rs checks it on random cases under
// Node and tests/report_browser.rs in Chromium. docs/scoring.md documents
// the arithmetic.
(function (root) {
  "use strict";
  const M = (1n << 64n) - 1n;
  const GOLDEN = 0x9E3779B97F4A7C15n;
  const SALT = 0xB0075743A9D0C1E5n;

  function mix64(z) {
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M;
    return z ^ (z >> 31n);
  }

  function orderKey(seed, field, id) {
    return mix64(mix64(BigInt(seed)) ^ ((BigInt(field) << 32n) | BigInt(id)));
  }

  // Bootstrap draws depend only on (n, seed, b): cached per (n, seed, B).
  const drawCache = new Map();
  function draws(n, seed, resamples) {
    const key = n + ":" + seed + ":" + resamples;
    let d = drawCache.get(key);
    if (d) return d;
    d = new Uint32Array(n * resamples);
    const bn = BigInt(Math.max(n, 1));
    const base = mix64(BigInt(seed) ^ SALT);
    for (let b = 0; b < resamples; b++) {
      let s = mix64(base ^ BigInt(b));
      for (let k = 0; k < n; k++) {
        s = (s + GOLDEN) & M;
        d[b * n + k] = Number(mix64(s) % bn);
      }
    }
    drawCache.set(key, d);
    return d;
  }

  function pooledRatio(counts) {
    let t = 0, c = 0;
    for (const [ti, ci] of counts) { t += ti; c += ci; }
    return c > 0 ? t / c : null;
  }

  function quantileSorted(sorted, q) {
    if (sorted.length === 0) return null;
    const h = (sorted.length - 1) * Math.min(Math.max(q, 0), 1);
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, sorted.length - 1);
    const a = sorted[lo], b = sorted[hi];
    if (lo === hi || a === b) return a;
    return a + (h - lo) * (b - a);
  }

  function ratioCi95(counts, seed, resamples) {
    const n = counts.length;
    if (n === 0 || resamples === 0) return null;
    const d = draws(n, seed, resamples);
    const ratios = [];
    for (let b = 0; b < resamples; b++) {
      let t = 0, c = 0;
      for (let k = 0; k < n; k++) {
        const cc = counts[d[b * n + k]];
        t += cc[0]; c += cc[1];
      }
      if (t === 0 && c === 0) continue;
      ratios.push(c === 0 ? Infinity : t / c);
    }
    ratios.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const lo = quantileSorted(ratios, 0.025);
    const hi = quantileSorted(ratios, 0.975);
    if (lo === null || hi === null || !Number.isFinite(lo) || !Number.isFinite(hi)) return null;
    return [lo, hi];
  }

  // src/scoring referenceRatioSe: the ratio's standard error from the
  // single-copy references (per field and channel, cluster copies x the
  // reference's relative error, in quadrature), in Rust's order.
  function referenceRatioSe(scored, target, control, ratio) {
    if (ratio === null) return null;
    let nFields = 0;
    for (const n of scored) nFields = Math.max(nFields, n.field + 1);
    const copies = [], se = [];
    for (let f = 0; f < nFields; f++) { copies.push([0, 0]); se.push([null, null]); }
    for (const n of scored) {
      const cc = n.cluster_copies || [0, 0];
      const rs = n.reference_rel_se || [null, null];
      for (let ch = 0; ch < 2; ch++) {
        copies[n.field][ch] += cc[ch];
        if (se[n.field][ch] === null && rs[ch] !== null && rs[ch] !== undefined) se[n.field][ch] = rs[ch];
      }
    }
    const totals = [target, control];
    let relVar = 0, any = false;
    for (let f = 0; f < nFields; f++) {
      for (let ch = 0; ch < 2; ch++) {
        const e = se[f][ch];
        if (copies[f][ch] > 0 && e !== null) {
          const rel = e * copies[f][ch] / totals[ch];
          relVar += rel * rel;
          any = true;
        }
      }
    }
    return any && Number.isFinite(relVar) ? ratio * Math.sqrt(relVar) : null;
  }

  function widenInterval(ci, ratio, se) {
    const d = 1.96 * se;
    const a = ratio - ci[0];
    const b = ci[1] - ratio;
    const lo = ratio - Math.sqrt(a * a + d * d);
    const hi = ratio + Math.sqrt(b * b + d * d);
    return [Math.max(lo, 0), hi];
  }

  // Rust's `{:.d}`: correctly rounded, exact ties to even.
  function fixed(x, d) {
    const scale = Math.pow(2, d + 1);
    const t = Math.abs(x) * scale;
    if (Number.isInteger(t) && t % 2 === 1 && !Number.isInteger(Math.abs(x) * Math.pow(2, d))) {
      // Exact tie: |x| * 10^d = t * 5^d / 2 with t odd.
      const num = BigInt(t) * 5n ** BigInt(d);
      let q = (num - 1n) / 2n;
      if (q % 2n === 1n) q += 1n;
      let s = q.toString().padStart(d + 1, "0");
      if (d > 0) s = s.slice(0, s.length - d) + "." + s.slice(s.length - d);
      return (x < 0 ? "-" : "") + s;
    }
    return x.toFixed(d);
  }

  // Rust's `{}` for f64 (shortest round trip, no exponent in this range).
  function disp(x) {
    return String(x);
  }

  function fmtRatio(r) {
    return r === null ? "undefined" : fixed(r, 3);
  }

  function ratioLabel(panel) {
    return panel.target + "/" + panel.control;
  }

  function signalExclusion(t, c, requireBoth) {
    if (!requireBoth) return null;
    if (t === 0) return "no_target_signal";
    if (c === 0) return "no_control_signal";
    return null;
  }

  function her2Group(ratio, meanT, cutoff) {
    if (ratio >= cutoff) return meanT >= 4.0 ? 1 : 2;
    if (meanT >= 6.0) return 3;
    if (meanT >= 4.0) return 4;
    return 5;
  }

  function inBorderline(panel, r) {
    return panel.borderline[0] <= r && r <= panel.borderline[1];
  }

  function needsMore(panel, ratio, meanT) {
    if (ratio === null) return false;
    const zone = inBorderline(panel, ratio);
    if (panel.rules === "her2_asco_cap_2018" && meanT !== null) {
      const g = her2Group(ratio, meanT, panel.cutoff);
      return zone || (g >= 2 && g <= 4);
    }
    return zone;
  }

  function decide(panel, c) {
    const label = ratioLabel(panel);
    const lo = disp(panel.borderline[0]), hi = disp(panel.borderline[1]);
    const cut = panel.cutoff;
    const done = (call, rule) => ({ call, rule, her2_group: null });
    if (c.eligible < c.min_nuclei) {
      return done("INSUFFICIENT", c.eligible + " eligible nuclei, fewer than the " + c.min_nuclei + " required: INSUFFICIENT");
    }
    if (c.ratio === null || c.mean_target === null) {
      return done("INSUFFICIENT", "no " + panel.control + " signal in the " + c.scored + " enumerated nuclei, so the " + label + " ratio is undefined: INSUFFICIENT");
    }
    const ratio = c.ratio, meanT = c.mean_target;
    let prefix = "";
    if (c.borderline_at_min) {
      prefix = label + " ratio " + fmtRatio(c.ratio_at_min) + " over the first " + c.min_nuclei + " nuclei " +
        (panel.rules === "ratio" ? "lay in the borderline zone [" + lo + ", " + hi + "]" : "was not conclusive (borderline zone or group 2-4)") +
        ", so " + c.scored + " nuclei were enumerated; ";
    }
    const n = c.scored;
    if (panel.rules === "ratio") {
      if (c.borderline_at_min && inBorderline(panel, ratio)) {
        return done("EQUIVOCAL", prefix + label + " ratio " + fixed(ratio, 3) + " over " + n + " nuclei is still in the borderline zone [" + lo + ", " + hi + "]: EQUIVOCAL, review recommended");
      } else if (ratio >= cut) {
        return done("AMPLIFIED", prefix + label + " ratio " + fixed(ratio, 3) + " >= " + disp(cut) + " over " + n + " nuclei: AMPLIFIED");
      }
      return done("NOT_AMPLIFIED", prefix + label + " ratio " + fixed(ratio, 3) + " < " + disp(cut) + " over " + n + " nuclei: NOT_AMPLIFIED");
    }
    const g = her2Group(ratio, meanT, cut);
    const t = panel.target;
    const cs = disp(cut);
    const figures = label + " ratio " + fixed(ratio, 3) + ", mean " + t + " " + fixed(meanT, 2) + " signals per nucleus over " + n + " nuclei";
    let call, text;
    switch (g) {
      case 1: call = "AMPLIFIED"; text = "ASCO/CAP 2018 group 1 (ratio >= " + cs + ", mean " + t + " >= 4.0): positive: AMPLIFIED"; break;
      case 2: call = "EQUIVOCAL"; text = "ASCO/CAP 2018 group 2 (ratio >= " + cs + ", mean " + t + " < 4.0): not decided by ISH alone; the guideline reports negative unless concurrent IHC is 3+: EQUIVOCAL, work-up required"; break;
      case 3: call = "EQUIVOCAL"; text = "ASCO/CAP 2018 group 3 (ratio < " + cs + ", mean " + t + " >= 6.0): not decided by ISH alone; the guideline reports positive if concurrent IHC is 3+, or 2+ confirmed by a blinded recount, negative if IHC 0-1+: EQUIVOCAL, work-up required"; break;
      case 4: call = "EQUIVOCAL"; text = "ASCO/CAP 2018 group 4 (ratio < " + cs + ", 4.0 <= mean " + t + " < 6.0): not decided by ISH alone; the guideline reports negative unless concurrent IHC is 3+: EQUIVOCAL, work-up required"; break;
      default: call = "NOT_AMPLIFIED"; text = "ASCO/CAP 2018 group 5 (ratio < " + cs + ", mean " + t + " < 4.0): negative: NOT_AMPLIFIED";
    }
    return { call, rule: prefix + figures + "; " + text, her2_group: g };
  }

  function nucleusRatioGe(t, c, cutoff) {
    return c > 0 ? t / c >= cutoff : t > 0;
  }

  // Most frequent value; ties to the smallest (values compared by `cmp`).
  function mode(values, keyOf, cmp) {
    const freq = new Map();
    for (const v of values) {
      const k = keyOf(v);
      const e = freq.get(k);
      if (e) e.n++; else freq.set(k, { v, n: 1 });
    }
    const all = Array.from(freq.values()).sort((a, b) => cmp(a.v, b.v));
    let best = null;
    for (const e of all) if (best === null || e.n > best.n) best = e;
    return best === null ? null : best.v;
  }

  function iscnSummary(panel, call, nuclei) {
    const t = panel.iscn.target, c = panel.iscn.control;
    const pair = (tt, cc) => (panel.iscn.target_first ? tt + "," + cc : cc + "," + tt);
    const n = nuclei.length;
    const cells = (k) => (k === n ? "[" + n + "]" : "[" + k + "/" + n + "]");
    if (n === 0) return "nuc ish(" + pair(t, c) + ")[0]";
    if (call === "AMPLIFIED") {
      const amp = nuclei.filter((x) => x.cluster || nucleusRatioGe(x.target, x.control, panel.cutoff));
      const cc = mode(amp.map((x) => x.control), (v) => v, (a, b) => a - b);
      if (cc !== null) {
        return "nuc ish(" + pair(t + "amp", c + "x" + cc) + ")" + cells(amp.length);
      }
    }
    const pats = nuclei.map((x) => [x.control, x.target]);
    const best = mode(pats, (p) => p[0] + ":" + p[1], (a, b) => a[0] - b[0] || a[1] - b[1]);
    if (best === null) return "nuc ish(" + pair(t, c) + ")[0]";
    const [cc, tt] = best;
    const k = pats.filter((p) => p[0] === cc && p[1] === tt).length;
    if (cc === tt) return "nuc ish(" + pair(t, c) + ")x" + cc + cells(k);
    return "nuc ish(" + pair(t + "x" + tt, c + "x" + cc) + ")" + cells(k);
  }

  // scoring::rescore. `excluded`: a Set of "field:id" keys.
  function rescore(nuclei, panel, p, excluded) {
    let minN, maxN;
    if (p.nuclei_range) {
      const a = p.nuclei_range[0], b = p.nuclei_range[1];
      minN = Math.max(a, 1); maxN = Math.max(b, minN);
    } else {
      minN = Math.max(panel.min_nuclei, 1);
      maxN = Math.max(panel.max_nuclei, minN);
    }
    const per = nuclei.map((n) => {
      let reason = null;
      if (!n.scorable) {
        reason = n.excluded_reason !== null && n.excluded_reason !== undefined && n.excluded_reason.trim() !== "" ? n.excluded_reason : "not_scorable";
      } else {
        const s = signalExclusion(n.target, n.control, panel.require_both_signals);
        if (s !== null) reason = s;
        else if (excluded.has(n.field + ":" + n.id)) reason = "excluded_by_reviewer";
      }
      return {
        field: n.field, id: n.id, eligible: reason === null, excluded_reason: reason,
        order: null, enumerated: false, ratio: n.control > 0 ? n.target / n.control : null,
      };
    });
    const eligible = [];
    for (let i = 0; i < nuclei.length; i++) if (per[i].eligible) eligible.push(i);
    const keyed = eligible.map((i, k) => ({ i, k, key: orderKey(p.seed, nuclei[i].field, nuclei[i].id) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.k - b.k));
    const ordered = keyed.map((e) => e.i);
    ordered.forEach((i, rank) => { per[i].order = rank; });
    const countsOf = (k) => ordered.slice(0, k).map((i) => [nuclei[i].target, nuclei[i].control]);
    const meanTargetOf = (c) => {
      if (c.length === 0) return null;
      let s = 0;
      for (const x of c) s += x[0];
      return s / c.length;
    };
    const nEligible = ordered.length;
    let nScored, borderlineAtMin, ratioAtMin;
    if (nEligible < minN) {
      nScored = nEligible; borderlineAtMin = false; ratioAtMin = pooledRatio(countsOf(nEligible));
    } else {
      const first = countsOf(minN);
      const rMin = pooledRatio(first);
      const more = needsMore(panel, rMin, meanTargetOf(first));
      nScored = more ? Math.min(maxN, nEligible) : minN;
      borderlineAtMin = more; ratioAtMin = rMin;
    }
    const extended = borderlineAtMin && maxN > minN;
    for (const i of ordered.slice(0, nScored)) per[i].enumerated = true;

    const scored = ordered.slice(0, nScored).map((i) => nuclei[i]);
    const counts = countsOf(nScored);
    let targetSignals = 0, controlSignals = 0;
    for (const n of scored) { targetSignals += n.target; controlSignals += n.control; }
    const nf = nScored;
    const share = (pred) => (nScored > 0 ? scored.filter(pred).length / nf : null);
    const ratio = pooledRatio(counts);
    const meanTarget = nScored > 0 ? targetSignals / nf : null;
    const meanControl = nScored > 0 ? controlSignals / nf : null;
    const ciNuclei = ratioCi95(counts, p.seed, p.bootstrap_resamples);
    const refSe = referenceRatioSe(scored, targetSignals, controlSignals, ratio);
    const ci = ciNuclei !== null && ratio !== null && refSe !== null ? widenInterval(ciNuclei, ratio, refSe) : ciNuclei;
    const ciCrosses = ci === null ? null : ci[0] < panel.cutoff && panel.cutoff <= ci[1];
    const shareGe = share((n) => nucleusRatioGe(n.target, n.control, panel.cutoff));
    const shareCluster = share((n) => n.cluster);
    const shareTntc = share((n) => n.tntc);
    let faint = 0;
    for (const n of scored) faint += Math.min(n.control_faint, n.control);
    const faintShare = controlSignals > 0 ? faint / controlSignals : null;
    const polysomy = meanControl !== null && ratio !== null && meanControl >= panel.polysomy_control_mean && ratio < panel.cutoff;

    const decision = decide(panel, {
      eligible: nEligible, min_nuclei: minN, max_nuclei: maxN, scored: nScored,
      ratio_at_min: ratioAtMin, borderline_at_min: borderlineAtMin, ratio, mean_target: meanTarget,
    });

    const qc = [];
    const label = ratioLabel(panel);
    if (nEligible < minN) {
      qc.push("too few nuclei: " + nEligible + " eligible of " + nuclei.length + " detected (" + nuclei.filter((n) => n.scorable).length + " scorable); the panel needs " + minN);
    }
    if (nScored > 0 && ratio === null) {
      qc.push("no " + panel.control + " signal in the enumerated nuclei: check the control probe's hybridisation");
    }
    if (borderlineAtMin) {
      qc.push("borderline after " + minN + " nuclei (" + label + " ratio " + fmtRatio(ratioAtMin) + "): " + nScored + " nuclei enumerated");
      if (nScored < maxN) {
        qc.push("only " + nScored + " eligible nuclei available; the panel counts up to " + maxN + " in the borderline zone");
      }
    }
    if (decision.call === "EQUIVOCAL") qc.push("equivocal result: review by a cytogeneticist recommended");
    if (ciCrosses === true && ci !== null) {
      qc.push("low confidence: the 95 % interval of the ratio [" + fixed(ci[0], 3) + ", " + fixed(ci[1], 3) + "] contains the cutoff " + disp(panel.cutoff));
    }
    if (polysomy) {
      qc.push("polysomy: mean " + panel.control + " " + fixed(meanControl === null ? 0 : meanControl, 2) + " per nucleus (>= " + disp(panel.polysomy_control_mean) + ") with " + label + " ratio " + fmtRatio(ratio) + " < " + disp(panel.cutoff) + ": copy gain of the chromosome, not amplification");
    }
    if (faintShare !== null && faintShare > p.faint_control_share_warn) {
      qc.push("weak control hybridisation: " + fixed(100 * faintShare, 0) + " % of " + panel.control + " signals are near the detection threshold (warning above " + fixed(100 * p.faint_control_share_warn, 0) + " %); missed " + panel.control + " signals would inflate the ratio");
    }
    const nTntc = scored.filter((n) => n.tntc).length;
    if (nTntc > 0) {
      qc.push(nTntc + " of " + nScored + " enumerated nuclei have too many " + panel.target + " signals to count; their counts are estimates");
    }

    const excludedCounts = {};
    const reasons = [];
    for (const s of per) {
      if (s.excluded_reason !== null) {
        if (!(s.excluded_reason in excludedCounts)) { excludedCounts[s.excluded_reason] = 0; reasons.push(s.excluded_reason); }
        excludedCounts[s.excluded_reason]++;
      }
    }
    reasons.sort();
    const nucleiExcluded = {};
    for (const r of reasons) nucleiExcluded[r] = excludedCounts[r];

    const iscn = iscnSummary(panel, decision.call, scored.map((n) => ({ target: n.target, control: n.control, cluster: n.cluster || n.tntc })));
    const pct = (s) => (s === null ? "n/a" : fixed(100 * s, 1) + " %");
    return {
      panel: panel.name,
      call: decision.call,
      rule: decision.rule,
      ratio,
      ratio_ci95: ci,
      ratio_ci95_nuclei: ciNuclei,
      ratio_reference_se: refSe,
      ci_crosses_cutoff: ciCrosses,
      cutoff: panel.cutoff,
      borderline: panel.borderline,
      nuclei_required: minN,
      nuclei_max: maxN,
      nuclei_detected: nuclei.length,
      nuclei_scorable: nuclei.filter((n) => n.scorable).length,
      nuclei_eligible: nEligible,
      nuclei_scored: nScored,
      nuclei_excluded: nucleiExcluded,
      target_signals: targetSignals,
      control_signals: controlSignals,
      mean_target: meanTarget,
      mean_control: meanControl,
      ratio_at_min: ratioAtMin,
      share_ratio_ge_cutoff: shareGe,
      share_cluster: shareCluster,
      share_tntc: shareTntc,
      control_faint_share: faintShare,
      polysomy,
      her2_group: decision.her2_group,
      extended_to_max: extended,
      qc,
      iscn,
      cap: {
        probe: label,
        nuclei_counted: nScored,
        mean_target: meanTarget,
        mean_control: meanControl,
        ratio,
        her2_group: decision.her2_group,
        interpretation: decision.rule,
        heterogeneity: "clusters in " + pct(shareCluster) + " of nuclei; per-nucleus ratio >= " + disp(panel.cutoff) + " in " + pct(shareGe),
        image_analysis_method: p.image_analysis_method,
      },
      per_nucleus: per,
    };
  }

  // report::review::apply_review. `decisions`: Map "field:id" -> "exclude" | "include".
  function applyReview(input, decisions) {
    const nuclei = input.nuclei.map((n) => Object.assign({}, n));
    const excluded = new Set();
    for (const n of nuclei) {
      const d = decisions.get(n.field + ":" + n.id);
      if (d === "exclude") excluded.add(n.field + ":" + n.id);
      else if (d === "include" && signalExclusion(n.target, n.control, input.panel.require_both_signals) === null) n.scorable = true;
    }
    return rescore(nuclei, input.panel, input.params, excluded);
  }

  const api = { mix64, orderKey, pooledRatio, quantileSorted, ratioCi95, fixed, rescore, applyReview, signalExclusion };
  root.FishScore = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
