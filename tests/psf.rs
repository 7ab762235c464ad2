//! The PSF is measured on the image: a PSF far from the nominal 0.35 um
//! FWHM is found, and autofluorescent granules (broad, in both probe
//! channels) do not pass for it even when they are numerous.

use fishscore::pipeline::{analyze_field, AnalyzeParams};
use fishscore::plane::{Field, Plane};
use fishscore::simulate::{recipe::parse_recipe, simulate};
use ndarray::Array2;

fn psf_sigma_um(opts: &str) -> (f64, f64, bool) {
    let p = parse_recipe(&format!("c: {opts}"))
        .unwrap()
        .remove(0)
        .params;
    let case = simulate(&p).unwrap();
    let (w, h) = p.size;
    let plane = |c: usize| {
        let data = Array2::from_shape_vec(
            (h, w),
            case.images[c][0].iter().map(|&v| v as f32).collect(),
        )
        .unwrap();
        Plane::new(data, p.pixel_size_um)
    };
    let field = Field {
        name: "psf".into(),
        dapi: plane(0),
        target: plane(1),
        control: plane(2),
    };
    let r = analyze_field(&field, None, &AnalyzeParams::default());
    let qc = r
        .signals
        .qc
        .iter()
        .find(|q| q.channel.as_str() == "control")
        .unwrap();
    let truth = p.psf_fwhm_um / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt());
    (qc.psf_sigma_um, truth, qc.psf_estimated)
}

#[test]
fn a_wide_psf_is_measured_not_assumed() {
    let (got, truth, estimated) =
        psf_sigma_um("--seed 304 --size 768x768 --psf-fwhm-um 0.6 --ratio 1");
    assert!(estimated, "the nominal 0.35 um PSF was kept");
    assert!(
        (got / truth - 1.0).abs() < 0.1,
        "sigma {got} um, truth {truth} um"
    );
}

/// Seven times the default granule density at SNR 4: the granules are the
/// brightest objects and outnumber the bright single dots. The PSF used
/// (measured, or the nominal when too few clean dots remain) must be the
/// probes' (the width histogram once locked onto the granules: 0.357 um).
#[test]
fn granules_do_not_pass_for_the_psf() {
    let (got, truth, _) = psf_sigma_um(
        "--seed 403 --size 1536x1536 --snr 4 --granules-per-10k-um2 40 --ratio 2.6 --clusters off",
    );
    assert!(
        (got / truth - 1.0).abs() < 0.1,
        "sigma {got} um, truth {truth} um"
    );
}
