//! Unit tests of the scoring stage on hand-made counts with known answers.

use super::enumerate::enumeration_order;
use super::*;

fn nucleus(field: usize, id: u32, target: u32, control: u32) -> NucleusCounts {
    NucleusCounts {
        field,
        id,
        x: 10.0 * id as f64,
        y: 5.0 * field as f64,
        scorable: true,
        excluded_reason: None,
        target,
        control,
        cluster: false,
        tntc: false,
        control_faint: 0,
        cluster_copies: [0, 0],
        reference_rel_se: [None, None],
    }
}

/// `n` nuclei spread over two fields, all with the same counts.
fn uniform(n: u32, target: u32, control: u32) -> Vec<NucleusCounts> {
    (0..n)
        .map(|i| nucleus((i % 2) as usize, i + 1, target, control))
        .collect()
}

/// `n` nuclei over three fields whose counts are assigned by their rank in
/// the enumeration order under `p.seed`: `by_rank(rank) -> (target, control)`.
fn by_rank(n: u32, p: &ScoringParams, f: impl Fn(usize) -> (u32, u32)) -> Vec<NucleusCounts> {
    let mut v: Vec<NucleusCounts> = (0..n)
        .map(|i| nucleus((i % 3) as usize, 100 + i, 0, 0))
        .collect();
    let keys: Vec<(usize, u32)> = v.iter().map(|x| (x.field, x.id)).collect();
    for (rank, i) in enumeration_order(p.seed, &keys).into_iter().enumerate() {
        let (t, c) = f(rank);
        v[i].target = t;
        v[i].control = c;
    }
    v
}

fn panel_allowing_zero_signals() -> Panel {
    let text = Panel::builtin_toml("mdm2-cep12").unwrap().replace(
        "require_both_signals = true",
        "require_both_signals = false",
    );
    Panel::from_toml_str(&text, "test").unwrap()
}

fn params() -> ScoringParams {
    ScoringParams {
        seed: 11,
        bootstrap_resamples: 500,
        ..ScoringParams::default()
    }
}

fn her2() -> Panel {
    Panel::resolve("her2-cep17").unwrap()
}

#[test]
fn ratio_2_98_over_50_nuclei_is_amplified() {
    // 143 MDM2 and 48 CEP12 signals over 50 nuclei (two nuclei without
    // CEP12, so the panel must admit zero-signal nuclei).
    let nuclei: Vec<NucleusCounts> = (0..50u32)
        .map(|i| nucleus(0, i + 1, 2 + u32::from(i < 43), u32::from(i < 48)))
        .collect();
    let s = score_case(&nuclei, &panel_allowing_zero_signals(), &params());
    assert_eq!((s.target_signals, s.control_signals), (143, 48));
    assert_eq!(s.nuclei_scored, 50);
    let r = s.ratio.unwrap();
    assert!((r - 143.0 / 48.0).abs() < 1e-12);
    assert_eq!(format!("{r:.2}"), "2.98");
    assert_eq!(s.call, Call::Amplified);
    assert!(!s.extended_to_max);
    assert_eq!(s.mean_target, Some(143.0 / 50.0));
    assert_eq!(s.mean_control, Some(48.0 / 50.0));
    let [lo, hi] = s.ratio_ci95.unwrap();
    assert!(lo < r && r < hi);
    assert_eq!(s.ci_crosses_cutoff, Some(lo < 2.0));
    assert!(
        s.rule.contains("2.979 >= 2 over 50 nuclei: AMPLIFIED"),
        "{}",
        s.rule
    );
    // Per-nucleus ratio >= 2: the 48 nuclei with one CEP12 signal and 2-3
    // MDM2, plus the two without CEP12 (target > 0).
    assert_eq!(s.share_ratio_ge_cutoff, Some(1.0));
}

#[test]
fn pooled_ratio_is_not_the_mean_of_nucleus_ratios() {
    // 25 nuclei 8/1 and 25 nuclei 2/4: pooled 250/125 = 2.0, while the
    // mean of the nucleus ratios would be 4.25.
    let p = params();
    let nuclei = by_rank(50, &p, |r| if r % 2 == 0 { (8, 1) } else { (2, 4) });
    let s = score_case(&nuclei, &Panel::default(), &p);
    assert_eq!(s.ratio, Some(2.0));
    assert_eq!(s.share_ratio_ge_cutoff, Some(0.5));
}

