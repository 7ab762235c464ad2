//! The input layer: every supported layout reads back to the same field,
//! and every hostile or broken file gives a one-line error naming the
//! file (no panic, no partial output).

use fishscore::io::load::{load_field, open_scan, FieldSource, LoadOptions};
use fishscore::io::tiff_write::{stretch_range, stretch_u8, write_gray_pages, GrayWriteOptions};
use fishscore::io::Projection;
use fishscore::simulate::{recipe::parse_recipe, simulate, write_case, SimCase, SimParams};
use ndarray::Array2;
use std::path::{Path, PathBuf};

fn params(opts: &str) -> SimParams {
    parse_recipe(&format!("c: {opts}"))
        .unwrap()
        .remove(0)
        .params
}

fn sim(opts: &str) -> SimCase {
    simulate(&params(opts)).unwrap()
}

fn write_layout(case: &SimCase, dir: &Path, layout_opts: &str) -> SimCase {
    let mut p = params(&format!(
        "--seed {} --size {}x{} --z-planes {} {layout_opts}",
        case.params.seed,
        case.params.width(),
        case.params.height(),
        case.params.z_planes
    ));
    p.pixel_size_um = case.params.pixel_size_um;
    let c = SimCase {
        params: p,
        tissue: case.tissue.clone(),
        probes: case.probes.clone(),
        images: case.images.clone(),
    };
    write_case(&c, dir).unwrap();
    c
}

fn source(dir: &Path) -> FieldSource {
    if dir.join("dapi.tif").exists() {
        FieldSource::PerChannel {
            dapi: dir.join("dapi.tif"),
            target: dir.join("target.tif"),
            control: dir.join("control.tif"),
        }
    } else if dir.join("image.ome.tif").exists() {
        FieldSource::Multi(dir.join("image.ome.tif"))
    } else {
        FieldSource::Multi(dir.join("image.tif"))
    }
}

fn as_array(v: &[u16], w: usize, h: usize) -> Array2<f32> {
    Array2::from_shape_vec((h, w), v.iter().map(|&x| x as f32).collect()).unwrap()
}

#[test]
fn every_lossless_layout_reads_back_the_camera_values() {
    let tmp = tempfile::tempdir().unwrap();
    let case = sim("--seed 5 --size 96x80 --density dense --ratio 4");
    let (w, h) = (96, 80);
    let want = [
        as_array(&case.images[0][0], w, h),
        as_array(&case.images[1][0], w, h),
        as_array(&case.images[2][0], w, h),
    ];
    let layouts = [
        ("multipage", "simulator"),
        ("per-channel", "simulator"),
        ("ome-tiff", "ome"),
        ("tiled-bigtiff --tile-size 32", "simulator"),
        ("multipage --compression lzw", "simulator"),
        ("multipage --compression deflate --bigtiff", "simulator"),
        ("multipage --compression packbits", "simulator"),
        ("multipage --pixel-type f32", "simulator"),
        (
            "ome-tiff --compression deflate --bigtiff --pixel-type f32",
            "ome",
        ),
        ("per-channel --compression lzw", "simulator"),
    ];
    for (i, (lay, px_src)) in layouts.iter().enumerate() {
        let dir = tmp.path().join(format!("l{i}"));
        write_layout(&case, &dir, &format!("--layout {lay}"));
        let (f, info) = load_field(&source(&dir), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{lay}: {e}"));
        assert_eq!(f.dapi.data, want[0], "{lay}: DAPI");
        assert_eq!(f.target.data, want[1], "{lay}: target");
        assert_eq!(f.control.data, want[2], "{lay}: control");
        assert!((info.pixel_size_um - 0.1).abs() < 1e-9, "{lay}");
        assert_eq!(info.pixel_size_source, *px_src, "{lay}");
        assert_eq!(info.z_planes, 1);
        assert!(info.qc.is_empty(), "{lay}: {:?}", info.qc);
        if lay.starts_with("ome") {
            assert!(
                info.channel_map.contains("dapi=channel 1 'DAPI'"),
                "{}",
                info.channel_map
            );
            assert!(
                info.channel_map.contains("target=channel 2"),
                "{}",
                info.channel_map
            );
        }
        if lay.contains("bigtiff") {
            assert!(info.layout.contains("BigTIFF"), "{}", info.layout);
        }
    }
}

#[test]
fn eight_bit_and_rgb_composites_map_channels() {
    let tmp = tempfile::tempdir().unwrap();
    let case = sim("--seed 6 --size 64x64");
    for lay in ["rgb8", "multipage --pixel-type u8"] {
        let dir = tmp.path().join(lay.replace(' ', "_"));
        write_layout(&case, &dir, &format!("--layout {lay}"));
        let (f, info) = load_field(&source(&dir), &LoadOptions::default()).unwrap();
        assert_eq!(info.bits, 8);
        for (c, plane) in [&f.dapi, &f.target, &f.control].iter().enumerate() {
            let img = &case.images[c][0];
            let s = stretch_u8(img, stretch_range(&[img]));
            let want =
                Array2::from_shape_vec((64, 64), s.iter().map(|&v| v as f32).collect()).unwrap();
            assert_eq!(plane.data, want, "{lay}: channel {c}");
        }
        if lay == "rgb8" {
            assert!(
                info.channel_map.contains("dapi=channel 2 'blue' (rgb)"),
                "{}",
                info.channel_map
            );
            assert!(
                info.channel_map.contains("target=channel 0 'red'"),
                "{}",
                info.channel_map
            );
        }
    }
}

#[test]
fn z_stacks_channel_major_and_z_major_project_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let case = sim("--seed 7 --size 64x48 --z-planes 3");
    let mut fields = Vec::new();
    for lay in [
        "multipage",
        "ome-tiff",
        "per-channel",
        "tiled-bigtiff --tile-size 16",
    ] {
        let dir = tmp.path().join(lay.replace(' ', "_"));
        write_layout(&case, &dir, &format!("--layout {lay}"));
        for proj in [Projection::Max, Projection::Edf] {
            let o = LoadOptions {
                projection: proj,
                ..Default::default()
            };
            let (f, info) = load_field(&source(&dir), &o).unwrap();
            assert_eq!(info.z_planes, 3, "{lay}");
            assert_eq!(info.projection.as_deref(), Some(proj.as_str()));
            fields.push((lay, proj, f));
        }
    }
    // Maximum projection is exactly the per-pixel maximum of the planes.
    let mx = |c: usize| {
        let mut m = as_array(&case.images[c][0], 64, 48);
        for k in 1..3 {
            m.zip_mut_with(&as_array(&case.images[c][k], 64, 48), |a, &b| *a = a.max(b));
        }
        m
    };
    for (lay, proj, f) in &fields {
        let same = fields
            .iter()
            .find(|(_, p, _)| p == proj)
            .map(|(_, _, g)| g)
            .unwrap();
        assert_eq!(f.target.data, same.target.data, "{lay} {proj:?}");
        if *proj == Projection::Max {
            assert_eq!(f.target.data, mx(1), "{lay}");
            assert_eq!(f.control.data, mx(2), "{lay}");
        }
    }
}

