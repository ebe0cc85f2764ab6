//! Compact key sets for the checks that need a whole table (duplicate ids, links between tables) while the table
//! is read and normalised in batches: a first pass over the batches keeps only 128-bit keyed hashes of the keys,
//! the second pass looks each row's key up in them.
//!
//! * [`KeyHasher`]: XXH3-128 seeded from the run's pseudonymisation key, so nobody without the key can build
//!   colliding ids on purpose; two different ids collide by chance with probability about n^2 / 2^129 (for 10^7
//!   ids about 10^-25). A collision would count two ids as one (a false `duplicate_id`, or a missed
//!   `missing_link`); the hash is never written anywhere.
//! * [`KeyOccurrences`] -> [`Duplicates`]: every key of a unique column set with its source row number, 24 bytes
//!   per row while the first pass runs (in sorted chunks of a million); merged at its end and reduced to the keys
//!   that occur more than once
//!   (with their count and first ten row numbers, for the quarantine reason), so what the second pass holds
//!   grows with the number of duplicated ids only.
//! * [`LinkKeys`]: the distinct keys of a referenced table as a sorted `Vec` of hashes, 16 bytes per distinct key
//!   (16 MB per million keys), looked up by binary search.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use twox_hash::XxHash3_128;

use crate::key::PseudonymKey;

/// At most this many row numbers of a duplicated id are listed in its quarantine reason.
pub const LISTED_ROWS: usize = 10;

/// Hashes key values (the joined, trimmed cells of a key's columns) to 128 bits with a seed derived from the run's
/// pseudonymisation key.
#[derive(Debug, Clone, Copy)]
pub struct KeyHasher {
    seed: u64,
}

impl KeyHasher {
    /// The hasher of a run: its seed is the first 64 bits of `HMAC-SHA256(key, ":dh.key-sets:seed")`.
    pub fn new(key: &PseudonymKey) -> Self {
        let digest = key.pseudonym("", "dh.key-sets", "seed");
        let seed = digest
            .get(..16)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        KeyHasher { seed }
    }

    /// A hasher with a fixed seed (tests).
    pub fn with_seed(seed: u64) -> Self {
        KeyHasher { seed }
    }

    pub fn hash(&self, key: &str) -> u128 {
        XxHash3_128::oneshot_with_seed(self.seed, key.as_bytes())
    }
}

/// One row's key hash and source row number, split into `u64`s so an entry takes 24 bytes (a `u128` field would
/// align it to 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Occurrence {
    hi: u64,
    lo: u64,
    row: u64,
}

fn split(hash: u128) -> (u64, u64) {
    ((hash >> 64) as u64, hash as u64)
}

/// Entries per chunk of [`KeyOccurrences`] (24 MiB): a chunk grows like a `Vec` up to this size (a power of two,
/// so it ends exactly full), and full chunks are kept apart, so a long first pass holds 24 bytes a row plus at most
/// one partly filled chunk, never a doubled copy of everything.
const CHUNK: usize = 1 << 20;

/// The keys of one unique column set seen in a first pass, with the source row number of each.
#[derive(Debug, Default)]
pub struct KeyOccurrences {
    /// Full chunks, each sorted when it filled up.
    chunks: Vec<Vec<Occurrence>>,
    entries: Vec<Occurrence>,
}

impl KeyOccurrences {
    /// Records `hash` at source row `row_number`. Rows must come in file order (row numbers increase), as
    /// batches do.
    pub fn push(&mut self, hash: u128, row_number: u64) {
        let (hi, lo) = split(hash);
        self.entries.push(Occurrence {
            hi,
            lo,
            row: row_number,
        });
        if self.entries.len() == CHUNK {
            let mut full = std::mem::take(&mut self.entries);
            full.sort_unstable();
            self.chunks.push(full);
        }
    }

    /// Bytes held by the entries so far.
    pub fn heap_bytes(&self) -> usize {
        let chunks: usize = self.chunks.iter().map(Vec::capacity).sum();
        (chunks + self.entries.capacity()) * std::mem::size_of::<Occurrence>()
    }

    /// The keys seen more than once, with their count and first row numbers; the entries are freed.
    pub fn finish(mut self) -> Duplicates {
        // (hash, row) order: the rows of one key come in file order, as the whole-table check lists them. The
        // sorted chunks are merged (a heap of their heads) rather than joined, so nothing is copied.
        self.entries.sort_unstable();
        let mut chunks = self.chunks;
        chunks.push(self.entries);
        let mut heads: BinaryHeap<Reverse<(Occurrence, usize)>> = BinaryHeap::new();
        let mut next = vec![0usize; chunks.len()];
        for (i, chunk) in chunks.iter().enumerate() {
            if let Some(first) = chunk.first() {
                heads.push(Reverse((*first, i)));
                next[i] = 1;
            }
        }
        let mut by_hash = HashMap::new();
        let mut group: Option<(Occurrence, Duplicate)> = None;
        let mut close = |group: Option<(Occurrence, Duplicate)>| {
            if let Some((first, duplicate)) = group
                && duplicate.count > 1
            {
                by_hash.insert(
                    (u128::from(first.hi) << 64) | u128::from(first.lo),
                    duplicate,
                );
            }
        };
        while let Some(Reverse((entry, chunk))) = heads.pop() {
            if let Some(following) = chunks[chunk].get(next[chunk]) {
                heads.push(Reverse((*following, chunk)));
                next[chunk] += 1;
            }
            match group.as_mut() {
                Some((first, duplicate)) if first.hi == entry.hi && first.lo == entry.lo => {
                    duplicate.count += 1;
                    if duplicate.first_rows.len() < LISTED_ROWS {
                        duplicate.first_rows.push(entry.row);
                    }
                }
                _ => {
                    close(group.take());
                    group = Some((
                        entry,
                        Duplicate {
                            count: 1,
                            first_rows: vec![entry.row],
                        },
                    ));
                }
            }
        }
        close(group);
        Duplicates { by_hash }
    }
}