#[test]
fn borderline_at_50_extends_to_100() {
    let p = params();
    // First 50 in the order: 5 x (3,1) + 45 x (2,1) = 105/50 = 2.1.
    let first = |r: usize| if r < 5 { (3, 1) } else { (2, 1) };
    // Ranks >= 100 must never be counted.
    let make = |next: (u32, u32)| {
        by_rank(130, &p, |r| match r {
            0..=49 => first(r),
            50..=99 => next,
            _ => (40, 1),
        })
    };
    let panel = Panel::default();

    let s = score_case(&make((5, 1)), &panel, &p);
    assert_eq!(s.ratio_at_min, Some(2.1));
    assert!(s.extended_to_max);
    assert_eq!(s.nuclei_scored, 100);
    assert_eq!(s.ratio, Some(355.0 / 100.0));
    assert_eq!(s.call, Call::Amplified);
    assert!(
        s.rule.contains("so 100 nuclei were enumerated"),
        "{}",
        s.rule
    );
    assert_eq!(s.per_nucleus.iter().filter(|n| n.enumerated).count(), 100);
    assert!(s
        .per_nucleus
        .iter()
        .all(|n| n.enumerated == n.order.is_some_and(|o| o < 100)));

    let s = score_case(&make((1, 1)), &panel, &p);
    assert_eq!(s.ratio, Some(1.55));
    assert_eq!(s.call, Call::NotAmplified);

    // Still in the zone after 100: EQUIVOCAL.
    let s = score_case(&make((2, 1)), &panel, &p);
    assert_eq!(s.ratio, Some(2.05));
    assert_eq!(s.call, Call::Equivocal);
    assert!(s.qc.iter().any(|q| q.contains("review")));
}

#[test]
fn equivocal_only_when_still_in_zone_after_max() {
    let p = params();
    let panel = Panel::default();
    // Clear ratios after 50 are never extended nor equivocal, even if
    // later nuclei would pull the ratio into the zone.
    for (first, want) in [
        ((3u32, 1u32), Call::Amplified),
        ((1, 1), Call::NotAmplified),
    ] {
        let nuclei = by_rank(120, &p, |r| if r < 50 { first } else { (2, 1) });
        let s = score_case(&nuclei, &panel, &p);
        assert_eq!(
            (s.call, s.nuclei_scored, s.extended_to_max),
            (want, 50, false)
        );
    }
    // Zone edges after 100 nuclei are inclusive: 2.2 is EQUIVOCAL, 2.21 is
    // AMPLIFIED. Each block of 50: 10 x (3,1) + 40 x (2,1) = 2.2.
    let zone22 = |r: usize| if r % 50 < 10 { (3, 1) } else { (2, 1) };
    let s = score_case(&by_rank(100, &p, zone22), &panel, &p);
    assert_eq!(
        (s.ratio_at_min, s.ratio, s.call),
        (Some(2.2), Some(2.2), Call::Equivocal)
    );
    let s = score_case(
        &by_rank(100, &p, |r| if r == 99 { (3, 1) } else { zone22(r) }),
        &panel,
        &p,
    );
    assert_eq!((s.ratio, s.call), (Some(2.21), Call::Amplified));
    // Borderline with fewer than 100 eligible: all 70 are counted, and a
    // ratio still in the zone (150/70) is EQUIVOCAL with a note.
    let first = |r: usize| if r < 10 { (3, 1) } else { (2, 1) };
    let s = score_case(&by_rank(70, &p, first), &panel, &p);
    assert_eq!((s.nuclei_scored, s.call), (70, Call::Equivocal));
    assert!(s.qc.iter().any(|q| q.contains("only 70 eligible")));
    // --nuclei 50 (no extension possible): in the zone after the maximum.
    let fixed = ScoringParams {
        nuclei_range: Some((50, 50)),
        ..params()
    };
    let s = score_case(&by_rank(100, &fixed, first), &panel, &fixed);
    assert_eq!(
        (s.nuclei_scored, s.call, s.extended_to_max),
        (50, Call::Equivocal, false)
    );
}

