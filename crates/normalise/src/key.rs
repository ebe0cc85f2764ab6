//! Keyed pseudonyms for respondent and household ids: `hex(HMAC-SHA256(key, "<ISO3>:<column>:<value>"))`, where
//! `<column>` is the harmonised column name and `<value>` the trimmed source value. The same key gives the same
//! pseudonym in every run, so outputs stay byte-identical; the same household id gets the same pseudonym in the
//! child and the caregiver table because both use the harmonised column `household_id`.

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

use crate::error::NormaliseError;

/// Minimum key length in bytes. Where the key comes from (a key file, an environment variable) is decided by
/// `dh_pipeline::key`, the one loader.
pub const MIN_KEY_BYTES: usize = 32;

/// SHA-256 block size in bytes.
const BLOCK: usize = 64;
/// SHA-256 initial state.
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// A SHA-256 computation part way: the state after the whole blocks hashed so far and the bytes of the unfinished
/// block. HMAC-SHA256 (RFC 2104) is computed on it directly: the states after the key blocks (and after the column
/// prefix) are kept, and each value costs its own blocks only (one inner and one outer compression for an id),
/// with nothing allocated. The tests compare it with the `hmac` crate.
#[derive(Clone)]
struct Sha256State {
    h: [u32; 8],
    tail: [u8; BLOCK],
    tail_len: usize,
    /// Bytes hashed so far, `tail` included.
    len: u64,
}

fn compress(h: &mut [u32; 8], block: &[u8]) {
    sha2::compress256(h, std::slice::from_ref(GenericArray::from_slice(block)));
}

impl Sha256State {
    /// The state after one block.
    fn after_block(block: &[u8; BLOCK]) -> Self {
        let mut h = H0;
        compress(&mut h, block);
        Sha256State {
            h,
            tail: [0; BLOCK],
            tail_len: 0,
            len: BLOCK as u64,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.tail_len > 0 {
            let take = (BLOCK - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < BLOCK {
                return;
            }
            compress(&mut self.h, &self.tail);
            self.tail_len = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for block in &mut blocks {
            compress(&mut self.h, block);
        }
        let rest = blocks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    fn finish(mut self) -> [u8; 32] {
        let bits = self.len.wrapping_mul(8);
        self.tail[self.tail_len] = 0x80;
        self.tail[self.tail_len + 1..].fill(0);
        if self.tail_len + 1 > BLOCK - 8 {
            compress(&mut self.h, &self.tail);
            self.tail.fill(0);
        }
        self.tail[BLOCK - 8..].copy_from_slice(&bits.to_be_bytes());
        compress(&mut self.h, &self.tail);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// The keyed HMAC-SHA256 states: inner after the block `key XOR ipad`, outer after `key XOR opad`.
#[derive(Clone)]
struct KeyedStates {
    inner: Sha256State,
    outer: [u32; 8],
}

impl KeyedStates {
    fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let ipad = block.map(|b| b ^ 0x36);
        let opad = block.map(|b| b ^ 0x5c);
        KeyedStates {
            inner: Sha256State::after_block(&ipad),
            outer: Sha256State::after_block(&opad).h,
        }
    }

    /// `HMAC(key, prefix || message)`, where `self.inner` has already hashed the prefix.
    fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        inner.update(message);
        let digest = inner.finish();
        // The outer hash has one block left: the inner digest, padding and the length of key block + digest.
        let mut block = [0u8; BLOCK];
        block[..32].copy_from_slice(&digest);
        block[32] = 0x80;
        block[BLOCK - 8..].copy_from_slice(&(((BLOCK + 32) * 8) as u64).to_be_bytes());
        let mut h = self.outer;
        compress(&mut h, &block);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// The secret pseudonym key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct PseudonymKey {
    states: KeyedStates,
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

impl PseudonymKey {
    /// A key from raw bytes (at least [`MIN_KEY_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NormaliseError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(NormaliseError::Key(format!(
                "the key is {} bytes long; at least {MIN_KEY_BYTES} are required",
                bytes.len()
            )));
        }
        Ok(PseudonymKey {
            states: KeyedStates::new(bytes),
        })
    }

    /// A pseudonymiser for one harmonised column of one country.
    pub fn for_column(&self, iso3: &str, column: &str) -> ColumnPseudonymiser {
        let mut states = self.states.clone();
        for part in [iso3.as_bytes(), b":", column.as_bytes(), b":"] {
            states.inner.update(part);
        }
        ColumnPseudonymiser { states }
    }

    /// `hex(HMAC-SHA256(key, "<iso3>:<column>:<value>"))`.
    pub fn pseudonym(&self, iso3: &str, column: &str, value: &str) -> String {
        let mut out = String::with_capacity(64);
        self.for_column(iso3, column).write(value, &mut out);
        out
    }
}

/// A key already fed with the `"<ISO3>:<column>:"` prefix; each value costs only its own blocks.
#[derive(Clone)]
pub struct ColumnPseudonymiser {
    states: KeyedStates,
}

impl ColumnPseudonymiser {
    /// Appends the 64 lowercase hex digits of the value's pseudonym to `out`.
    pub fn write(&self, value: &str, out: &mut String) {
        // Hex digits are ASCII.
        out.push_str(std::str::from_utf8(&self.hex(value)).unwrap_or_default());
    }

