//! Keys for PII at rest: ID numbers are sealed with AES-256-GCM (so an audited
//! reveal can open them); cards and ID numbers also get a keyed HMAC for equality
//! checks without the clear value. Both sub-keys derive from one 32-byte secret.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a sealed value cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    /// Not in the `v1:<hex>` form.
    #[error("sealed value is malformed")]
    Malformed,
    /// Wrong key or tampered data.
    #[error("sealed value does not open with this key (wrong PII key?)")]
    WrongKey,
}

/// Seals, opens and hashes PII with keys derived from one secret.
#[derive(Clone)]
pub struct PiiVault {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for PiiVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiVault(..)")
    }
}

fn derive(secret: &[u8; 32], label: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl PiiVault {
    /// Derives the encryption and MAC keys from `secret`.
    pub fn new(secret: &[u8; 32]) -> Self {
        let enc = derive(secret, b"ops-console/pii-enc/v1");
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&enc)),
            mac_key: derive(secret, b"ops-console/pii-mac/v1"),
        }
    }

    /// Parses a 64-hex-digit secret.
    pub fn from_hex(hex_secret: &str) -> Option<Self> {
        let bytes: [u8; 32] = hex::decode(hex_secret.trim()).ok()?.try_into().ok()?;
        Some(Self::new(&bytes))
    }

    /// `v1:` + hex(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and in-memory buffers does not fail.
        let ct = self.cipher.encrypt(&nonce, plaintext.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("v1:{}", hex::encode(out))
    }

    /// Opens what [`seal`](Self::seal) produced.
    pub fn open(&self, sealed: &str) -> Result<String, VaultError> {
        let bytes = sealed
            .strip_prefix("v1:")
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() > 12)
            .ok_or(VaultError::Malformed)?;
        let (nonce, ct) = bytes.split_at(12);
        let pt = self.cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| VaultError::WrongKey)?;
        String::from_utf8(pt).map_err(|_| VaultError::Malformed)
    }

    /// Keyed HMAC-SHA256 in hex: equal inputs give equal hashes under one key, and
    /// without the key the hash cannot be brute-forced over the small card/ID space.
    pub fn keyed_hash(&self, value: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.mac_key).unwrap_or_else(|_| unreachable!());
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Keyed hash of an ID number's last four characters, for search by them
    /// (uppercase `X`). Prefixed, so it can never equal another field's hash.
    pub fn id_last4_hash(&self, last4: &str) -> String {
        self.keyed_hash(&format!("id_last4:{}", last4.to_uppercase()))
    }

    /// [`id_last4_hash`](Self::id_last4_hash) of a whole ID number.
    pub fn id_number_last4_hash(&self, id_number: &str) -> String {
        let tail = id_number.char_indices().rev().nth(3).map_or(id_number, |(at, _)| &id_number[at..]);
        self.id_last4_hash(tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_hash() {
        let v = PiiVault::new(&[7; 32]);
        let sealed = v.seal("11010519491231002X");
        assert!(!sealed.contains("11010519491231002X"));
        assert_eq!(v.open(&sealed).unwrap(), "11010519491231002X");
        assert_ne!(v.seal("x"), v.seal("x"), "fresh nonce each time");
        assert_eq!(PiiVault::new(&[8; 32]).open(&sealed), Err(VaultError::WrongKey));
        assert_eq!(v.open("v1:zz"), Err(VaultError::Malformed));
        assert_eq!(v.keyed_hash("a"), v.keyed_hash("a"));
        assert_ne!(v.keyed_hash("a"), PiiVault::new(&[8; 32]).keyed_hash("a"));
    }
}
