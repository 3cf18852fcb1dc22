//! The proof that a harness reached its own last step (issue 10).
//!
//! A model or unit harness runs the student's library in its own process,
//! so anything that process prints could have been printed by the student's
//! code: a line that says "done" proves nothing. Instead the grader draws a
//! fresh random key for every run and hands it to the harness on its stdin
//! (a pipe that the harness reads to its end and that then holds nothing),
//! before any student code runs; nothing in the harness's arguments,
//! environment or files shows it, and the run's sandbox denies
//! `/proc/self/*` (its memory, its descriptors). The harness then
//!
//! - prefixes its protocol lines with a tag derived from the key, so the
//!   student's output can neither imitate nor interleave with them, and
//! - ends with a `done` line carrying an HMAC-SHA256, under the key, of what
//!   it claims (which harness, which scenario or test, how many iterations,
//!   the outcome). The grader accepts a pass only with that MAC.
//!
//! HMAC-SHA256 (RustCrypto's `hmac` and `sha2`) rather than keyed BLAKE3:
//! both are sound here, and these two are pure Rust with no build script or
//! C code, which keeps the prebuilt workspace's cold build short.
//!
//! This one file is both the grader's module and the lib.rs of the
//! `grader_seal` crate the harnesses link, so the two sides cannot drift
//! apart. Its API is not generic: nothing of `hmac` is instantiated, and
//! so compiled, per submission.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Bytes of a run's key.
pub const KEY_BYTES: usize = 32;

/// A run's secret.
pub type Key = [u8; KEY_BYTES];

/// Keeps the MACs of different purposes apart.
const DOMAIN: &[u8] = b"grader-seal v1";

fn mac(key: &Key, parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key size");
    m.update(DOMAIN);
    for p in parts {
        // Length-prefixed: no two lists of parts give the same input.
        m.update(&(p.len() as u64).to_le_bytes());
        m.update(p);
    }
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tag of a run's protocol lines (24 hex digits; a line starts with
/// `@@<tag> `).
pub fn tag(key: &Key) -> String {
    let out = mac(key, &[b"tag"]).finalize().into_bytes();
    hex(&out[..12])
}

/// The MAC of a claim, as hex: `fields` are e.g. `["model", scenario,
/// iterations, "pass"]`.
pub fn seal(key: &Key, fields: &[&str]) -> String {
    let parts: Vec<&[u8]> = fields.iter().map(|f| f.as_bytes()).collect();
    hex(&mac(key, &parts).finalize().into_bytes())
}

/// Whether `claimed` (hex) is the MAC of `fields`, compared in constant
/// time.
pub fn verify(key: &Key, fields: &[&str], claimed: &str) -> bool {
    let Some(bytes) = unhex(claimed) else {
        return false;
    };
    let parts: Vec<&[u8]> = fields.iter().map(|f| f.as_bytes()).collect();
    mac(key, &parts).verify_slice(&bytes).is_ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// In a harness, first thing: the run's key, read from stdin to its end.
/// `None` when stdin did not hold exactly one key (it is read once; a
/// second call finds it empty).
pub fn read_key() -> Option<Key> {
    use std::io::Read as _;
    let mut raw = Vec::new();
    std::io::stdin()
        .lock()
        .take(KEY_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .ok()?;
    raw.try_into().ok()
}

/// In the grader: a fresh key from the kernel's random source.
pub fn new_key() -> std::io::Result<Key> {
    use std::io::Read as _;
    let mut key = [0u8; KEY_BYTES];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_verifies_only_for_its_own_key_and_claim() {
        let k = [7u8; KEY_BYTES];
        let s = seal(&k, &["model", "two_threads", "9", "pass"]);
        assert!(verify(&k, &["model", "two_threads", "9", "pass"], &s));
        assert!(!verify(&k, &["model", "two_threads", "10", "pass"], &s));
        assert!(!verify(&k, &["model", "two_thread", "s9", "pass"], &s));
        assert!(!verify(
            &[8u8; KEY_BYTES],
            &["model", "two_threads", "9", "pass"],
            &s
        ));
        assert!(!verify(&k, &["model", "two_threads", "9", "pass"], "00"));
        assert_ne!(tag(&k), tag(&[8u8; KEY_BYTES]));
        assert_eq!(tag(&k).len(), 24);
    }
}