    /// [`ColumnPseudonymiser::write`] into a byte buffer (ASCII, so valid UTF-8): a column's pseudonyms are
    /// written one after the other into the values of one Arrow array, validated once.
    pub fn write_bytes(&self, value: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.hex(value));
    }

    /// The 64 lowercase hex digits of the value's pseudonym.
    #[inline]
    fn hex(&self, value: &str) -> [u8; 64] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (pair, b) in hex
            .chunks_exact_mut(2)
            .zip(self.states.mac(value.as_bytes()))
        {
            pair[0] = HEX[(b >> 4) as usize];
            pair[1] = HEX[(b & 0x0f) as usize];
        }
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hmac::{Hmac, Mac};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    type HmacSha256 = Hmac<Sha256>;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    /// The pseudonyms equal HMAC-SHA256 of the `hmac` crate for keys shorter and longer than a block and values of
    /// every length around the block and padding boundaries.
    #[test]
    fn pseudonyms_equal_the_hmac_crate() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for round in 0..600 {
            let key_len = rng.random_range(MIN_KEY_BYTES..160);
            let key: Vec<u8> = (0..key_len).map(|_| rng.random()).collect();
            let column: String = (0..rng.random_range(0..80))
                .map(|_| rng.random_range(b'a'..=b'z') as char)
                .collect();
            let value: String = (0..round % 200)
                .map(|_| ['x', '1', 'é', ' ', '\u{3000}'][rng.random_range(0..5)])
                .collect();
            let mut mac = HmacSha256::new_from_slice(&key).unwrap();
            mac.update(format!("TST:{column}:{value}").as_bytes());
            let expected = hex::encode(mac.finalize().into_bytes());
            let ours = PseudonymKey::from_bytes(&key).unwrap();
            assert_eq!(
                ours.pseudonym("TST", &column, &value),
                expected,
                "round {round}"
            );
        }
    }

    #[test]
    fn pseudonym_is_hmac_of_prefixed_value_and_stable() {
        let key = PseudonymKey::from_bytes(KEY).unwrap();
        let a = key.pseudonym("THA", "respondent_id", "TH-001");
        assert_eq!(a.len(), 64);
        assert_eq!(a, key.pseudonym("THA", "respondent_id", "TH-001"));
        let mut mac = HmacSha256::new_from_slice(KEY).unwrap();
        mac.update(b"THA:respondent_id:TH-001");
        assert_eq!(a, hex::encode(mac.finalize().into_bytes()));
        assert_ne!(a, key.pseudonym("KEN", "respondent_id", "TH-001"));
        assert_ne!(a, key.pseudonym("THA", "household_id", "TH-001"));
        let other = PseudonymKey::from_bytes(b"another key that is long enough!").unwrap();
        assert_ne!(a, other.pseudonym("THA", "respondent_id", "TH-001"));
    }

    #[test]
    fn bytes_written_equal_the_text_written() {
        let p = PseudonymKey::from_bytes(KEY)
            .unwrap()
            .for_column("THA", "household_id");
        let (mut text, mut bytes) = (String::new(), Vec::new());
        for value in ["", "1", "TH-001", "é", &"x".repeat(130)] {
            p.write(value, &mut text);
            p.write_bytes(value, &mut bytes);
        }
        assert_eq!(text.as_bytes(), bytes.as_slice());
        assert_eq!(bytes.len(), 5 * 64);
    }

    #[test]
    fn a_short_key_is_refused_with_its_length() {
        let err = PseudonymKey::from_bytes(b"short").unwrap_err().to_string();
        assert!(
            err.contains("5 bytes") && err.contains(&format!("at least {MIN_KEY_BYTES}")),
            "{err}"
        );
        assert!(PseudonymKey::from_bytes(&KEY[..MIN_KEY_BYTES]).is_ok());
    }
}
