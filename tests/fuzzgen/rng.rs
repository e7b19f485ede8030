//! A small, seedable pseudo-random number generator (SplitMix64), so that
//! every fuzz input can be reproduced from a seed and an index, with no
//! crate.  Shared by the fuzzers in `tests/` and the unit-level fuzz test of
//! the installation cache (`src/config/installation.rs`, by `#[path]`).

#![allow(dead_code)]

/// SplitMix64 (Steele, Lea, Flood 2014): one 64-bit state word, a Weyl
/// sequence and a finaliser; fast, and good enough for test inputs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator of input number `index` of the run with `seed`: each
    /// input can be made again on its own.
    pub fn for_case(seed: u64, index: u64) -> Rng {
        Rng(mix(seed.wrapping_add(GAMMA)) ^ mix(index.wrapping_mul(GAMMA) ^ 0x5eed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u32, den: u32) -> bool {
        self.next_u64() % u64::from(den) < u64::from(num)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of `items`, byte strings.
    pub fn choose<'a>(&mut self, items: &[&'a [u8]]) -> &'a [u8] {
        items[self.below(items.len())]
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// A seed from the environment variable `var`: a number, `random` (from
/// the clock, printed by the caller), or `default` when unset.
pub fn seed_from_env(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(v) if v == "random" => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            mix(now.as_nanos() as u64 ^ u64::from(std::process::id()))
        }
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v}: not a number or 'random'")),
        Err(_) => default,
    }
}

/// A count from the environment variable `var` (`_` allowed as digit
/// separator), or `default`.
pub fn count_from_env(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v}: not a number")),
        Err(_) => default,
    }
}