#[test]
fn insufficient_exactly_below_min_eligible() {
    let p = params();
    let panel = Panel::default();
    let mut nuclei = uniform(49, 6, 2);
    // Ineligible nuclei do not count toward the 50.
    let mut border = nucleus(0, 900, 4, 2);
    border.scorable = false;
    border.excluded_reason = Some("border".into());
    nuclei.push(border);
    nuclei.push(nucleus(1, 901, 0, 2));
    nuclei.push(nucleus(1, 902, 3, 0));
    let s = score_case(&nuclei, &panel, &p);
    assert_eq!(s.call, Call::Insufficient);
    assert_eq!((s.nuclei_detected, s.nuclei_scorable), (52, 51));
    assert_eq!((s.nuclei_eligible, s.nuclei_scored), (49, 49));
    // Everything found is still reported.
    assert_eq!(s.ratio, Some(3.0));
    assert_eq!(s.target_signals, 294);
    assert!(s.qc[0].starts_with("too few nuclei: 49 eligible of 52 detected"));
    assert_eq!(s.nuclei_excluded.get("border"), Some(&1));
    assert_eq!(s.nuclei_excluded.get("no_target_signal"), Some(&1));
    assert_eq!(s.nuclei_excluded.get("no_control_signal"), Some(&1));
    assert_eq!(s.per_nucleus[49].excluded_reason.as_deref(), Some("border"));
    assert_eq!(
        s.per_nucleus[50].excluded_reason.as_deref(),
        Some("no_target_signal")
    );
    assert!(!s.per_nucleus[51].eligible && s.per_nucleus[51].order.is_none());

    nuclei.push(nucleus(0, 903, 6, 2));
    let s = score_case(&nuclei, &panel, &p);
    assert_eq!((s.nuclei_scored, s.call), (50, Call::Amplified));

    // An override of the minimum applies the same rule.
    let more = ScoringParams {
        nuclei_range: Some((60, 100)),
        ..params()
    };
    let s = score_case(&nuclei, &panel, &more);
    assert_eq!((s.call, s.nuclei_required), (Call::Insufficient, 60));
    assert!(s
        .rule
        .contains("50 eligible nuclei, fewer than the 60 required"));
}

#[test]
fn her2_groups_at_their_boundaries() {
    let p = params();
    let h = her2();
    // (counts per nucleus for 20 nuclei, expected group, call)
    type Case = (Vec<(u32, u32)>, u8, Call);
    let mut cases: Vec<Case> = Vec::new();
    // Ratio exactly 2.0, mean HER2 exactly 4.0: group 1.
    cases.push((vec![(4, 2); 20], 1, Call::Amplified));
    // Ratio exactly 2.0, mean 3.9: group 2.
    let mut g2 = vec![(4, 2); 19];
    g2.push((2, 1));
    cases.push((g2, 2, Call::Equivocal));
    // Mean exactly 6.0, ratio 120/61 < 2: group 3.
    let mut g3 = vec![(6, 3); 19];
    g3.push((6, 4));
    cases.push((g3, 3, Call::Equivocal));
    // Mean exactly 4.0, ratio 80/41 < 2: group 4.
    let mut g4 = vec![(4, 2); 19];
    g4.push((4, 3));
    cases.push((g4, 4, Call::Equivocal));
    // Mean 5.95 (just below 6.0), ratio < 2: still group 4.
    let mut g4b = vec![(6, 3); 19];
    g4b.push((5, 4));
    cases.push((g4b, 4, Call::Equivocal));
    // Mean 3.95 (just below 4.0), ratio < 2: group 5.
    let mut g5 = vec![(4, 2); 19];
    g5.push((3, 3));
    cases.push((g5, 5, Call::NotAmplified));
    // Far from every boundary.
    cases.push((vec![(12, 2); 20], 1, Call::Amplified));
    cases.push((vec![(2, 2); 20], 5, Call::NotAmplified));
    for (counts, group, call) in cases {
        let nuclei: Vec<NucleusCounts> = counts
            .iter()
            .enumerate()
            .map(|(i, &(t, c))| nucleus(0, i as u32 + 1, t, c))
            .collect();
        let s = score_case(&nuclei, &h, &p);
        assert_eq!(s.her2_group, Some(group), "{counts:?}: {}", s.rule);
        assert_eq!(s.call, call, "{}", s.rule);
        assert_eq!(s.cap.her2_group, Some(group));
        assert!(s.rule.contains(&format!("ASCO/CAP 2018 group {group}")));
        assert_eq!(s.nuclei_scored, 20);
    }
}

