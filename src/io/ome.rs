//! OME-XML (the metadata of OME-TIFF, stored in the first page's
//! ImageDescription): image sizes, dimension order, channel names and
//! fluorophores, physical pixel size with its unit, and which TIFF page
//! (IFD) holds which (channel, z) plane.
//!
//! Reference: OME Data Model and File Formats, "OME-TIFF specification"
//! and the `Pixels` / `Channel` / `TiffData` elements of the OME schema
//! (<https://docs.openmicroscopy.org/ome-model/latest/ome-tiff/specification.html>).
//! Element names are matched without their namespace, so every schema
//! version (2008 to 2016-06) parses the same way.

use roxmltree::{Document, Node, ParsingOptions};

/// Largest number of XML nodes accepted (a guard against hostile
/// descriptions; a real OME header of a 10,000-plane stack has about
/// 30,000 nodes).
pub const MAX_XML_NODES: u32 = 2_000_000;

/// One `Channel` element.
#[derive(Debug, Clone, PartialEq)]
pub struct OmeChannel {
    /// `Name` attribute (e.g. "DAPI", "SpectrumOrange MDM2").
    pub name: Option<String>,
    /// `Fluor` attribute (fluorophore, e.g. "FITC").
    pub fluor: Option<String>,
    /// `SamplesPerPixel` (3 for an RGB channel; default 1).
    pub samples_per_pixel: usize,
}

impl OmeChannel {
    /// Name and fluorophore joined, for alias matching and messages.
    pub fn label(&self) -> String {
        match (&self.name, &self.fluor) {
            (Some(n), Some(f)) if !n.eq_ignore_ascii_case(f) => format!("{n} {f}"),
            (Some(n), _) => n.clone(),
            (None, Some(f)) => f.clone(),
            (None, None) => String::new(),
        }
    }
}

/// One `TiffData` element: IFDs `ifd..ifd+plane_count` hold the planes
/// starting at (`first_c`, `first_z`, `first_t`) in dimension order.
#[derive(Debug, Clone, PartialEq)]
pub struct TiffData {
    /// First IFD (default 0).
    pub ifd: usize,
    /// Number of IFDs (`None`: the default of the specification, 1 when
    /// `IFD` is given, otherwise all IFDs).
    pub plane_count: Option<usize>,
    /// First channel.
    pub first_c: usize,
    /// First z plane.
    pub first_z: usize,
    /// First time point.
    pub first_t: usize,
    /// `UUID FileName` when the planes live in another file.
    pub file_name: Option<String>,
}

/// The `Pixels` of the first `Image` of an OME-XML document.
#[derive(Debug, Clone, PartialEq)]
pub struct OmeImage {
    /// Width in pixels.
    pub size_x: usize,
    /// Height in pixels.
    pub size_y: usize,
    /// Focal planes.
    pub size_z: usize,
    /// Channels (samples: an RGB channel counts 3).
    pub size_c: usize,
    /// Time points.
    pub size_t: usize,
    /// Order of the non-XY dimensions, fastest first, e.g. `['Z','C','T']`
    /// for "XYZCT" (channel-major pages: all z of channel 0, then channel 1).
    pub dimension_order: [char; 3],
    /// The `Channel` elements in order.
    pub channels: Vec<OmeChannel>,
    /// Pixel width in micrometres, if given in a length unit.
    pub physical_size_x_um: Option<f64>,
    /// Pixel height in micrometres, if given in a length unit.
    pub physical_size_y_um: Option<f64>,
    /// A problem with the physical size (unknown unit, non-positive value).
    pub physical_size_problem: Option<String>,
    /// `Type` attribute (uint8, uint16, float, ...).
    pub pixel_type: Option<String>,
    /// `TiffData` elements in order.
    pub tiff_data: Vec<TiffData>,
    /// Number of `Image` elements in the document (series).
    pub images_in_file: usize,
}

/// True when an ImageDescription looks like OME-XML.
pub fn is_ome(description: &str) -> bool {
    let head: String = description.chars().take(4096).collect();
    head.contains("<OME") || head.contains(":OME ") || head.contains(":OME>")
}