#[test]
fn region_reads_of_a_tiled_scan_match_the_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let case = sim("--seed 8 --size 200x150");
    let dir = tmp.path().join("t");
    write_layout(&case, &dir, "--layout tiled-bigtiff --tile-size 48");
    let o = LoadOptions::default();
    let (whole, _) = load_field(&source(&dir), &o).unwrap();
    let mut scan = open_scan(&source(&dir), &o).unwrap();
    for (x, y, w, h) in [
        (0, 0, 200, 150),
        (47, 47, 2, 2),
        (40, 90, 160, 60),
        (199, 149, 1, 1),
    ] {
        let f = scan.read_field(x, y, w, h).unwrap();
        let want = whole
            .target
            .data
            .slice(ndarray::s![y..y + h, x..x + w])
            .to_owned();
        assert_eq!(f.target.data, want, "region {x},{y} {w}x{h}");
    }
    assert!(scan.read_field(150, 0, 60, 10).is_err());
}

#[test]
fn options_override_channels_and_pixel_size() {
    let tmp = tempfile::tempdir().unwrap();
    let case = sim("--seed 9 --size 48x48");
    let dir = tmp.path().join("o");
    write_layout(&case, &dir, "--layout ome-tiff");
    let o = LoadOptions {
        channels: Some([0, 1, 2]),
        pixel_size_um: Some(0.2),
        ..Default::default()
    };
    let (f, info) = load_field(&source(&dir), &o).unwrap();
    // Stored order is CEP12, DAPI, MDM2: channel 0 is the control probe.
    assert_eq!(f.dapi.data, as_array(&case.images[2][0], 48, 48));
    assert_eq!(info.pixel_size_source, "option");
    assert_eq!(f.pixel_size_um(), 0.2);
    assert!(
        info.qc.iter().any(|q| q.contains("overrides")),
        "{:?}",
        info.qc
    );
    let bad = LoadOptions {
        channels: Some([0, 1, 5]),
        ..Default::default()
    };
    let e = load_field(&source(&dir), &bad).unwrap_err().to_string();
    assert!(
        e.contains("image.ome.tif") && e.contains("--channels index 5"),
        "{e}"
    );
}