#[test]
fn her2_group_3_after_20_is_recounted_to_40() {
    let p = params();
    // First 20: mean 7, ratio 7/4 < 2: group 3 -> count to 40.
    let nuclei = by_rank(60, &p, |r| if r < 20 { (7, 4) } else { (9, 2) });
    let s = score_case(&nuclei, &her2(), &p);
    assert!(s.extended_to_max);
    assert_eq!(s.nuclei_scored, 40);
    assert_eq!(s.ratio, Some(320.0 / 120.0));
    assert_eq!((s.her2_group, s.call), (Some(1), Call::Amplified));
}

#[test]
fn polysomy_note() {
    let p = params();
    let panel = Panel::default();
    let s = score_case(&uniform(50, 4, 4), &panel, &p);
    assert!(s.polysomy && s.call == Call::NotAmplified);
    assert!(s
        .qc
        .iter()
        .any(|q| q.starts_with("polysomy: mean CEP12 4.00")));
    // Mean exactly 3.0 counts.
    assert!(score_case(&uniform(50, 3, 3), &panel, &p).polysomy);
    // Not with a diploid control, nor with a ratio above the cutoff.
    assert!(!score_case(&uniform(50, 2, 2), &panel, &p).polysomy);
    let s = score_case(&uniform(50, 7, 3), &panel, &p);
    assert!(!s.polysomy && s.call == Call::Amplified);
}

#[test]
fn zero_control_total_does_not_panic() {
    let p = params();
    // A panel that admits nuclei without control signals.
    let open = panel_allowing_zero_signals();
    for (t, c) in [(2, 0), (0, 0)] {
        let s = score_case(&uniform(50, t, c), &open, &p);
        assert_eq!(s.ratio, None);
        assert_eq!(s.ratio_ci95, None);
        assert_eq!(s.ci_crosses_cutoff, None);
        assert_eq!(s.call, Call::Insufficient);
        assert!(s.rule.contains("ratio is undefined"), "{}", s.rule);
        serde_json::to_string(&s).unwrap();
    }
    // The default panel excludes them instead.
    let s = score_case(&uniform(50, 2, 0), &Panel::default(), &p);
    assert_eq!((s.call, s.nuclei_eligible), (Call::Insufficient, 0));
    assert_eq!(s.nuclei_excluded.get("no_control_signal"), Some(&50));
    assert_eq!(s.iscn, "nuc ish(D12Z3,MDM2)[0]");
    // No nuclei at all.
    let s = score_case(&[], &Panel::default(), &p);
    assert_eq!(
        (s.call, s.ratio, s.mean_target),
        (Call::Insufficient, None, None)
    );
}

#[test]
fn bootstrap_is_deterministic_and_thread_independent() {
    let p = ScoringParams {
        seed: 5,
        ..ScoringParams::default()
    };
    let nuclei = by_rank(80, &p, |r| (1 + (r % 7) as u32, 1 + (r % 3) as u32));
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| score_case(&nuclei, &Panel::default(), &p))
    };
    let a = run(1);
    assert!(a.ratio_ci95.is_some());
    assert_eq!(a, run(4));
    assert_eq!(a, score_case(&nuclei, &Panel::default(), &p));
    let other = ScoringParams {
        seed: 6,
        ..p.clone()
    };
    assert_ne!(
        a.ratio_ci95,
        score_case(&nuclei, &Panel::default(), &other).ratio_ci95
    );
}

#[test]
fn ci_crossing_the_cutoff_is_flagged() {
    let p = params();
    // Half the nuclei 1/1, half 3/1: pooled 2.0 with wide spread.
    let nuclei = by_rank(100, &p, |r| if r % 2 == 0 { (1, 1) } else { (3, 1) });
    let s = score_case(&nuclei, &Panel::default(), &p);
    let [lo, hi] = s.ratio_ci95.unwrap();
    assert!(lo < 2.0 && hi > 2.0, "{lo} {hi}");
    assert_eq!(s.ci_crosses_cutoff, Some(true));
    assert!(s.qc.iter().any(|q| q.starts_with("low confidence")));
    // A clear case does not cross.
    let s = score_case(&uniform(50, 10, 2), &Panel::default(), &p);
    assert_eq!(s.ratio_ci95, Some([5.0, 5.0]));
    assert_eq!(s.ci_crosses_cutoff, Some(false));
}

