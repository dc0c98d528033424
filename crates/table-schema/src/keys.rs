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

type Part = HashSet<u128, BuildHasherDefault<PassThrough>>;

/// Parts of the set, by the fingerprint's top byte: each grows on its own, so the set never
/// holds an old and a new table of its whole size at once while it grows.
const PARTS: usize = 256;

/// Keys seen so far, as 128-bit fingerprints: with a billion keys the chance of any false
/// duplicate is below 10^-20. 17 to 39 bytes per distinct key (16 for the fingerprint, the
/// rest spare room in the tables: about 26 on average), and never a whole second table while
/// the set grows, as it is kept in 256 parts.
pub struct KeySet {
    parts: Vec<Part>,
    len: usize,
}

impl Default for KeySet {
    fn default() -> Self {
        KeySet::with_capacity(0)
    }
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
        let per_part = keys.div_ceil(PARTS);
        KeySet {
            parts: (0..PARTS)
                .map(|_| Part::with_capacity_and_hasher(per_part, BuildHasherDefault::default()))
                .collect(),
            len: 0,
        }
    }

    fn part(&mut self, key: u128) -> &mut Part {
        &mut self.parts[(key >> 120) as usize]
    }

    /// Whether the key was seen.
    pub fn contains(&self, key: u128) -> bool {
        self.parts[(key >> 120) as usize].contains(&key)
    }

    /// Records the key; false when it was already there.
    pub fn insert(&mut self, key: u128) -> bool {
        let new = self.part(key).insert(key);
        self.len += usize::from(new);
        new
    }

    /// Makes room for `more` keys at once (one allocation per part instead of repeated
    /// doubling).
    pub fn reserve(&mut self, more: usize) {
        let per_part = more.div_ceil(PARTS);
        for part in &mut self.parts {
            part.reserve(per_part);
        }
    }

    /// Distinct keys held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The keys as bytes (16 per key, little-endian), to be saved and read back with
    /// [`KeySet::extend_from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len * 16);
        for part in &self.parts {
            for key in part {
                out.extend_from_slice(&key.to_le_bytes());
            }
        }
        out
    }

    /// Adds the keys of [`KeySet::to_bytes`]; false when `bytes` are not a whole number of keys.
    pub fn extend_from_bytes(&mut self, bytes: &[u8]) -> bool {
        if !bytes.len().is_multiple_of(16) {
            return false;
        }
        self.reserve(bytes.len() / 16);
        for chunk in bytes.chunks_exact(16) {
            self.insert(u128::from_le_bytes(chunk.try_into().expect("16 bytes")));
        }
        true
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

    #[test]
    fn keys_read_back_from_their_bytes() {
        let mut s = KeySet::default();
        for i in 0..1000u32 {
            s.insert(KeySet::fingerprint([i.to_string().as_str()]));
        }
        let mut back = KeySet::default();
        assert!(back.extend_from_bytes(&s.to_bytes()));
        assert_eq!(back.len(), 1000);
        assert!((0..1000u32).all(|i| back.contains(KeySet::fingerprint([i.to_string().as_str()]))));
        assert!(!back.extend_from_bytes(&[0; 15]));
    }

    #[test]
    fn keys_in_every_part_are_kept_apart() {
        let mut s = KeySet::with_capacity(1000);
        let keys: Vec<u128> = (0..5000u32)
            .map(|i| KeySet::fingerprint([i.to_string().as_str()]))
            .collect();
        assert!(keys.iter().all(|&k| s.insert(k)));
        assert!(keys.iter().all(|&k| s.contains(k) && !s.insert(k)));
        assert_eq!(s.len(), 5000);
        assert!(!s.contains(KeySet::fingerprint(["5000"])));
        let used = s.parts.iter().filter(|p| !p.is_empty()).count();
        assert!(used > 250, "fingerprints spread over the parts ({used})");
    }
}