/// Converts a length in `unit` (OME `UnitsLength` symbol) to micrometres.
pub fn length_to_um(value: f64, unit: &str) -> Option<f64> {
    let f = match unit.trim() {
        "m" => 1e6,
        "dm" => 1e5,
        "cm" => 1e4,
        "mm" => 1e3,
        "µm" | "μm" | "um" | "micron" | "microns" | "micrometer" | "micrometre" => 1.0,
        "nm" => 1e-3,
        "pm" => 1e-6,
        "Å" | "A" | "angstrom" => 1e-4,
        "in" | "inch" => 25_400.0,
        "thou" | "mil" => 25.4,
        _ => return None,
    };
    Some(value * f)
}

fn attr<'a>(n: &Node<'a, 'a>, name: &str) -> Option<&'a str> {
    n.attributes().find(|a| a.name() == name).map(|a| a.value())
}

fn attr_usize(n: &Node, name: &str, default: usize) -> Result<usize, String> {
    match attr(n, name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("OME-XML {name}=\"{v}\" is not a non-negative integer")),
    }
}

fn child<'a>(n: &Node<'a, 'a>, name: &str) -> Option<Node<'a, 'a>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Physical size along one axis in um, or a problem.
fn physical(px: &Node, axis: &str) -> Result<Option<f64>, String> {
    let Some(v) = attr(px, &format!("PhysicalSize{axis}")) else {
        return Ok(None);
    };
    let value: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("PhysicalSize{axis}=\"{v}\" is not a number"))?;
    let unit = attr(px, &format!("PhysicalSize{axis}Unit")).unwrap_or("µm");
    let um = length_to_um(value, unit)
        .ok_or_else(|| format!("PhysicalSize{axis}Unit \"{unit}\" is not a length unit"))?;
    if !(um.is_finite() && um > 0.0) {
        return Err(format!(
            "PhysicalSize{axis}={v} {unit} is not a positive length"
        ));
    }
    Ok(Some(um))
}

/// Parses OME-XML; errors are one line and say what is wrong.
pub fn parse_ome(xml: &str) -> Result<OmeImage, String> {
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml.trim_start_matches('\u{feff}').trim(), opts)
        .map_err(|e| format!("OME-XML is not well-formed ({e})"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "OME" {
        return Err(format!(
            "ImageDescription XML root is <{}>, not <OME>",
            root.tag_name().name()
        ));
    }
    let images: Vec<Node> = root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "Image")
        .collect();
    let image = images.first().ok_or("OME-XML holds no <Image> element")?;
    let px = child(image, "Pixels").ok_or("OME-XML <Image> has no <Pixels> element")?;
    let size = |name: &str| -> Result<usize, String> {
        let v = attr(&px, name).ok_or_else(|| format!("OME-XML <Pixels> lacks {name}"))?;
        let n: usize = v
            .trim()
            .parse()
            .map_err(|_| format!("OME-XML {name}=\"{v}\" is not a positive integer"))?;
        if n == 0 {
            return Err(format!("OME-XML {name} is 0"));
        }
        Ok(n)
    };
    let (size_x, size_y) = (size("SizeX")?, size("SizeY")?);
    let (size_z, size_c, size_t) = (size("SizeZ")?, size("SizeC")?, size("SizeT")?);
    let order = attr(&px, "DimensionOrder").unwrap_or("XYZCT").trim();
    let dimension_order = parse_order(order)?;
    let channels: Vec<OmeChannel> = px
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "Channel")
        .map(|c| {
            Ok(OmeChannel {
                name: attr(&c, "Name")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
                fluor: attr(&c, "Fluor")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
                samples_per_pixel: attr_usize(&c, "SamplesPerPixel", 1)?.max(1),
            })
        })
        .collect::<Result<_, String>>()?;
    let tiff_data = px
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "TiffData")
        .map(|t| {
            let file_name = child(&t, "UUID")
                .and_then(|u| attr(&u, "FileName"))
                .map(|s| s.to_string());
            Ok(TiffData {
                ifd: attr_usize(&t, "IFD", 0)?,
                plane_count: match attr(&t, "PlaneCount") {
                    Some(_) => Some(attr_usize(&t, "PlaneCount", 1)?),
                    None if attr(&t, "IFD").is_some() => Some(1),
                    None => None,
                },
                first_c: attr_usize(&t, "FirstC", 0)?,
                first_z: attr_usize(&t, "FirstZ", 0)?,
                first_t: attr_usize(&t, "FirstT", 0)?,
                file_name,
            })
        })
        .collect::<Result<_, String>>()?;
    let mut problem = None;
    let mut phys = |axis| match physical(&px, axis) {
        Ok(v) => v,
        Err(e) => {
            problem.get_or_insert(e);
            None
        }
    };
    let (physical_size_x_um, physical_size_y_um) = (phys("X"), phys("Y"));
    Ok(OmeImage {
        size_x,
        size_y,
        size_z,
        size_c,
        size_t,
        dimension_order,
        channels,
        physical_size_x_um,
        physical_size_y_um,
        physical_size_problem: problem,
        pixel_type: attr(&px, "Type").map(|s| s.to_string()),
        tiff_data,
        images_in_file: images.len(),
    })
}