/// Writes a plain multi-page 16-bit TIFF without metadata.
fn plain(path: &Path, w: usize, h: usize, pages: &[Vec<u16>], res: Option<f64>) {
    let o = GrayWriteOptions {
        pixel_size_um: res,
        ..Default::default()
    };
    write_gray_pages(path, w, h, pages, &o).unwrap();
}

fn noise(w: usize, h: usize, seed: u16) -> Vec<u16> {
    (0..w * h)
        .map(|i| 100 + ((i as u32 * 2_654_435_761u32 + seed as u32) >> 24) as u16)
        .collect()
}

#[test]
fn plain_tiff_defaults_and_pixel_size_fallbacks() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("plain.tif");
    let pages: Vec<Vec<u16>> = (0..3).map(|s| noise(32, 32, s)).collect();
    plain(&f, 32, 32, &pages, None);
    let (field, info) =
        load_field(&FieldSource::Multi(f.clone()), &LoadOptions::default()).unwrap();
    assert_eq!(field.target.data, as_array(&pages[1], 32, 32));
    assert_eq!(info.pixel_size_source, "default");
    assert!(
        info.qc.iter().any(|q| q.contains("default 0.1 um")),
        "{:?}",
        info.qc
    );
    plain(&f, 32, 32, &pages, Some(0.13));
    let (_, info) = load_field(&FieldSource::Multi(f.clone()), &LoadOptions::default()).unwrap();
    assert_eq!(info.pixel_size_source, "tiff_resolution");
    assert!((info.pixel_size_um - 0.13).abs() < 1e-6);
    // More than 3 pages without metadata: say what to pass.
    let five: Vec<Vec<u16>> = (0..5).map(|s| noise(32, 32, s)).collect();
    plain(&f, 32, 32, &five, None);
    let e = load_field(&FieldSource::Multi(f.clone()), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("plain.tif") && e.contains("--channels"), "{e}");
    let o = LoadOptions {
        channels: Some([4, 0, 2]),
        ..Default::default()
    };
    let (field, _) = load_field(&FieldSource::Multi(f), &o).unwrap();
    assert_eq!(field.dapi.data, as_array(&five[4], 32, 32));
}

// ---------------------------------------------------------------------
// Hostile and broken files.

/// Asserts a one-line error that names the file and contains `what`.
fn assert_error(src: &FieldSource, named: &Path, what: &str) {
    let r = std::panic::catch_unwind(|| load_field(src, &LoadOptions::default()));
    let r = r.unwrap_or_else(|_| panic!("load_field panicked on {}", named.display()));
    let e = match r {
        Ok(_) => panic!("{} was read without error", named.display()),
        Err(e) => e.to_string(),
    };
    eprintln!("{e}");
    assert!(!e.contains('\n'), "not one line: {e}");
    let name = named.file_name().unwrap().to_string_lossy();
    assert!(e.contains(name.as_ref()), "error does not name {name}: {e}");
    assert!(
        e.to_lowercase().contains(&what.to_lowercase()),
        "expected '{what}' in: {e}"
    );
}

fn good_file(dir: &Path) -> PathBuf {
    let f = dir.join("good.tif");
    let pages: Vec<Vec<u16>> = (0..3).map(|s| noise(64, 64, s)).collect();
    plain(&f, 64, 64, &pages, Some(0.1));
    f
}

