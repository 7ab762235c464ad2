//! Probe panels as data: which locus is measured against which centromere,
//! how the input channels are named, and the numbers of the scoring rules.
//!
//! A panel is a TOML file (format and example in `docs/scoring.md`). Four
//! panels are built in, shipped as files under `panels/` at the top of the
//! repository and compiled into the binary: `mdm2-cep12` (the default),
//! `cdk4-cep12`, `her2-cep17` and `egfr-cep7`.

use crate::plane::Channel;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The built-in panels: (name, TOML text). The first is the default.
const BUILTIN: [(&str, &str); 4] = [
    ("mdm2-cep12", include_str!("../../panels/mdm2-cep12.toml")),
    ("cdk4-cep12", include_str!("../../panels/cdk4-cep12.toml")),
    ("her2-cep17", include_str!("../../panels/her2-cep17.toml")),
    ("egfr-cep7", include_str!("../../panels/egfr-cep7.toml")),
];

/// Name of the default panel.
pub const DEFAULT_PANEL: &str = "mdm2-cep12";

/// Which interpretation rules turn the figures into a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// Pooled ratio against `cutoff`, borderline zone counted up to
    /// `max_nuclei`, EQUIVOCAL if still in the zone (domain brief).
    Ratio,
    /// HER2 dual-probe groups 1-5 of ASCO/CAP 2018 (Wolff et al., J Clin
    /// Oncol 2018;36:2105-2122), from the ratio and the mean HER2 count.
    #[serde(rename = "her2_asco_cap_2018")]
    Her2AscoCap2018,
}

impl RuleSet {
    /// The name used in panel files.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSet::Ratio => "ratio",
            RuleSet::Her2AscoCap2018 => "her2_asco_cap_2018",
        }
    }
}

/// Channel names that the input layer maps to each role (shared with
/// the input layer, which matches them against file channel names).
pub use crate::io::channels::ChannelAliases;

/// Locus names for the ISCN string (ISCN 2020, interphase FISH).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IscnNames {
    /// Locus of the target probe, e.g. `MDM2`.
    pub target: String,
    /// Locus of the control probe, e.g. `D12Z3` (the CEP 12 alpha satellite).
    pub control: String,
    /// Whether the target is listed first: ISCN lists probes of one
    /// chromosome from pter to qter (EGFR at 7p11.2 precedes D7Z1; MDM2 at
    /// 12q15 follows D12Z3).
    pub target_first: bool,
}

/// A probe panel: names, channel aliases and the numbers of its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Short name, e.g. `mdm2-cep12`.
    pub name: String,
    /// One line for reports.
    #[serde(default)]
    pub description: String,
    /// Display name of the locus probe, e.g. `MDM2`.
    pub target: String,
    /// Display name of the reference probe, e.g. `CEP12`.
    pub control: String,
    /// Interpretation rules.
    pub rules: RuleSet,
    /// Ratio (target/control, dimensionless) at or above which the locus is
    /// amplified; 2.0 for every built-in panel.
    pub cutoff: f64,
    /// Inclusive ratio zone `[lo, hi]` that, after `min_nuclei`, triggers
    /// counting up to `max_nuclei`; must contain `cutoff`.
    pub borderline: [f64; 2],
    /// Nuclei enumerated for a call (MDM2: 50; HER2: 20).
    pub min_nuclei: usize,
    /// Nuclei enumerated when the first count is borderline (MDM2: 100).
    pub max_nuclei: usize,
    /// A nucleus needs at least one signal of each colour to be scored.
    pub require_both_signals: bool,
    /// Mean control signals per nucleus at or above which a ratio below the
    /// cutoff is noted as polysomy (3.0).
    pub polysomy_control_mean: f64,
    /// Channel names per role.
    pub channels: ChannelAliases,
    /// ISCN locus names.
    pub iscn: IscnNames,
}

/// A panel that cannot be found, read or accepted. `Display` is one line
/// naming the file (or built-in) and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PanelError {
    /// Neither a built-in name nor an existing file.
    #[error("unknown panel '{name}': not a built-in panel ({builtins}) and no such file")]
    Unknown {
        /// What was asked for.
        name: String,
        /// The built-in names, comma-separated.
        builtins: String,
    },
    /// The file exists but cannot be read.
    #[error("{path}: cannot read panel file: {problem}")]
    Read {
        /// The panel file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// The TOML is malformed or its values are not acceptable.
    #[error("{source_name}: invalid panel: {problem}")]
    Invalid {
        /// The file path, or `built-in panel NAME`.
        source_name: String,
        /// What is wrong, on one line.
        problem: String,
    },
}

impl Default for Panel {
    /// The MDM2/CEP12 panel.
    fn default() -> Self {
        match Panel::builtin(DEFAULT_PANEL) {
            Some(p) => p,
            // The built-in files are checked by a unit test.
            None => unreachable!("built-in panel {DEFAULT_PANEL} is valid"),
        }
    }
}

