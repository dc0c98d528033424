//! Remembering keys in bounded memory: a 128-bit hash per distinct key, never the record.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// The set's own hasher: the keys are already uniform hashes, so it passes 64 bits through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

/// Keys seen so far, as 128-bit fingerprints: with a billion keys the chance of any false
/// duplicate is below 10^-20. About 32 bytes per distinct key (16 for the fingerprint, the
/// rest the set's spare room), 48 while the set doubles.
#[derive(Default)]
pub struct KeySet {
    seen: HashSet<u128, BuildHasherDefault<PassThrough>>,
}

impl KeySet {
    /// The fingerprint of a key given as parts (kept apart by a separator no text contains):
    /// SipHash-1-3 and FNV-1a, two independent 64-bit hashes side by side.
    pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str> + Clone) -> u128 {
        let mut sip = DefaultHasher::new();
        let mut fnv: u64 = 0xcbf2_9ce4_8422_2325;
        for p in parts {
            p.hash(&mut sip); // str hashing appends a 0xff terminator: parts cannot run together
            for &b in p.as_bytes().iter().chain(&[0xff]) {
                fnv = (fnv ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        (u128::from(sip.finish()) << 64) | u128::from(fnv)
    }

    /// An empty set with room for `keys` keys.
    pub fn with_capacity(keys: usize) -> Self {
        KeySet {
            seen: HashSet::with_capacity_and_hasher(keys, BuildHasherDefault::default()),
        }
    }

    /// Whether the key was seen.
    pub fn contains(&self, key: u128) -> bool {
        self.seen.contains(&key)
    }

    /// Records the key; false when it was already there.
    pub fn insert(&mut self, key: u128) -> bool {
        self.seen.insert(key)
    }

    /// Makes room for `more` keys at once (one allocation instead of repeated doubling).
    pub fn reserve(&mut self, more: usize) {
        self.seen.reserve(more);
    }

    /// Distinct keys held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_do_not_run_together() {
        assert_ne!(
            KeySet::fingerprint(["ab", "c"]),
            KeySet::fingerprint(["a", "bc"])
        );
        assert_eq!(
            KeySet::fingerprint(["a", "b"]),
            KeySet::fingerprint(["a", "b"])
        );
        let mut s = KeySet::default();
        assert!(s.insert(KeySet::fingerprint(["x"])));
        assert!(!s.insert(KeySet::fingerprint(["x"])));
        assert_eq!(s.len(), 1);
    }
}