/// A key shared by several rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// How many rows share it.
    pub count: u64,
    /// The source row numbers of the first [`LISTED_ROWS`] of them, in file order.
    pub first_rows: Vec<u64>,
}

/// The duplicated keys of one unique column set.
#[derive(Debug, Default, Clone)]
pub struct Duplicates {
    by_hash: HashMap<u128, Duplicate>,
}

impl Duplicates {
    pub fn get(&self, hash: u128) -> Option<&Duplicate> {
        self.by_hash.get(&hash)
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// The distinct keys of a referenced table (the target of a link).
#[derive(Debug, Default, Clone)]
pub struct LinkKeys {
    hashes: Vec<u128>,
    sorted: bool,
}

impl LinkKeys {
    pub fn insert(&mut self, hash: u128) {
        self.hashes.push(hash);
        self.sorted = false;
        // keep a long first pass from holding every repeat of a key
        if self.hashes.len() == self.hashes.capacity() && self.hashes.len() >= 1 << 16 {
            self.finish();
        }
    }

    /// Sorts and removes repeats; called by [`LinkKeys::contains`] callers once the first pass is over.
    pub fn finish(&mut self) {
        if !self.sorted {
            self.hashes.sort_unstable();
            self.hashes.dedup();
            self.hashes.shrink_to_fit();
            self.sorted = true;
        }
    }

    /// Whether `hash` is one of the keys; the set must be [`finish`](LinkKeys::finish)ed.
    pub fn contains(&self, hash: u128) -> bool {
        debug_assert!(self.sorted || self.hashes.is_empty());
        self.hashes.binary_search(&hash).is_ok()
    }

    /// Distinct keys (after [`finish`](LinkKeys::finish)).
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * std::mem::size_of::<u128>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> KeyHasher {
        KeyHasher::with_seed(7)
    }

    #[test]
    fn the_seed_comes_from_the_key_and_changes_the_hashes() {
        let a = PseudonymKey::from_bytes(&[1u8; 32]).unwrap();
        let b = PseudonymKey::from_bytes(&[2u8; 32]).unwrap();
        assert_eq!(KeyHasher::new(&a).hash("H1"), KeyHasher::new(&a).hash("H1"));
        assert_ne!(KeyHasher::new(&a).hash("H1"), KeyHasher::new(&b).hash("H1"));
        assert_ne!(KeyHasher::new(&a).hash("H1"), KeyHasher::new(&a).hash("H2"));
    }

    #[test]
    fn duplicates_keep_count_and_first_rows_in_file_order() {
        let h = hasher();
        let mut occ = KeyOccurrences::default();
        // "a" on rows 2, 5, and 12 more rows; "b" once; "c" twice
        occ.push(h.hash("a"), 2);
        occ.push(h.hash("b"), 3);
        occ.push(h.hash("c"), 4);
        occ.push(h.hash("a"), 5);
        occ.push(h.hash("c"), 6);
        for row in 7..19 {
            occ.push(h.hash("a"), row);
        }
        assert_eq!(occ.heap_bytes() % 24, 0);
        let dups = occ.finish();
        assert_eq!(dups.len(), 2);
        assert!(dups.get(h.hash("b")).is_none());
        assert_eq!(
            dups.get(h.hash("c")),
            Some(&Duplicate {
                count: 2,
                first_rows: vec![4, 6]
            })
        );
        let a = dups.get(h.hash("a")).unwrap();
        assert_eq!(a.count, 14);
        assert_eq!(a.first_rows, vec![2, 5, 7, 8, 9, 10, 11, 12, 13, 14]);
    }

    #[test]
    fn duplicates_are_found_across_full_chunks() {
        let h = hasher();
        let mut occ = KeyOccurrences::default();
        let n = 2 * CHUNK as u64 + 5;
        for row in 1..=n {
            // "x" on the first, a middle and the last row; every other key once
            let key = if row == 1 || row == CHUNK as u64 + 3 || row == n {
                "x".to_string()
            } else {
                format!("k{row}")
            };
            occ.push(h.hash(&key), row);
        }
        let bytes = occ.heap_bytes();
        assert!(
            bytes >= n as usize * 24 && bytes <= (2 * CHUNK + 8) * 24,
            "{bytes}"
        );
        let dups = occ.finish();
        assert_eq!(dups.len(), 1);
        assert_eq!(
            dups.get(h.hash("x")),
            Some(&Duplicate {
                count: 3,
                first_rows: vec![1, CHUNK as u64 + 3, n]
            })
        );
    }

    #[test]
    fn no_keys_no_duplicates() {
        assert!(KeyOccurrences::default().finish().is_empty());
    }

    #[test]
    fn link_keys_are_distinct_and_found() {
        let h = hasher();
        let mut keys = LinkKeys::default();
        for i in 0..200_000u32 {
            keys.insert(h.hash(&format!("H{}", i % 1000)));
        }
        keys.finish();
        assert_eq!(keys.len(), 1000);
        assert!(keys.contains(h.hash("H999")));
        assert!(!keys.contains(h.hash("H1000")));
        assert!(keys.heap_bytes() <= 1000 * 16 * 2);
    }

    #[test]
    fn an_empty_link_set_contains_nothing() {
        let mut keys = LinkKeys::default();
        keys.finish();
        assert!(!keys.contains(hasher().hash("")));
        assert!(keys.is_empty());
    }
}