/// A minimal little-endian classic TIFF with one strip and the given
/// (tag, type, value) entries (values inline, u32).
fn tiny_tiff(entries: &[(u16, u16, u32)], data: &[u8]) -> Vec<u8> {
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&8u32.to_le_bytes());
    let n = entries.len() as u16 + 2;
    let data_off = 8 + 2 + n as u32 * 12 + 4;
    let mut e: Vec<(u16, u16, u32)> = entries.to_vec();
    e.push((273, 4, data_off)); // StripOffsets
    e.push((279, 4, data.len() as u32)); // StripByteCounts
    e.sort();
    b.extend_from_slice(&n.to_le_bytes());
    for (tag, ty, v) in e {
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        if ty == 3 {
            b.extend_from_slice(&(v as u16).to_le_bytes());
            b.extend_from_slice(&[0, 0]);
        } else {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
fn hostile_files_give_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good = good_file(d);
    let bytes = std::fs::read(&good).unwrap();
    let m = |p: &Path| FieldSource::Multi(p.to_path_buf());

    // Missing file, directory.
    let missing = d.join("missing.tif");
    assert_error(&m(&missing), &missing, "no such file");
    let folder = d.join("folder.tif");
    std::fs::create_dir(&folder).unwrap();
    assert_error(&m(&folder), &folder, "directory");

    // Empty, tiny, wrong magic, a PNG.
    for (name, content, what) in [
        ("empty.tif", vec![], "empty"),
        ("tiny.tif", b"II*".to_vec(), "not a TIFF"),
        (
            "magic.tif",
            b"GIF89a-----------------".to_vec(),
            "not a TIFF",
        ),
        ("png.tif", b"\x89PNG\r\n\x1a\n0000000000000".to_vec(), "PNG"),
        ("header-only.tif", bytes[..12].to_vec(), "truncated"),
    ] {
        let f = d.join(name);
        std::fs::write(&f, content).unwrap();
        assert_error(&m(&f), &f, what);
    }

    // Truncated in the middle of the pixel data.
    let f = d.join("truncated.tif");
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    assert_error(&m(&f), &f, "truncated");

    // A header claiming 10^6 x 10^6 pixels.
    let f = d.join("huge.tif");
    let t = tiny_tiff(
        &[
            (256, 4, 1_000_000),
            (257, 4, 1_000_000),
            (258, 3, 16),
            (262, 3, 1),
            (278, 4, 1_000_000),
        ],
        &[0u8; 64],
    );
    std::fs::write(&f, t).unwrap();
    assert_error(&m(&f), &f, "above the limit");

    // Unsupported compression: JPEG 2000 (34712) and an unknown code.
    for (name, code, what) in [
        ("jp2k.tif", 34712u32, "JPEG 2000"),
        ("unknown.tif", 9999, "code 9999"),
    ] {
        let f = d.join(name);
        let mut pages = Vec::new();
        for _ in 0..3 {
            pages.push(tiny_tiff(
                &[
                    (256, 4, 4),
                    (257, 4, 4),
                    (258, 3, 16),
                    (259, 3, code),
                    (262, 3, 1),
                ],
                &[0u8; 32],
            ));
        }
        std::fs::write(&f, &pages[0]).unwrap();
        let o = LoadOptions::default();
        let e = load_field(&m(&f), &o).unwrap_err().to_string();
        // One page of an unsupported compression: the error is about the
        // compression or the channel count, and names the file.
        assert!(e.contains(name), "{e}");
        assert!(e.contains("channel") || e.contains(what), "{e}");
        // Three such pages: the compression is named.
        let multi = three_page_tiff(code as u16);
        std::fs::write(&f, multi).unwrap();
        assert_error(&m(&f), &f, what);
    }

    // Two channels.
    let f = d.join("two.tif");
    plain(&f, 16, 16, &[noise(16, 16, 1), noise(16, 16, 2)], None);
    assert_error(
        &m(&f),
        &f,
        "has 2 channels; the panel needs DAPI, target and control",
    );

    // Blank image: every channel constant.
    let f = d.join("blank.tif");
    plain(
        &f,
        16,
        16,
        &[vec![0; 256], vec![0; 256], vec![0; 256]],
        None,
    );
    assert_error(&m(&f), &f, "DAPI channel is blank");

    // Saturated image.
    let f = d.join("saturated.tif");
    let mut sat = noise(16, 16, 3);
    sat.iter_mut().skip(10).for_each(|v| *v = 65535);
    plain(&f, 16, 16, &[noise(16, 16, 1), sat, noise(16, 16, 2)], None);
    assert_error(&m(&f), &f, "saturated");

    // Channels of different sizes (per-channel files).
    let a = d.join("a.tif");
    let b = d.join("b.tif");
    plain(&a, 16, 16, &[noise(16, 16, 1)], None);
    plain(&b, 16, 12, &[noise(16, 12, 1)], None);
    let pc = FieldSource::PerChannel {
        dapi: a.clone(),
        target: b.clone(),
        control: a.clone(),
    };
    assert_error(&pc, &b, "same size");

    // A per-channel file holding three channels.
    let pc = FieldSource::PerChannel {
        dapi: a.clone(),
        target: a.clone(),
        control: good.clone(),
    };
    let r = load_field(&pc, &LoadOptions::default());
    // Plain pages of one file count as z planes of that channel: then the
    // z counts disagree, which is named.
    let e = r.unwrap_err().to_string();
    assert!(e.contains("z planes") || e.contains("channel"), "{e}");
}

/// Three pages of 4 x 4 16-bit pixels with compression `code`.
fn three_page_tiff(code: u16) -> Vec<u8> {
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&8u32.to_le_bytes());
    let entries = 8u32;
    let ifd_len = 2 + entries * 12 + 4;
    for p in 0..3u32 {
        let start = 8 + p * (ifd_len + 32);
        let data = start + ifd_len;
        let next = if p < 2 { data + 32 } else { 0 };
        let e: [(u16, u16, u32); 8] = [
            (256, 4, 4),
            (257, 4, 4),
            (258, 3, 16),
            (259, 3, code as u32),
            (262, 3, 1),
            (273, 4, data),
            (278, 4, 4),
            (279, 4, 32),
        ];
        b.extend_from_slice(&(entries as u16).to_le_bytes());
        for (tag, ty, v) in e {
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&ty.to_le_bytes());
            b.extend_from_slice(&1u32.to_le_bytes());
            if ty == 3 {
                b.extend_from_slice(&(v as u16).to_le_bytes());
                b.extend_from_slice(&[0, 0]);
            } else {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        b.extend_from_slice(&next.to_le_bytes());
        b.extend_from_slice(&[7u8; 32]);
    }
    b
}

#[test]
fn partial_saturation_and_blank_probe_are_qc_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("q.tif");
    let mut t = noise(100, 100, 4);
    t.iter_mut().take(30).for_each(|v| *v = 4095);
    plain(
        &f,
        100,
        100,
        &[noise(100, 100, 1), t, vec![300; 10_000]],
        Some(0.1),
    );
    let (_, info) = load_field(&FieldSource::Multi(f), &LoadOptions::default()).unwrap();
    assert!(
        info.qc
            .iter()
            .any(|q| q.contains("target channel saturated in 0.30% of pixels (value 4095)")),
        "{:?}",
        info.qc
    );
    assert!(
        info.qc
            .iter()
            .any(|q| q.contains("control channel is blank")),
        "{:?}",
        info.qc
    );
}