#[test]
fn faint_control_warning_above_the_share() {
    let p = params();
    // 100 control signals; 30 faint (not above 30 %), then 31.
    let mut nuclei = uniform(50, 2, 2);
    for n in nuclei.iter_mut().take(15) {
        n.control_faint = 2;
    }
    let s = score_case(&nuclei, &Panel::default(), &p);
    assert_eq!(s.control_faint_share, Some(0.30));
    assert!(!s.qc.iter().any(|q| q.starts_with("weak control")));
    nuclei[20].control_faint = 1;
    let s = score_case(&nuclei, &Panel::default(), &p);
    assert!(s
        .qc
        .iter()
        .any(|q| q.starts_with("weak control hybridisation: 31 %")));
}

#[test]
fn reviewer_exclusion_lets_the_next_nuclei_in() {
    let p = params();
    let panel = Panel::default();
    let nuclei = by_rank(90, &p, |r| if r < 50 { (6, 2) } else { (2, 2) });
    let before = score_case(&nuclei, &panel, &p);
    assert_eq!((before.ratio, before.call), (Some(3.0), Call::Amplified));
    // Exclude the nuclei at ranks 0, 10 and 49, plus an unknown id.
    let at_rank = |r: usize| {
        let s = before
            .per_nucleus
            .iter()
            .find(|s| s.order == Some(r))
            .unwrap();
        (s.field, s.id)
    };
    let excluded = [at_rank(0), at_rank(10), at_rank(49), (7, 7)];
    let after = rescore(&nuclei, &panel, &p, &excluded);
    let enumerated = |s: &Score| -> Vec<(usize, u32)> {
        let mut v: Vec<(usize, u32, usize)> = s
            .per_nucleus
            .iter()
            .filter(|n| n.enumerated)
            .map(|n| (n.field, n.id, n.order.unwrap()))
            .collect();
        v.sort_by_key(|x| x.2);
        v.into_iter().map(|x| (x.0, x.1)).collect()
    };
    // The old order without the excluded nuclei, first 50.
    let expected: Vec<(usize, u32)> = (0..90)
        .map(at_rank)
        .filter(|k| !excluded.contains(k))
        .take(50)
        .collect();
    assert_eq!(enumerated(&after), expected);
    assert_eq!(after.nuclei_eligible, 87);
    assert_eq!(after.nuclei_excluded.get("excluded_by_reviewer"), Some(&3));
    // 47 nuclei 6/2 and 3 nuclei 2/2 (ranks 50-52 moved in).
    assert_eq!(after.ratio, Some((47.0 * 6.0 + 6.0) / 100.0));
    assert!(after
        .qc
        .iter()
        .any(|q| q.contains("unknown nuclei ignored: field 7 nucleus 7")));
    // No exclusion: identical to score_case.
    assert_eq!(rescore(&nuclei, &panel, &p, &[]), before);
}

#[test]
fn nuclei_of_all_fields_are_pooled_in_one_order() {
    let p = params();
    let nuclei: Vec<NucleusCounts> = (0..4usize)
        .flat_map(|f| (1..=40u32).map(move |id| nucleus(f, id, 2, 2)))
        .collect();
    let s = score_case(&nuclei, &Panel::default(), &p);
    let fields: BTreeSet<usize> = s
        .per_nucleus
        .iter()
        .filter(|n| n.enumerated)
        .map(|n| n.field)
        .collect();
    assert_eq!(fields.len(), 4);
    // Enumeration does not follow the input (or brightness) order.
    let first_ids: Vec<u32> = s
        .per_nucleus
        .iter()
        .filter(|n| n.enumerated)
        .map(|n| n.id)
        .collect();
    assert_ne!(first_ids, (1..=50).collect::<Vec<u32>>());
}

