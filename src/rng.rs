//! Seeded, portable random numbers.
//!
//! Every draw goes through ChaCha8 (a fixed, documented generator) and the
//! transcendental functions of the pure-Rust `libm` crate, never the
//! platform's C library, so the same seed gives the same numbers on every
//! machine. Independent streams (one per nucleus, per image row, ...) make
//! results independent of the number of threads that consume them.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// A deterministic random stream.
pub struct Rng {
    inner: ChaCha8Rng,
    spare_normal: Option<f64>,
}

impl Rng {
    /// The stream numbered `stream` of the generator seeded with `seed`.
    /// Different `(seed, stream)` pairs give independent sequences.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        Rng {
            inner,
            spare_normal: None,
        }
    }

    /// Stream for a labelled purpose and index, e.g. `("nucleus", 17)`.
    pub fn for_purpose(seed: u64, purpose: &str, index: u64) -> Self {
        Rng::new(
            seed,
            fnv1a(purpose.as_bytes()) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.inner.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `lo..=hi`.
    pub fn int_range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo + 1) as u64;
        lo + (self.inner.next_u64() % span) as i64
    }

    /// `true` with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box-Muller with libm's log/cos/sin).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let t = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(r * libm::sin(t));
        r * libm::cos(t)
    }

    /// Lognormal with the given median and log-space standard deviation.
    pub fn lognormal(&mut self, median: f64, sigma_log: f64) -> f64 {
        median * libm::exp(sigma_log * self.normal())
    }

    /// Poisson-distributed count of mean `lambda`: exact inversion by
    /// sequential search below 30, normal approximation with continuity
    /// correction above (relative error of the variance < 2 % there).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let mut k = 0u64;
            let mut p = libm::exp(-lambda);
            let mut cdf = p;
            let u = self.uniform();
            while u > cdf && k < 1000 {
                k += 1;
                p *= lambda / k as f64;
                cdf += p;
            }
            k
        } else {
            let v = lambda + libm::sqrt(lambda) * self.normal() + 0.5;
            if v < 0.0 {
                0
            } else {
                v.floor() as u64
            }
        }
    }

    /// Picks an index with probability proportional to `weights`.
    pub fn weighted_index(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        weights.len().saturating_sub(1)
    }
}

/// FNV-1a hash of bytes (stable across platforms and Rust versions).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers_and_streams_differ() {
        let a: Vec<f64> = (0..5).map(|_| Rng::new(7, 1).uniform()).collect();
        let mut r1 = Rng::new(7, 1);
        let mut r2 = Rng::new(7, 1);
        let mut r3 = Rng::new(7, 2);
        let x: Vec<u64> = (0..10).map(|_| r1.inner.next_u64()).collect();
        let y: Vec<u64> = (0..10).map(|_| r2.inner.next_u64()).collect();
        let z: Vec<u64> = (0..10).map(|_| r3.inner.next_u64()).collect();
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert!(a.iter().all(|v| (0.0..1.0).contains(v)));
    }

    #[test]
    fn moments_are_right() {
        let mut r = Rng::new(1, 0);
        let n = 200_000;
        let zs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = zs.iter().sum::<f64>() / n as f64;
        let v = zs.iter().map(|z| (z - m) * (z - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((v - 1.0).abs() < 0.02, "var {v}");
        for lambda in [0.7, 4.0, 25.0, 400.0] {
            let ks: Vec<f64> = (0..50_000).map(|_| r.poisson(lambda) as f64).collect();
            let m = ks.iter().sum::<f64>() / ks.len() as f64;
            let v = ks.iter().map(|k| (k - m) * (k - m)).sum::<f64>() / ks.len() as f64;
            assert!(
                (m - lambda).abs() / lambda < 0.03,
                "poisson mean {m} vs {lambda}"
            );
            assert!(
                (v - lambda).abs() / lambda < 0.05,
                "poisson var {v} vs {lambda}"
            );
        }
    }
}