fn corr(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.sum() as f64 / n, b.sum() as f64 / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b.iter()) {
        let (dx, dy) = (x as f64 - ma, y as f64 - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

#[test]
fn committed_format_fixtures_read_alike() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats");
    let o = LoadOptions::default();
    let (base, _) = load_field(&source(&root.join("multipage")), &o).unwrap();
    for lossless in [
        "per-channel",
        "ome-tiff",
        "tiled-bigtiff",
        "lzw",
        "deflate-bigtiff",
        "packbits",
        "f32",
    ] {
        let (f, info) = load_field(&source(&root.join(lossless)), &o).unwrap();
        assert_eq!(f.dapi.data, base.dapi.data, "{lossless}");
        assert_eq!(f.target.data, base.target.data, "{lossless}");
        assert_eq!(f.control.data, base.control.data, "{lossless}");
        assert!((info.pixel_size_um - 0.1).abs() < 1e-9, "{lossless}");
    }
    for lossy in ["u8", "rgb8"] {
        let (f, info) = load_field(&source(&root.join(lossy)), &o).unwrap();
        assert_eq!(info.bits, 8);
        for (a, b) in [
            (&f.dapi, &base.dapi),
            (&f.target, &base.target),
            (&f.control, &base.control),
        ] {
            let r = corr(&a.data, &b.data);
            assert!(r > 0.99, "{lossy}: correlation {r}");
        }
    }
    let (z1, i1) = load_field(&source(&root.join("zstack")), &o).unwrap();
    let (z2, i2) = load_field(&source(&root.join("zstack-ome")), &o).unwrap();
    assert_eq!((i1.z_planes, i2.z_planes), (3, 3));
    assert_eq!(z1.target.data, z2.target.data);
    assert_eq!(z1.dapi.data, z2.dapi.data);
}

#[test]
fn imagej_hyperstack_channels_slices_and_calibration() {
    use tiff::encoder::{colortype, Rational, TiffEncoder};
    use tiff::tags::{ResolutionUnit, Tag};
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("hyper.tif");
    // 3 channels x 2 slices, channel fastest: page = c + 3 z; value 100 c + z.
    let desc = "ImageJ=1.54f\nimages=6\nchannels=3\nslices=2\nhyperstack=true\nunit=micron\n";
    {
        let file = std::fs::File::create(&f).unwrap();
        let mut enc = TiffEncoder::new(file).unwrap();
        for z in 0..2u16 {
            for c in 0..3u16 {
                let mut img = enc.new_image::<colortype::Gray16>(8, 8).unwrap();
                img.resolution(ResolutionUnit::None, Rational { n: 8, d: 1 });
                if c == 0 && z == 0 {
                    img.encoder()
                        .write_tag(Tag::ImageDescription, desc)
                        .unwrap();
                }
                let v: Vec<u16> = (0..64).map(|i| 100 * c + z + (i % 3) as u16).collect();
                img.write_data(&v).unwrap();
            }
        }
    }
    let o = LoadOptions {
        projection: Projection::Max,
        ..Default::default()
    };
    let (field, info) = load_field(&FieldSource::Multi(f), &o).unwrap();
    assert_eq!(info.z_planes, 2);
    assert_eq!(info.pixel_size_source, "imagej");
    assert!((info.pixel_size_um - 0.125).abs() < 1e-9);
    // Max over z of channel c is 100 c + 1 + (i % 3).
    assert_eq!(field.dapi.data[[0, 0]], 1.0);
    assert_eq!(field.target.data[[0, 0]], 101.0);
    assert_eq!(field.control.data[[0, 2]], 203.0);
}

mod common;

#[test]
fn mosaic_scan_is_its_blocks_and_independent_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (dir, threads) in [(&a, "1"), (&b, "3")] {
        let o = common::run(
            &[
                "simulate",
                "--out",
                dir.to_str().unwrap(),
                "--layout",
                "tiled-bigtiff",
                "--mosaic",
                "300x200",
                "--size",
                "128x128",
                "--tile-size",
                "64",
                "--seed",
                "4",
            ],
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (ia, ib) = (
        std::fs::read(a.join("image.tif")).unwrap(),
        std::fs::read(b.join("image.tif")).unwrap(),
    );
    assert!(ia == ib, "mosaic differs between 1 and 3 threads");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("mosaic.json")).unwrap()).unwrap();
    assert_eq!(meta["blocks"].as_array().unwrap().len(), 6); // 3 x 2 blocks
                                                             // Block 4 (second row, second column) is the case simulated alone.
    let seed = meta["blocks"][4]["seed"].as_u64().unwrap();
    let block = sim(&format!("--seed {seed} --size 128x128"));
    let mut scan = open_scan(
        &FieldSource::Multi(a.join("image.tif")),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!((scan.width(), scan.height()), (300, 200));
    // The last block row is cut at 200: rows 128..200 of the image.
    let f = scan.read_field(128, 128, 128, 72).unwrap();
    let want = as_array(&block.images[1][0], 128, 128)
        .slice(ndarray::s![0..72, ..])
        .to_owned();
    assert_eq!(f.target.data, want);
    // --mosaic without the tiled layout is a usage error.
    let o = common::run(
        &[
            "simulate",
            "--out",
            tmp.path().join("c").to_str().unwrap(),
            "--mosaic",
            "300x200",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tiled-bigtiff"));
}

/// A little-endian classic TIFF with one IFD: `entries` are (tag, type,
/// values) with type 3 (SHORT) or 4 (LONG); values that do not fit the
/// 4-byte field go after the IFD; `data` follows them. Offsets of the
/// pixel data are given relative to the start of `data` and fixed up
/// (tag 273 / 324 values get the data position added).
fn build_tiff(entries: &[(u16, u16, Vec<u32>)], data: &[u8]) -> Vec<u8> {
    let n = entries.len();
    let ifd_end = 8 + 2 + n * 12 + 4;
    let size = |ty: u16| if ty == 3 { 2 } else { 4 };
    let extra_len: usize = entries
        .iter()
        .map(|(_, ty, v)| {
            if v.len() * size(*ty) > 4 {
                v.len() * size(*ty)
            } else {
                0
            }
        })
        .sum();
    let data_pos = (ifd_end + extra_len) as u32;
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&8u32.to_le_bytes());
    b.extend_from_slice(&(n as u16).to_le_bytes());
    let mut extra = Vec::new();
    let mut sorted = entries.to_vec();
    sorted.sort_by_key(|e| e.0);
    for (tag, ty, vals) in sorted {
        let vals: Vec<u32> = if tag == 273 || tag == 324 {
            vals.iter().map(|v| v + data_pos).collect()
        } else {
            vals
        };
        let mut bytes = Vec::new();
        for v in &vals {
            if ty == 3 {
                bytes.extend_from_slice(&(*v as u16).to_le_bytes());
            } else {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&(vals.len() as u32).to_le_bytes());
        if bytes.len() <= 4 {
            bytes.resize(4, 0);
            b.extend_from_slice(&bytes);
        } else {
            b.extend_from_slice(&((ifd_end + extra.len()) as u32).to_le_bytes());
            extra.extend_from_slice(&bytes);
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&extra);
    b.extend_from_slice(data);
    b
}

#[test]
fn planar_rgb_composite_and_short_strip() {
    let tmp = tempfile::tempdir().unwrap();
    // 4 x 4 RGB, 8-bit, planar: one strip per colour plane.
    let mut data = Vec::new();
    for c in 0..3u8 {
        data.extend((0..16u8).map(|i| 10 * (c + 1) + i));
    }
    let t = build_tiff(
        &[
            (256, 4, vec![4]),
            (257, 4, vec![4]),
            (258, 3, vec![8, 8, 8]),
            (262, 3, vec![2]),
            (273, 4, vec![0, 16, 32]),
            (277, 3, vec![3]),
            (278, 4, vec![4]),
            (279, 4, vec![16, 16, 16]),
            (284, 3, vec![2]),
        ],
        &data,
    );
    let f = tmp.path().join("planar.tif");
    std::fs::write(&f, t).unwrap();
    let (field, info) = load_field(&FieldSource::Multi(f), &LoadOptions::default()).unwrap();
    // R = target (10 + i), G = control (20 + i), B = DAPI (30 + i).
    assert_eq!(field.target.data[[1, 2]], 16.0);
    assert_eq!(field.control.data[[1, 2]], 26.0);
    assert_eq!(field.dapi.data[[1, 2]], 36.0);
    assert!(info.layout.starts_with("rgb"), "{}", info.layout);

    // A strip byte count pointing past the end of the file: truncated.
    let t = build_tiff(
        &[
            (256, 4, vec![4]),
            (257, 4, vec![4]),
            (258, 3, vec![16]),
            (262, 3, vec![1]),
            (273, 4, vec![0]),
            (278, 4, vec![4]),
            (279, 4, vec![32]),
        ],
        &[1u8; 10],
    );
    let f = tmp.path().join("short-strip.tif");
    std::fs::write(&f, t).unwrap();
    let o = LoadOptions {
        channels: Some([0, 0, 0]),
        ..Default::default()
    };
    let e = load_field(&FieldSource::Multi(f.clone()), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("short-strip.tif"), "{e}");
    let mut r = fishscore::io::tiles::TiffReader::open(&f, &Default::default()).unwrap();
    let e = r.read_page(0).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
}

/// The 60 smallest inputs of the cargo-fuzz corpus (mutated TIFFs that
/// reached new code) replayed through the reader: no panic, and every
/// error is one line naming the file.
#[test]
fn fuzz_corpus_replay_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-replay");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let opts = LoadOptions {
            limits: fishscore::io::DecodeLimits {
                max_pixels: 1 << 20,
                max_bytes: 64 << 20,
                max_pages: 64,
                max_chunk_bytes: 16 << 20,
            },
            ..Default::default()
        };
        let src = FieldSource::Multi(p.clone());
        let r = std::panic::catch_unwind(|| {
            let a = load_field(&src, &opts).err().map(|e| e.to_string());
            let b = match open_scan(&src, &opts) {
                Ok(mut s) => {
                    let (w, h) = (s.width(), s.height());
                    s.read_field(w / 3, h / 3, (w / 2).clamp(1, 64), (h / 2).clamp(1, 64))
                        .err()
                        .map(|e| e.to_string())
                }
                Err(e) => Some(e.to_string()),
            };
            (a, b)
        });
        let (a, b) = r.unwrap_or_else(|_| panic!("panic on {}", p.display()));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        for e in [a, b].into_iter().flatten() {
            assert!(!e.contains('\n') && e.contains(&name), "{e}");
        }
        n += 1;
    }
    assert_eq!(n, 60);
}

#[test]
fn thumbnail_pages_are_skipped_with_a_qc_line() {
    use tiff::encoder::{colortype, TiffEncoder};
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("thumb.tif");
    let pages: Vec<Vec<u16>> = (0..3).map(|s| noise(32, 32, s)).collect();
    {
        let mut enc = TiffEncoder::new(std::fs::File::create(&f).unwrap()).unwrap();
        for p in &pages {
            enc.write_image::<colortype::Gray16>(32, 32, p).unwrap();
        }
        enc.write_image::<colortype::Gray16>(8, 8, &[5u16; 64])
            .unwrap();
    }
    let (field, info) = load_field(&FieldSource::Multi(f), &LoadOptions::default()).unwrap();
    assert_eq!(field.control.data, as_array(&pages[2], 32, 32));
    assert!(
        info.qc.iter().any(|q| q.contains("1 of 4 pages skipped")),
        "{:?}",
        info.qc
    );
}

/// Grey pages with three 16-bit samples per pixel (a Y x X x C array as
/// tifffile or numpy-based tools write it, interleaved or planar): the
/// samples are the channels, in the default order DAPI, target, control.
#[test]
fn grey_multi_sample_pages_are_channels() {
    let tmp = tempfile::tempdir().unwrap();
    let v = |c: u16, i: u16| 100 * (c + 1) + i;
    for planar in [false, true] {
        let mut data = Vec::new();
        if planar {
            for c in 0..3u16 {
                for i in 0..16u16 {
                    data.extend_from_slice(&v(c, i).to_le_bytes());
                }
            }
        } else {
            for i in 0..16u16 {
                for c in 0..3u16 {
                    data.extend_from_slice(&v(c, i).to_le_bytes());
                }
            }
        }
        let (offsets, counts, config) = if planar {
            (vec![0, 32, 64], vec![32, 32, 32], 2)
        } else {
            (vec![0], vec![96], 1)
        };
        let t = build_tiff(
            &[
                (256, 4, vec![4]),
                (257, 4, vec![4]),
                (258, 3, vec![16, 16, 16]),
                (262, 3, vec![1]),
                (273, 4, offsets),
                (277, 3, vec![3]),
                (278, 4, vec![4]),
                (279, 4, counts),
                (284, 3, vec![config]),
            ],
            &data,
        );
        let f = tmp.path().join(format!("yxc-{planar}.tif"));
        std::fs::write(&f, t).unwrap();
        let (field, info) =
            load_field(&FieldSource::Multi(f.clone()), &LoadOptions::default()).unwrap();
        let i = 4 + 2;
        assert_eq!(field.dapi.data[[1, 2]], v(0, i) as f32, "planar {planar}");
        assert_eq!(field.target.data[[1, 2]], v(1, i) as f32, "planar {planar}");
        assert_eq!(
            field.control.data[[1, 2]],
            v(2, i) as f32,
            "planar {planar}"
        );
        assert!(info.layout.starts_with("multisample"), "{}", info.layout);
        // --channels reorders samples as it reorders pages.
        let o = LoadOptions {
            channels: Some([2, 0, 1]),
            ..Default::default()
        };
        let (field, _) = load_field(&FieldSource::Multi(f), &o).unwrap();
        assert_eq!(field.dapi.data[[1, 2]], v(2, i) as f32);
        assert_eq!(field.target.data[[1, 2]], v(0, i) as f32);
    }
}

/// Fiji's channel names (the slice labels of IJMetadata) decide the
/// channel map: a hyperstack saved in the order CEP12, DAPI, MDM2 is read
/// by name, not by position (an independent simulator's file in that order
/// was scored with DAPI as the control probe and called AMPLIFIED at 54).
#[test]
fn imagej_channel_labels_map_the_channels() {
    use tiff::encoder::{colortype, Rational, TiffEncoder};
    use tiff::tags::{ResolutionUnit, Tag};
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("labelled.tif");
    let desc = "ImageJ=1.54f\nimages=3\nchannels=3\nhyperstack=true\nunit=micron\n";
    let labels = ["CEP12 SpectrumGreen", "DAPI", "MDM2 SpectrumOrange"];
    // IJMetadata, little-endian like the file: magic "IJIJ", one ("labl",
    // 3) pair, then the UTF-16 labels; the byte counts list the header
    // first, then each label.
    let mut blob: Vec<u8> = Vec::new();
    blob.extend_from_slice(&0x494a_494au32.to_le_bytes());
    blob.extend_from_slice(&0x6c61_626cu32.to_le_bytes());
    blob.extend_from_slice(&3u32.to_le_bytes());
    let mut counts = vec![blob.len() as u32];
    for l in labels {
        let units: Vec<u8> = l.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        counts.push(units.len() as u32);
        blob.extend_from_slice(&units);
    }
    {
        let file = std::fs::File::create(&f).unwrap();
        let mut enc = TiffEncoder::new(file).unwrap();
        for c in 0..3u16 {
            let mut img = enc.new_image::<colortype::Gray16>(8, 8).unwrap();
            img.resolution(ResolutionUnit::None, Rational { n: 8, d: 1 });
            if c == 0 {
                let e = img.encoder();
                e.write_tag(Tag::ImageDescription, desc).unwrap();
                e.write_tag(Tag::Unknown(50838), &counts[..]).unwrap();
                e.write_tag(Tag::Unknown(50839), &blob[..]).unwrap();
            }
            let v: Vec<u16> = (0..64).map(|i| 100 * (c + 1) + (i % 3) as u16).collect();
            img.write_data(&v).unwrap();
        }
    }
    let (field, info) =
        load_field(&FieldSource::Multi(f.clone()), &LoadOptions::default()).unwrap();
    // Stored channel 0 (value 100) is CEP12, 1 (200) DAPI, 2 (300) MDM2.
    assert_eq!(field.dapi.data[[0, 0]], 200.0, "{info:?}");
    assert_eq!(field.target.data[[0, 0]], 300.0);
    assert_eq!(field.control.data[[0, 0]], 100.0);
}