fn parse_order(order: &str) -> Result<[char; 3], String> {
    let c: Vec<char> = order.chars().collect();
    let ok = c.len() == 5
        && c[0] == 'X'
        && c[1] == 'Y'
        && c[2..].contains(&'Z')
        && c[2..].contains(&'C')
        && c[2..].contains(&'T');
    if !ok {
        return Err(format!(
            "OME-XML DimensionOrder \"{order}\" is not XY followed by Z, C and T"
        ));
    }
    Ok([c[2], c[3], c[4]])
}

/// Where one (channel sample, z) plane lives: page (IFD) and sample
/// within the page (0 unless the channel is RGB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneRef {
    /// Page (IFD) index in the file.
    pub page: usize,
    /// Sample within the page.
    pub sample: usize,
}

impl OmeImage {
    /// Number of OME channels counted as planes (an RGB channel with
    /// SamplesPerPixel 3 is one plane of three samples).
    pub fn effective_size_c(&self) -> usize {
        let spp = self.samples_per_pixel();
        (self.size_c / spp).max(1)
    }

    /// Samples per pixel shared by the channels (1 unless RGB).
    pub fn samples_per_pixel(&self) -> usize {
        self.channels
            .first()
            .map(|c| c.samples_per_pixel)
            .unwrap_or(1)
            .clamp(1, self.size_c.max(1))
    }

    /// Index of plane (c, z, t) in `dimension_order`.
    pub fn plane_index(&self, c: usize, z: usize, t: usize) -> usize {
        let dims = |ch: char| match ch {
            'Z' => (z, self.size_z),
            'C' => (c, self.effective_size_c()),
            _ => (t, self.size_t),
        };
        let [a, b, d] = self.dimension_order;
        let (ia, na) = dims(a);
        let (ib, nb) = dims(b);
        let (id, _) = dims(d);
        ia + na * (ib + nb * id)
    }

    /// The (c, z, t) of plane number `i` in dimension order.
    pub fn plane_coords(&self, i: usize) -> (usize, usize, usize) {
        let n = |ch: char| match ch {
            'Z' => self.size_z,
            'C' => self.effective_size_c(),
            _ => self.size_t,
        };
        let [a, b, _] = self.dimension_order;
        let (na, nb) = (n(a), n(b));
        let ia = i % na;
        let ib = (i / na) % nb;
        let id = i / (na * nb);
        let mut c = (0, 0, 0);
        for (ch, v) in [(a, ia), (b, ib), (self.dimension_order[2], id)] {
            match ch {
                'C' => c.0 = v,
                'Z' => c.1 = v,
                _ => c.2 = v,
            }
        }
        c
    }