impl Panel {
    /// Names of the built-in panels, the default first.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in panel by name (case-insensitive), if there is one.
    pub fn builtin(name: &str) -> Option<Panel> {
        let (n, text) = BUILTIN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))?;
        Panel::from_toml_str(text, &format!("built-in panel {n}")).ok()
    }

    /// The TOML text of a built-in panel (a template for custom panels).
    pub fn builtin_toml(name: &str) -> Option<&'static str> {
        BUILTIN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, t)| *t)
    }

    /// Resolves `--panel`: a built-in name, or else the path of a TOML file.
    pub fn resolve(name_or_path: &str) -> Result<Panel, PanelError> {
        if let Some(p) = Panel::builtin(name_or_path) {
            return Ok(p);
        }
        let path = Path::new(name_or_path);
        let looks_like_path = name_or_path.contains('/')
            || name_or_path.contains('\\')
            || name_or_path.to_ascii_lowercase().ends_with(".toml");
        if path.exists() || looks_like_path {
            return Panel::load(path);
        }
        Err(PanelError::Unknown {
            name: name_or_path.to_string(),
            builtins: Panel::builtin_names().join(", "),
        })
    }

    /// Loads and checks a panel TOML file.
    pub fn load(path: &Path) -> Result<Panel, PanelError> {
        let text = std::fs::read_to_string(path).map_err(|e| PanelError::Read {
            path: path.to_path_buf(),
            problem: match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
                _ if path.is_dir() => "is a directory".to_string(),
                _ => one_line(&e.to_string()),
            },
        })?;
        Panel::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses and checks panel TOML; `source_name` names it in errors.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Panel, PanelError> {
        let invalid = |problem: String| PanelError::Invalid {
            source_name: source_name.to_string(),
            problem,
        };
        let panel: Panel = toml::from_str(text).map_err(|e| {
            let msg = one_line(e.message());
            let line = e
                .span()
                .filter(|s| {
                    !(s.start == 0 && (s.end >= text.len() || msg.starts_with("missing field")))
                })
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            invalid(match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            })
        })?;
        panel.validate().map_err(invalid)?;
        Ok(panel)
    }

    /// Checks the values that TOML types cannot: names present, cutoff
    /// positive, zone containing the cutoff, `1 <= min <= max`, aliases
    /// present and not shared between roles.
    pub fn validate(&self) -> Result<(), String> {
        for (key, v) in [
            ("name", &self.name),
            ("target", &self.target),
            ("control", &self.control),
            ("iscn.target", &self.iscn.target),
            ("iscn.control", &self.iscn.control),
        ] {
            if v.trim().is_empty() {
                return Err(format!("`{key}` is empty"));
            }
        }
        if !(self.cutoff.is_finite() && self.cutoff > 0.0) {
            return Err(format!("`cutoff` must be positive, got {}", self.cutoff));
        }
        let [lo, hi] = self.borderline;
        if !(lo.is_finite() && hi.is_finite() && lo <= self.cutoff && self.cutoff <= hi) {
            return Err(format!(
                "`borderline` [{lo}, {hi}] must contain the cutoff {}",
                self.cutoff
            ));
        }
        if lo < 0.0 {
            return Err(format!("`borderline` lower end {lo} is negative"));
        }
        if self.min_nuclei == 0 {
            return Err("`min_nuclei` must be at least 1".to_string());
        }
        if self.min_nuclei > self.max_nuclei {
            return Err(format!(
                "`min_nuclei` {} is larger than `max_nuclei` {}",
                self.min_nuclei, self.max_nuclei
            ));
        }
        if !(self.polysomy_control_mean.is_finite() && self.polysomy_control_mean > 0.0) {
            return Err(format!(
                "`polysomy_control_mean` must be positive, got {}",
                self.polysomy_control_mean
            ));
        }
        let roles = [
            ("channels.dapi", &self.channels.dapi),
            ("channels.target", &self.channels.target),
            ("channels.control", &self.channels.control),
        ];
        for (key, names) in roles {
            if names.iter().all(|n| n.trim().is_empty()) {
                return Err(format!("`{key}` lists no channel name"));
            }
        }
        for (i, (key_a, a)) in roles.iter().enumerate() {
            for (key_b, b) in roles.iter().skip(i + 1) {
                if let Some(n) = a.iter().find(|n| b.iter().any(|m| same_name(n, m))) {
                    return Err(format!(
                        "channel name '{n}' is listed in both `{key_a}` and `{key_b}`"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The role of a channel name (e.g. an OME-TIFF `Channel Name`),
    /// matched case-insensitively against the aliases; `None` if unknown.
    pub fn channel_for_name(&self, name: &str) -> Option<Channel> {
        let hit = |list: &[String]| list.iter().any(|n| same_name(n, name));
        if hit(&self.channels.dapi) {
            Some(Channel::Dapi)
        } else if hit(&self.channels.target) {
            Some(Channel::Target)
        } else if hit(&self.channels.control) {
            Some(Channel::Control)
        } else {
            None
        }
    }

    /// `TARGET/CONTROL`, e.g. `MDM2/CEP12`.
    pub fn ratio_label(&self) -> String {
        format!("{}/{}", self.target, self.control)
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mdm2_text() -> &'static str {
        Panel::builtin_toml("mdm2-cep12").unwrap()
    }

    #[test]
    fn builtins_parse_and_match_their_names() {
        for name in Panel::builtin_names() {
            let text = Panel::builtin_toml(name).unwrap();
            let p = Panel::from_toml_str(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.name, name);
            assert_eq!(Panel::resolve(&name.to_uppercase()).unwrap(), p);
        }
        let d = Panel::default();
        assert_eq!(d.name, "mdm2-cep12");
        assert_eq!((d.min_nuclei, d.max_nuclei), (50, 100));
        assert_eq!(d.borderline, [1.8, 2.2]);
        assert_eq!(d.rules, RuleSet::Ratio);
        let h = Panel::resolve("her2-cep17").unwrap();
        assert_eq!(h.rules, RuleSet::Her2AscoCap2018);
        assert_eq!((h.min_nuclei, h.max_nuclei), (20, 40));
    }

    #[test]
    fn channel_aliases_are_case_insensitive() {
        let p = Panel::default();
        assert_eq!(p.channel_for_name("dapi"), Some(Channel::Dapi));
        assert_eq!(p.channel_for_name(" Hoechst "), Some(Channel::Dapi));
        assert_eq!(p.channel_for_name("spectrumorange"), Some(Channel::Target));
        assert_eq!(p.channel_for_name("MDM2"), Some(Channel::Target));
        assert_eq!(p.channel_for_name("fitc"), Some(Channel::Control));
        assert_eq!(p.channel_for_name("CEP12"), Some(Channel::Control));
        assert_eq!(p.channel_for_name("Cy5"), None);
    }

    #[test]
    fn loads_a_file_and_resolves_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        let text = mdm2_text().replace("name = \"mdm2-cep12\"", "name = \"mine\"");
        std::fs::write(&path, text).unwrap();
        let p = Panel::resolve(path.to_str().unwrap()).unwrap();
        assert_eq!(p.name, "mine");
        assert_eq!(p.cutoff, 2.0);
        let missing = dir.path().join("nope.toml");
        let e = Panel::resolve(missing.to_str().unwrap()).unwrap_err();
        assert!(e
            .to_string()
            .contains("nope.toml: cannot read panel file: no such file"));
        let e = Panel::resolve("myc-cep8").unwrap_err().to_string();
        assert!(e.contains("unknown panel 'myc-cep8'") && e.contains("mdm2-cep12"));
    }

    fn err_of(text: &str) -> String {
        let e = Panel::from_toml_str(text, "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'), "one line: {e}");
        assert!(e.starts_with("bad.toml: invalid panel: "), "{e}");
        e
    }

    #[test]
    fn malformed_files_give_one_line_errors() {
        let t = mdm2_text();
        let e = err_of(&t.replace("cutoff = 2.0", "cutof = 2.0"));
        assert!(e.contains("cutof") && e.contains("line "), "{e}");
        let e = err_of(&t.replace("cutoff = 2.0\n", ""));
        assert!(e.ends_with("invalid panel: missing field `cutoff`"), "{e}");
        let e = err_of(&t.replace("dapi = [", "dap = ["));
        assert!(e.contains("unknown field `dap`"), "{e}");
        let e = err_of(&t.replace("cutoff = 2.0", "cutoff = 0.0"));
        assert!(e.contains("`cutoff` must be positive"), "{e}");
        let e = err_of(&t.replace("cutoff = 2.0", "cutoff = 2.5"));
        assert!(e.contains("must contain the cutoff 2.5"), "{e}");
        let e = err_of(&t.replace("min_nuclei = 50", "min_nuclei = 150"));
        assert!(
            e.contains("`min_nuclei` 150 is larger than `max_nuclei` 100"),
            "{e}"
        );
        let e = err_of(&t.replace("rules = \"ratio\"", "rules = \"majority\""));
        assert!(e.contains("majority"), "{e}");
        let e = err_of(&t.replace("min_nuclei = 50", "min_nuclei = -5"));
        assert!(e.contains("line "), "{e}");
        let e = err_of(&t.replace("\"FITC\"", "\"Red\""));
        assert!(e.contains("'Red' is listed in both"), "{e}");
        let e = err_of(&t.replace("target_first = false", "target_first = false\nband = 1"));
        assert!(e.contains("band"), "{e}");
        let e = err_of("this is not toml");
        assert!(e.len() < 300, "{e}");
    }
}
