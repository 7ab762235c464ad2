//! Which channel of a file is DAPI, the target probe and the control
//! probe: channel names (OME `Name`/`Fluor`, simulator metadata) matched
//! against the panel's aliases, case-insensitively and tolerant of extra
//! words ("SpectrumOrange MDM2", "Texas Red", "CEP 12").

use crate::plane::Channel;

/// Names under which each role's channel may appear in a file. The first
/// alias of a list is the most specific (the probe's name); colour words
/// come after it. Part of the panel definition.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelAliases {
    /// Nuclear counterstain names.
    pub dapi: Vec<String>,
    /// Locus (target) probe names.
    pub target: Vec<String>,
    /// Reference (control) probe names.
    pub control: Vec<String>,
}

impl Default for ChannelAliases {
    /// The MDM2/CEP12 panel: MDM2 on an orange/red fluorophore, CEP12 on
    /// a green one, DAPI or Hoechst counterstain.
    fn default() -> Self {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        ChannelAliases {
            dapi: v(&["DAPI", "Hoechst", "DNA", "Nuclei", "Blue"]),
            target: v(&[
                "MDM2",
                "SpectrumOrange",
                "SpectrumRed",
                "TexasRed",
                "Orange",
                "Cy3",
                "TRITC",
                "Red",
            ]),
            control: v(&[
                "CEP12",
                "D12Z3",
                "SpectrumGreen",
                "FITC",
                "GFP",
                "AF488",
                "Alexa488",
                "AlexaFluor488",
                "Green",
            ]),
        }
    }
}

/// Lower case, letters and digits only: "Texas Red" -> "texasred".
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

impl ChannelAliases {
    /// The aliases of one role.
    pub fn of(&self, c: Channel) -> &[String] {
        match c {
            Channel::Dapi => &self.dapi,
            Channel::Target => &self.target,
            Channel::Control => &self.control,
        }
    }

    /// Rank (0 = first alias) of the best alias of `role` found in
    /// `name`, or `None`. Longer aliases are tried first at equal rank so
    /// that "SpectrumOrange" wins over "Orange".
    pub fn rank(&self, role: Channel, name: &str) -> Option<usize> {
        let n = normalise(name);
        if n.is_empty() {
            return None;
        }
        self.of(role)
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                let a = normalise(a);
                !a.is_empty() && n.contains(&a)
            })
            .map(|(i, _)| i)
            .min()
    }
}

/// How each role was found.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelChoice {
    /// Channel index in the file for DAPI, target, control.
    pub index: [usize; 3],
    /// How: "option", "name", "order" (default order DAPI, target,
    /// control), "remaining" (the one channel left), "rgb".
    pub how: [&'static str; 3],
}

/// Maps channel `names` (one per channel of the file; empty when
/// unknown) to the three roles. Each role takes the channel with its
/// best-ranked alias; a role left without a match takes the only channel
/// left over; with no names at all, exactly three channels are taken in
/// the default order DAPI, target, control. Errors are one line.
pub fn map_channels(names: &[String], aliases: &ChannelAliases) -> Result<ChannelChoice, String> {
    let n = names.len();
    if n < 3 {
        return Err(format!("has {n} channel{}", if n == 1 { "" } else { "s" }));
    }
    let mut index: [Option<usize>; 3] = [None; 3];
    let mut how = ["name"; 3];
    // Candidates (rank, role, channel), best rank first; a channel that
    // matches two roles goes to the role where its rank is better.
    let mut cands: Vec<(usize, usize, usize)> = Vec::new();
    for (r, role) in Channel::ALL.iter().enumerate() {
        for (i, name) in names.iter().enumerate() {
            if let Some(k) = aliases.rank(*role, name) {
                cands.push((k, r, i));
            }
        }
    }
    cands.sort();
    for (_, r, i) in cands {
        if index[r].is_none() && !index.contains(&Some(i)) {
            index[r] = Some(i);
        }
    }
    let found = index.iter().filter(|x| x.is_some()).count();
    if found == 0 && n == 3 {
        return Ok(ChannelChoice {
            index: [0, 1, 2],
            how: ["order"; 3],
        });
    }
    let unused: Vec<usize> = (0..n).filter(|i| !index.contains(&Some(*i))).collect();
    if found == 2 && unused.len() == 1 {
        let r = index.iter().position(|x| x.is_none()).unwrap_or(0);
        index[r] = Some(unused[0]);
        how[r] = "remaining";
    }
    match index {
        [Some(a), Some(b), Some(c)] => Ok(ChannelChoice {
            index: [a, b, c],
            how,
        }),
        _ => {
            let missing: Vec<&str> = Channel::ALL
                .iter()
                .zip(index)
                .filter(|(_, i)| i.is_none())
                .map(|(c, _)| c.as_str())
                .collect();
            let listed: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if s.is_empty() {
                        format!("{i}: (unnamed)")
                    } else {
                        format!("{i}: {s}")
                    }
                })
                .collect();
            Err(format!(
                "cannot tell which channel is {} among {n} channels ({}); pass --channels DAPI,TARGET,CONTROL indices",
                missing.join(" and "),
                listed.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn names_in_any_order_and_case() {
        let a = ChannelAliases::default();
        let m = map_channels(
            &s(&["SpectrumGreen CEP12", "dapi", "SpectrumOrange MDM2"]),
            &a,
        )
        .unwrap();
        assert_eq!(m.index, [1, 2, 0]);
        let m = map_channels(&s(&["Texas Red", "FITC", "Hoechst 33342"]), &a).unwrap();
        assert_eq!(m.index, [2, 0, 1]);
        let m = map_channels(&s(&["cy3", "DAPI", "green"]), &a).unwrap();
        assert_eq!(m.index, [1, 0, 2]);
    }

    #[test]
    fn specific_name_beats_colour() {
        // "MDM2" (rank 0) on channel 2 wins over "Red" (rank 7) on channel 0.
        let a = ChannelAliases::default();
        let m = map_channels(&s(&["Red", "DAPI", "MDM2", "CEP12"]), &a).unwrap();
        assert_eq!(m.index, [1, 2, 3]);
    }

    #[test]
    fn fallbacks() {
        let a = ChannelAliases::default();
        let m = map_channels(&s(&["Channel:0:0", "Channel:0:1", "Channel:0:2"]), &a).unwrap();
        assert_eq!((m.index, m.how), ([0, 1, 2], ["order"; 3]));
        let m = map_channels(&s(&["DAPI", "Cy5", "MDM2"]), &a).unwrap();
        assert_eq!(m.index, [0, 2, 1]);
        assert_eq!(m.how[2], "remaining");
        let e = map_channels(&s(&["DAPI", "x", "y", "z"]), &a).unwrap_err();
        assert!(
            e.contains("target and control") && e.contains("--channels"),
            "{e}"
        );
        assert_eq!(
            map_channels(&s(&["DAPI", "MDM2"]), &a).unwrap_err(),
            "has 2 channels"
        );
    }

    #[test]
    fn custom_panel() {
        let a = ChannelAliases {
            dapi: s(&["DAPI"]),
            target: s(&["HER2", "Orange"]),
            control: s(&["CEP17", "Green"]),
        };
        let m = map_channels(&s(&["CEP17", "HER2", "DAPI"]), &a).unwrap();
        assert_eq!(m.index, [2, 1, 0]);
    }
}
