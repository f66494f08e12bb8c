//! Secrets: random tokens and their hashes, password hashing with argon2id, and comparing
//! secrets in constant time.
//!
//! Tokens (session cookies, CSRF tokens, device and poll tokens) are 32 random bytes, written
//! base64url without padding. Only their SHA-256 is stored: a token with 256 bits of entropy
//! cannot be guessed from its hash, so it needs no slow hash. Passwords, chosen by people, are
//! hashed with argon2id (argon2 crate defaults: 19 MiB, 2 passes, 1 lane, as OWASP recommends),
//! which takes tens of milliseconds: callers run it off the async runtime.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

use super::AuthError;

/// Random bytes in a token.
pub(crate) const TOKEN_BYTES: usize = 32;

/// A new random token: `TOKEN_BYTES` from the operating system's generator (through rand's
/// thread-local ChaCha, seeded and reseeded from it), base64url without padding.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token: its SHA-256.
pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Whether two byte strings are equal, taking the same time wherever they differ (the length
/// is not secret: every token has the same length).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A 6-digit pairing code, shown on a device's screen and typed in by a manager.
pub(crate) fn pairing_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// A generated password of `len` characters from letters and digits without the ones people
/// misread (0/O, 1/l/I): about 5.8 bits a character.
pub(crate) fn generate_password(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Hashes a password with argon2id and a random salt, as a PHC string. Blocking (~50 ms).
pub(crate) fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (the parameters are read from the string,
/// so hashes made with other parameters still verify). Blocking (~50 ms).
pub(crate) fn verify_password(password: &str, hash: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(hash).map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// A hash no password matches in practice, verified against when a sign-in names a user who
/// does not exist, so that the answer takes as long as for a real user and does not tell
/// which names exist.
pub(crate) fn dummy_hash() -> Result<&'static str, AuthError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let h = hash_password(&random_token())?;
    Ok(DUMMY.get_or_init(|| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in base64url without padding");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(token_hash(&a).len(), 32);
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() -> Result<(), AuthError> {
        let h = hash_password("correct horse battery")?;
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password("correct horse battery", &h)?);
        assert!(!verify_password("correct horse batterY", &h)?);
        assert_ne!(h, hash_password("correct horse battery")?, "salted");
        assert!(!verify_password("", dummy_hash()?)?);
        Ok(())
    }

    #[test]
    fn pairing_codes_and_generated_passwords_have_their_shape() {
        let code = pairing_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        let p = generate_password(20);
        assert_eq!(p.chars().count(), 20);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