#[test]
fn iscn_and_cap_summary() {
    let p = params();
    let mut nuclei = uniform(50, 10, 2);
    for n in nuclei.iter_mut().take(7) {
        n.target = 2;
    }
    nuclei[20].cluster = true;
    let s = score_case(&nuclei, &Panel::default(), &p);
    assert_eq!(s.call, Call::Amplified);
    assert_eq!(s.iscn, "nuc ish(D12Z3x2,MDM2amp)[43/50]");
    assert_eq!(s.cap.nuclei_counted, 50);
    assert_eq!(s.cap.probe, "MDM2/CEP12");
    assert_eq!(
        s.cap.heterogeneity,
        "clusters in 2.0 % of nuclei; per-nucleus ratio >= 2 in 86.0 %"
    );
    assert!(s.cap.image_analysis_method.contains("fishscore"));
    let s = score_case(&uniform(50, 2, 2), &Panel::default(), &p);
    assert_eq!(s.iscn, "nuc ish(D12Z3,MDM2)x2[50]");
}

#[test]
fn report_json_keys() {
    let s = score_case(&uniform(50, 6, 2), &Panel::default(), &params());
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["call"], "AMPLIFIED");
    assert_eq!(v["ratio"], 3.0);
    assert!(v["ratio_ci95"].is_array());
    for key in [
        "nuclei_detected",
        "nuclei_scored",
        "target_signals",
        "control_signals",
        "mean_target",
        "mean_control",
        "qc",
        "iscn",
        "cap",
        "per_nucleus",
        "ci_crosses_cutoff",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let back: Score = serde_json::from_value(v).unwrap();
    assert_eq!(back, s);
}

#[test]
fn reference_error_widens_the_interval_only_with_clusters() {
    // 60 nuclei over two fields, 10 target copies (8 of them from
    // clusters) and 2 control copies each: ratio 5. Field 0's target
    // reference is known to 5 %, field 1's to 10 %.
    let nuclei: Vec<NucleusCounts> = (0..60u32)
        .map(|i| {
            let f = (i % 2) as usize;
            NucleusCounts {
                cluster: true,
                cluster_copies: [8, 0],
                reference_rel_se: [Some(if f == 0 { 0.05 } else { 0.10 }), Some(0.3)],
                ..nucleus(f, i + 1, 10, 2)
            }
        })
        .collect();
    let p = ScoringParams {
        bootstrap_resamples: 500,
        ..ScoringParams::default()
    };
    let s = rescore(&nuclei, &Panel::default(), &p, &[]);
    let n = s.nuclei_scored as f64;
    assert_eq!(s.ratio, Some(5.0));
    // Per field: rel = se x cluster copies / all target copies; the
    // fields in quadrature; control clusters absent (its error unused).
    let half = 8.0 * n / 2.0 / (10.0 * n);
    let want = 5.0 * ((0.05 * half).powi(2) + (0.10 * half).powi(2)).sqrt();
    let se = s.ratio_reference_se.unwrap();
    assert!((se - want).abs() < 1e-12, "{se} {want}");
    // Identical nuclei: the bootstrap interval is a point; the combined
    // one is +-1.96 se around it.
    assert_eq!(s.ratio_ci95_nuclei, Some([5.0, 5.0]));
    let [lo, hi] = s.ratio_ci95.unwrap();
    assert!((lo - (5.0 - 1.96 * want)).abs() < 1e-12 && (hi - (5.0 + 1.96 * want)).abs() < 1e-12);
    // Half-widths combine in quadrature.
    assert_eq!(widen_interval([4.0, 7.0], 5.0, 0.0), [4.0, 7.0]);
    let w = widen_interval([4.0, 7.0], 5.0, 1.5 / 1.96);
    assert!((w[0] - (5.0 - 3.25f64.sqrt())).abs() < 1e-12);
    assert!((w[1] - (5.0 + 6.25f64.sqrt())).abs() < 1e-12);
    // No cluster copies, or no known reference error: the bootstrap alone.
    for (copies, rs) in [([0, 0], [Some(0.05), Some(0.05)]), ([8, 0], [None, None])] {
        let plain: Vec<NucleusCounts> = nuclei
            .iter()
            .map(|n| NucleusCounts {
                cluster_copies: copies,
                reference_rel_se: rs,
                ..n.clone()
            })
            .collect();
        let s = rescore(&plain, &Panel::default(), &p, &[]);
        assert_eq!(s.ratio_reference_se, None);
        assert_eq!(s.ratio_ci95, s.ratio_ci95_nuclei);
    }
}
