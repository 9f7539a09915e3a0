//! The SCRAM primitives of RFC 5802 §2.2 (`H`, `HMAC`, `Hi`) over SHA-1 and
//! SHA-256, built on the RustCrypto `sha1`, `sha2`, `hmac` and `pbkdf2` crates,
//! plus a constant-time comparison.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::ScramHash;

/// `H(data)`.
pub(crate) fn h(hash: ScramHash, data: &[u8]) -> Vec<u8> {
    match hash {
        ScramHash::Sha1 => Sha1::digest(data).to_vec(),
        ScramHash::Sha256 => Sha256::digest(data).to_vec(),
    }
}

/// `HMAC(key, data)`.
///
/// HMAC accepts keys of any length, so the key-length error of the underlying
/// API cannot happen; should it ever, the result is empty, which never equals
/// a key or proof of the proper length, so every check fails closed.
pub(crate) fn hmac(hash: ScramHash, key: &[u8], data: &[u8]) -> Vec<u8> {
    match hash {
        ScramHash::Sha1 => match Hmac::<Sha1>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        },
        ScramHash::Sha256 => match Hmac::<Sha256>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        },
    }
}

/// `Hi(str, salt, i)`: PBKDF2 with HMAC as PRF and one block of output
/// (RFC 5802 §2.2). `iterations` must be positive (checked by the callers).
pub(crate) fn hi(hash: ScramHash, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; hash.output_len()];
    match hash {
        ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
        ScramHash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
    }
    out
}

/// `a XOR b` over the shorter length.
pub(crate) fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Compares two octet strings in time that depends only on their lengths
/// (lengths are public: they are fixed by the hash function).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn output_lengths_match_hash() {
        for hash in [ScramHash::Sha1, ScramHash::Sha256] {
            assert_eq!(h(hash, b"x").len(), hash.output_len());
            assert_eq!(hmac(hash, b"k", b"x").len(), hash.output_len());
            assert_eq!(hi(hash, b"p", b"s", 2).len(), hash.output_len());
        }
    }

    #[test]
    fn hi_with_one_iteration_is_hmac_of_salt_and_block_index() {
        // Hi(p, s, 1) = HMAC(p, s || INT(1)) by definition.
        let mut salted = b"NaCl".to_vec();
        salted.extend_from_slice(&[0, 0, 0, 1]);
        for hash in [ScramHash::Sha1, ScramHash::Sha256] {
            assert_eq!(
                hi(hash, b"secret", b"NaCl", 1),
                hmac(hash, b"secret", &salted)
            );
        }
    }

    #[test]
    fn xor_is_bytewise() {
        assert_eq!(xor(&[0xf0, 0x0f], &[0xff, 0xff]), vec![0x0f, 0xf0]);
    }
}