    /// Page of every (channel, z) plane of time point 0: `[c][z]`.
    /// `file_name` is the name of the file being read (TiffData entries
    /// naming other files are ignored); `n_pages` is the number of pages it
    /// holds. Errors say which plane is missing.
    pub fn page_map(&self, file_name: &str, n_pages: usize) -> Result<Vec<Vec<usize>>, String> {
        let nc = self.effective_size_c();
        let nz = self.size_z;
        let total = nc
            .checked_mul(nz)
            .and_then(|v| v.checked_mul(self.size_t))
            .filter(|&v| v <= 10_000_000)
            .ok_or("OME-XML SizeZ x SizeC x SizeT is implausibly large")?;
        let mut map: Vec<Vec<Option<usize>>> = vec![vec![None; nz]; nc];
        let mut other_file = None;
        if self.tiff_data.is_empty() {
            // No TiffData: IFD i holds plane i in dimension order.
            for (i, p) in (0..total.min(n_pages)).enumerate() {
                let (c, z, t) = self.plane_coords(p);
                if t == 0 {
                    map[c][z] = Some(i);
                }
            }
        } else {
            for td in &self.tiff_data {
                if let Some(f) = &td.file_name {
                    let base = |s: &str| {
                        s.rsplit(['/', '\\'])
                            .next()
                            .unwrap_or(s)
                            .to_ascii_lowercase()
                    };
                    if base(f) != base(file_name) {
                        other_file.get_or_insert(f.clone());
                        continue;
                    }
                }
                let start = self.plane_index(td.first_c, td.first_z, td.first_t);
                let count = td
                    .plane_count
                    .unwrap_or_else(|| n_pages.saturating_sub(td.ifd));
                for k in 0..count.min(total) {
                    let p = start + k;
                    if p >= total {
                        break;
                    }
                    let (c, z, t) = self.plane_coords(p);
                    if t == 0 && c < nc && z < nz {
                        map[c][z] = Some(td.ifd + k);
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(nc);
        for (c, zs) in map.into_iter().enumerate() {
            let mut col = Vec::with_capacity(nz);
            for (z, ifd) in zs.into_iter().enumerate() {
                match ifd {
                    Some(i) if i < n_pages => col.push(i),
                    Some(i) => {
                        return Err(format!(
                            "OME-XML places channel {c}, z {z} in page {i}, but the file has {n_pages} pages"
                        ))
                    }
                    None => {
                        return Err(match &other_file {
                            Some(f) => format!(
                                "channel {c}, z {z} is stored in another file ({f}); multi-file OME-TIFF sets are not read: convert to one file or pass one file per channel"
                            ),
                            None => format!("OME-XML does not say which page holds channel {c}, z {z}"),
                        })
                    }
                }
            }
            out.push(col);
        }
        Ok(out)
    }
}

/// What [`build_ome_xml`] writes.
#[derive(Debug, Clone)]
pub struct OmeSpec<'a> {
    /// Width in pixels.
    pub size_x: usize,
    /// Height in pixels.
    pub size_y: usize,
    /// Focal planes.
    pub size_z: usize,
    /// Channel names in stored order.
    pub channel_names: &'a [&'a str],
    /// "XYCZT" (z-major pages) or "XYZCT" (channel-major pages).
    pub dimension_order: &'a str,
    /// OME pixel type: "uint8", "uint16", "float".
    pub pixel_type: &'a str,
    /// Pixel size in nanometres (written with PhysicalSizeXUnit="nm").
    pub physical_size_nm: f64,
    /// Distance between planes in um (PhysicalSizeZ).
    pub z_step_um: f64,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// OME-XML for a single-file OME-TIFF whose pages follow the dimension
/// order, with one `TiffData` per plane.
pub fn build_ome_xml(s: &OmeSpec) -> String {
    let nc = s.channel_names.len();
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" Creator=\"fishscore simulate\">\n");
    x.push_str("  <Image ID=\"Image:0\" Name=\"simulated field\">\n");
    x.push_str(&format!(
        "    <Pixels ID=\"Pixels:0\" DimensionOrder=\"{}\" Type=\"{}\" SizeX=\"{}\" SizeY=\"{}\" SizeZ=\"{}\" SizeC=\"{nc}\" SizeT=\"1\" PhysicalSizeX=\"{}\" PhysicalSizeXUnit=\"nm\" PhysicalSizeY=\"{}\" PhysicalSizeYUnit=\"nm\" PhysicalSizeZ=\"{}\">\n",
        s.dimension_order, s.pixel_type, s.size_x, s.size_y, s.size_z,
        s.physical_size_nm, s.physical_size_nm, s.z_step_um
    ));
    for (c, n) in s.channel_names.iter().enumerate() {
        x.push_str(&format!(
            "      <Channel ID=\"Channel:0:{c}\" Name=\"{}\" SamplesPerPixel=\"1\"/>\n",
            xml_escape(n)
        ));
    }
    let z_major = s.dimension_order == "XYCZT";
    for i in 0..nc * s.size_z {
        let (c, z) = if z_major {
            (i % nc, i / nc)
        } else {
            (i / s.size_z, i % s.size_z)
        };
        x.push_str(&format!(
            "      <TiffData IFD=\"{i}\" FirstC=\"{c}\" FirstZ=\"{z}\" FirstT=\"0\" PlaneCount=\"1\"/>\n"
        ));
    }
    x.push_str("    </Pixels>\n  </Image>\n</OME>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
  <Image ID="Image:0" Name="field 1">
    <Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="512" SizeY="384"
            SizeZ="2" SizeC="3" SizeT="1" PhysicalSizeX="65" PhysicalSizeXUnit="nm"
            PhysicalSizeY="0.065" PhysicalSizeYUnit="µm">
      <Channel ID="Channel:0:0" Name="SpectrumGreen CEP12" SamplesPerPixel="1"/>
      <Channel ID="Channel:0:1" Name="DAPI"/>
      <Channel ID="Channel:0:2" Fluor="SpectrumOrange"/>
      <TiffData/>
    </Pixels>
  </Image>
</OME>"#;

    #[test]
    fn parses_sizes_names_and_units() {
        let o = parse_ome(THREE).unwrap();
        assert_eq!(
            (o.size_x, o.size_y, o.size_z, o.size_c, o.size_t),
            (512, 384, 2, 3, 1)
        );
        assert_eq!(o.dimension_order, ['C', 'Z', 'T']);
        assert_eq!(o.channels.len(), 3);
        assert_eq!(o.channels[0].label(), "SpectrumGreen CEP12");
        assert_eq!(o.channels[2].label(), "SpectrumOrange");
        assert!((o.physical_size_x_um.unwrap() - 0.065).abs() < 1e-12);
        assert!((o.physical_size_y_um.unwrap() - 0.065).abs() < 1e-12);
        assert!(o.physical_size_problem.is_none());
        assert!(is_ome(THREE));
        assert!(!is_ome("{\"channels\":[]}"));
    }

    #[test]
    fn z_major_order_maps_pages() {
        // XYCZT: channel fastest: page = c + 3 z.
        let o = parse_ome(THREE).unwrap();
        let m = o.page_map("x.ome.tif", 6).unwrap();
        assert_eq!(m, vec![vec![0, 3], vec![1, 4], vec![2, 5]]);
        assert!(o.page_map("x.ome.tif", 5).is_err());
    }

    #[test]
    fn channel_major_order_and_tiffdata_entries() {
        let xml = r#"<OME><Image><Pixels DimensionOrder="XYZCT" SizeX="4" SizeY="4" SizeZ="3" SizeC="2" SizeT="1">
            <Channel Name="a"/><Channel Name="b"/>
            <TiffData IFD="3" FirstC="1" PlaneCount="3"/>
            <TiffData IFD="0" FirstC="0" FirstZ="0" PlaneCount="3"/>
        </Pixels></Image></OME>"#;
        let o = parse_ome(xml).unwrap();
        assert_eq!(o.plane_index(1, 2, 0), 5);
        assert_eq!(o.plane_coords(5), (1, 2, 0));
        let m = o.page_map("f.tif", 6).unwrap();
        assert_eq!(m, vec![vec![0, 1, 2], vec![3, 4, 5]]);
        // Default unit is the micrometre; no physical size is fine.
        assert_eq!(o.physical_size_x_um, None);
    }

    #[test]
    fn single_ifd_tiffdata_and_reordered_pages() {
        let xml = r#"<OME><Image><Pixels DimensionOrder="XYZCT" SizeX="4" SizeY="4" SizeZ="1" SizeC="3" SizeT="1" PhysicalSizeX="0.1">
            <TiffData IFD="2" FirstC="0"/><TiffData IFD="0" FirstC="1"/><TiffData IFD="1" FirstC="2"/>
        </Pixels></Image></OME>"#;
        let o = parse_ome(xml).unwrap();
        assert_eq!(
            o.page_map("f.tif", 3).unwrap(),
            vec![vec![2], vec![0], vec![1]]
        );
        assert!((o.physical_size_x_um.unwrap() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn other_file_is_named() {
        let xml = r#"<OME><Image><Pixels DimensionOrder="XYZCT" SizeX="4" SizeY="4" SizeZ="1" SizeC="2" SizeT="1">
            <TiffData IFD="0" FirstC="0"><UUID FileName="a.ome.tif">urn:uuid:1</UUID></TiffData>
            <TiffData IFD="0" FirstC="1"><UUID FileName="b.ome.tif">urn:uuid:2</UUID></TiffData>
        </Pixels></Image></OME>"#;
        let o = parse_ome(xml).unwrap();
        let e = o.page_map("dir/a.ome.tif", 1).unwrap_err();
        assert!(e.contains("b.ome.tif"), "{e}");
    }

    #[test]
    fn built_xml_parses_back() {
        let names = ["SpectrumGreen CEP12", "DAPI", "A&B <x>"];
        let xml = build_ome_xml(&OmeSpec {
            size_x: 10,
            size_y: 8,
            size_z: 2,
            channel_names: &names,
            dimension_order: "XYCZT",
            pixel_type: "uint16",
            physical_size_nm: 65.0,
            z_step_um: 0.4,
        });
        let o = parse_ome(&xml).unwrap();
        assert_eq!(o.channels[2].label(), "A&B <x>");
        assert_eq!(
            o.page_map("f", 6).unwrap(),
            vec![vec![0, 3], vec![1, 4], vec![2, 5]]
        );
        assert!((o.physical_size_x_um.unwrap() - 0.065).abs() < 1e-12);
    }

    #[test]
    fn units_and_bad_values() {
        assert_eq!(length_to_um(0.1, "mm"), Some(100.0));
        assert_eq!(length_to_um(2.0, "cm"), Some(20_000.0));
        assert_eq!(length_to_um(1.0, "pixel"), None);
        let xml = r#"<OME><Image><Pixels DimensionOrder="XYZCT" SizeX="4" SizeY="4" SizeZ="1" SizeC="1" SizeT="1" PhysicalSizeX="1" PhysicalSizeXUnit="pixel" PhysicalSizeY="-2"/></Image></OME>"#;
        let o = parse_ome(xml).unwrap();
        assert_eq!(o.physical_size_x_um, None);
        assert!(o.physical_size_problem.unwrap().contains("pixel"));
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(parse_ome("<OME><Image>").is_err());
        assert!(parse_ome("<Foo/>").unwrap_err().contains("<Foo>"));
        assert!(parse_ome("<OME/>").unwrap_err().contains("Image"));
        let bad_order = r#"<OME><Image><Pixels DimensionOrder="XYZZT" SizeX="1" SizeY="1" SizeZ="1" SizeC="1" SizeT="1"/></Image></OME>"#;
        assert!(parse_ome(bad_order).unwrap_err().contains("DimensionOrder"));
        let zero = r#"<OME><Image><Pixels SizeX="0" SizeY="1" SizeZ="1" SizeC="1" SizeT="1"/></Image></OME>"#;
        assert!(parse_ome(zero).unwrap_err().contains("SizeX"));
        let huge = r#"<OME><Image><Pixels SizeX="1" SizeY="1" SizeZ="100000" SizeC="100000" SizeT="1"/></Image></OME>"#;
        assert!(parse_ome(huge).unwrap().page_map("f", 1).is_err());
    }
}
