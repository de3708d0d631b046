//! Encryption at rest: chunks sealed with XChaCha20-Poly1305 under keys derived from a
//! master key that is kept outside the data directory.
//!
//! From each master key, BLAKE3's key derivation gives three keys: one that names chunk
//! files (a keyed hash of the chunk's hash, so the store does not show which plaintext
//! hashes it holds, and the same bytes still land in the same file: deduplication
//! stays), one that seals a small header holding the chunk's hash (so the orphan sweep
//! can learn what a file is without opening its body), and one that seals the body (the
//! compressed frame). Each file gets a fresh random 24-byte nonce. The body is bound to
//! the chunk's hash and the key's id as associated data, so a file moved under another
//! name, or bytes changed anywhere, fail to open (and are then treated as damaged).
//!
//! A sealed file: `b"CFE1"`, the key id (8 bytes), the nonce (24), the sealed hash (48),
//! then the sealed frame. A keyring holds the current key and the older ones whose
//! chunks have not been sealed again yet (after a rotation); chunks are always written
//! under the current key.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadInOut, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use coffer_core::ChunkHash;
use rand::RngCore;

const MAGIC: &[u8; 4] = b"CFE1";
const ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Everything before the sealed body.
pub(crate) const HEADER_LEN: usize = 4 + ID_LEN + NONCE_LEN + 32 + TAG_LEN;

const NAME_CONTEXT: &str = "coffer 2026-12 chunk file names";
const HEADER_CONTEXT: &str = "coffer 2026-12 chunk header sealing";
const BODY_CONTEXT: &str = "coffer 2026-12 chunk body sealing";
const ID_CONTEXT: &str = "coffer 2026-12 master key id";

/// A master key: 32 random bytes. Shown only as base64 in the key file.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        Self(k)
    }

    /// Reads base64 (standard alphabet, padded or not) of exactly 32 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// The key's public id (it names the key in files and messages; it tells nothing
    /// about the key).
    pub fn id(&self) -> KeyId {
        let d = blake3::derive_key(ID_CONTEXT, &self.0);
        KeyId(d[..ID_LEN].try_into().unwrap_or_default())
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        // Best effort: the key does not linger in freed memory.
        self.0.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.0);
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

/// A master key's public id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; ID_LEN]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::str::FromStr for KeyId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != ID_LEN * 2 {
            return Err(());
        }
        let mut out = [0u8; ID_LEN];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2).ok_or(())?, 16).map_err(|_| ())?;
        }
        Ok(Self(out))
    }
}

/// The keys derived from one master key.
pub(crate) struct SealKey {
    pub id: KeyId,
    name: [u8; 32],
    header: XChaCha20Poly1305,
    body: XChaCha20Poly1305,
}

impl SealKey {
    fn new(master: &MasterKey) -> Self {
        let aead = |context: &str| {
            let key = blake3::derive_key(context, &master.0);
            XChaCha20Poly1305::new(&key.into())
        };
        Self {
            id: master.id(),
            name: blake3::derive_key(NAME_CONTEXT, &master.0),
            header: aead(HEADER_CONTEXT),
            body: aead(BODY_CONTEXT),
        }
    }

    /// The file name of a chunk under this key.
    pub fn name_of(&self, hash: &ChunkHash) -> String {
        blake3::keyed_hash(&self.name, &hash.0).to_hex().to_string()
    }

    /// Seals a chunk's frame (whose plaintext hashes to `hash`).
    pub fn seal(&self, hash: &ChunkHash, frame: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let n = XNonce::from(nonce);
        let header_aad = self.header_aad();
        let body_aad = self.body_aad(hash);
        // Encryption with a valid key and nonce cannot fail (only messages of 256 GiB
        // can); a missing tag would be caught by the reader as damage.
        let mut out = Vec::with_capacity(HEADER_LEN + frame.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(&hash.0);
        if let Ok(tag) = self.header.encrypt_inout_detached(&n, &header_aad, (&mut out[start..]).into()) {
            out.extend_from_slice(&tag);
        }
        // The frame is copied once, into the file's buffer, and sealed where it lies.
        let start = out.len();
        out.extend_from_slice(frame);
        if let Ok(tag) = self.body.encrypt_inout_detached(&n, &body_aad, (&mut out[start..]).into()) {
            out.extend_from_slice(&tag);
        }
        out
    }

    fn header_aad(&self) -> Vec<u8> {
        [b"header".as_slice(), &self.id.0].concat()
    }

    fn body_aad(&self, hash: &ChunkHash) -> Vec<u8> {
        [b"body".as_slice(), &self.id.0, &hash.0].concat()
    }

    /// The hash a sealed file's header holds, if this key sealed it and it is intact.
    fn open_header(&self, file: &[u8]) -> Option<ChunkHash> {
        let (nonce, sealed) = header_parts(file)?;
        let plain = self.header.decrypt(&nonce, Payload { msg: sealed, aad: &self.header_aad() }).ok()?;
        Some(ChunkHash(plain.try_into().ok()?))
    }

    /// The frame of a sealed file, if it is intact and holds `hash`.
    fn open_body(&self, hash: &ChunkHash, file: &[u8]) -> Option<Vec<u8>> {
        let (nonce, _) = header_parts(file)?;
        let body = file.get(HEADER_LEN..)?;
        self.body.decrypt(&nonce, Payload { msg: body, aad: &self.body_aad(hash) }).ok()
    }
}

/// The nonce and the sealed hash of a sealed file's header.
fn header_parts(file: &[u8]) -> Option<(XNonce, &[u8])> {
    if file.len() < HEADER_LEN || &file[..4] != MAGIC {
        return None;
    }
    let nonce: [u8; NONCE_LEN] = file[4 + ID_LEN..4 + ID_LEN + NONCE_LEN].try_into().ok()?;
    Some((XNonce::from(nonce), &file[4 + ID_LEN + NONCE_LEN..HEADER_LEN]))
}

/// The id of the key a sealed file says sealed it.
pub(crate) fn sealed_by(file: &[u8]) -> Option<KeyId> {
    if file.len() < 4 + ID_LEN || &file[..4] != MAGIC {
        return None;
    }
    Some(KeyId(file[4..4 + ID_LEN].try_into().ok()?))
}

/// The master keys a store is opened with: the current one (every new chunk is sealed
/// with it) and older ones still needed to read chunks not sealed again yet.
pub struct Keyring {
    current: SealKey,
    older: Vec<SealKey>,
    masters: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring of `current` and the `older` keys, newest first.
    pub fn new(current: MasterKey, older: Vec<MasterKey>) -> Self {
        let mut masters = vec![current];
        masters.extend(older);
        let mut keys = masters.iter().map(SealKey::new);
        let current = keys.next().unwrap_or_else(|| SealKey::new(&MasterKey::generate()));
        Self { current, older: keys.collect(), masters }
    }

    /// Reads a key file: `key = BASE64` (the current key) and any number of
    /// `old = BASE64` lines (older keys, newest first); `#` starts a comment.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut current = None;
        let mut older = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                return Err(format!("line {}: expected `key = ...` or `old = ...`", n + 1));
            };
            let key = MasterKey::parse(value.trim().trim_matches('"'))
                .ok_or_else(|| format!("line {}: not the base64 of a 32-byte key", n + 1))?;
            match name.trim() {
                "key" if current.is_none() => current = Some(key),
                "key" => return Err(format!("line {}: a second `key`; older keys are `old = ...`", n + 1)),
                "old" => older.push(key),
                other => return Err(format!("line {}: unknown name '{other}'", n + 1)),
            }
        }
        let current = current.ok_or("no `key = ...` line")?;
        Ok(Self::new(current, older))
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> String {
        let mut out = String::from(
            "# Coffer's master keys. Without this file the stored files cannot be read:\n\
             # keep a copy somewhere safe, away from the data directory.\n",
        );
        for (i, k) in self.masters.iter().enumerate() {
            out.push_str(&format!("{} = {}  # id {}\n", if i == 0 { "key" } else { "old" }, k.to_base64(), k.id()));
        }
        out
    }

    pub fn current_id(&self) -> KeyId {
        self.current.id
    }

    /// Every key id, the current first.
    pub fn ids(&self) -> Vec<KeyId> {
        std::iter::once(self.current.id).chain(self.older.iter().map(|k| k.id)).collect()
    }

    pub(crate) fn current(&self) -> &SealKey {
        &self.current
    }

    /// Every key, the current first.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &SealKey> {
        std::iter::once(&self.current).chain(self.older.iter())
    }

    fn key(&self, id: KeyId) -> Option<&SealKey> {
        self.keys().find(|k| k.id == id)
    }

    /// A keyring whose current key is a new one and whose older keys are all of these.
    pub fn rotated(&self) -> Self {
        let mut older = self.masters.clone();
        let new = MasterKey::generate();
        older.retain(|k| k.id() != new.id());
        Self::new(new, older)
    }

    /// The same keyring without the older keys (once nothing is sealed with them).
    pub fn without_older(&self) -> Self {
        Self::new(self.masters[0].clone(), Vec::new())
    }

    /// The hash in a sealed file's header.
    pub(crate) fn open_header(&self, file: &[u8]) -> Option<ChunkHash> {
        self.key(sealed_by(file)?)?.open_header(file)
    }

    /// The frame in a sealed file, checked to hold `hash`.
    pub fn open_body(&self, hash: &ChunkHash, file: &[u8]) -> Option<Vec<u8>> {
        self.key(sealed_by(file)?)?.open_body(hash, file)
    }

    /// A chunk's frame sealed under the current key (what a sealed file holds).
    pub fn seal(&self, hash: &ChunkHash, frame: &[u8]) -> Vec<u8> {
        self.current.seal(hash, frame)
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({:?})", self.ids())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_chunks_open_only_with_their_key_hash_and_bytes() {
        let ring = Keyring::new(MasterKey::generate(), Vec::new());
        let hash = ChunkHash::of(b"plain bytes");
        let sealed = ring.current().seal(&hash, b"the frame");
        assert!(!sealed.windows(9).any(|w| w == b"the frame"), "no plaintext in the file");
        assert_eq!(ring.open_header(&sealed), Some(hash));
        assert_eq!(ring.open_body(&hash, &sealed).as_deref(), Some(b"the frame".as_slice()));
        assert_eq!(ring.open_body(&ChunkHash::of(b"other"), &sealed), None, "bound to its hash");
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert_eq!(ring.open_body(&hash, &damaged), None);
        let other = Keyring::new(MasterKey::generate(), Vec::new());
        assert_eq!(other.open_body(&hash, &sealed), None, "another key");
        assert_ne!(ring.current().name_of(&hash), hash.to_hex(), "names do not show the hash");
        assert_ne!(ring.current().name_of(&hash), other.current().name_of(&hash));
        assert_ne!(ring.current().seal(&hash, b"x"), ring.current().seal(&hash, b"x"), "fresh nonces");
    }

    #[test]
    fn a_rotated_keyring_reads_the_old_keys_chunks_and_round_trips_its_file() {
        let ring = Keyring::new(MasterKey::generate(), Vec::new());
        let hash = ChunkHash::of(b"x");
        let old = ring.current().seal(&hash, b"frame");
        let rotated = ring.rotated();
        assert_ne!(rotated.current_id(), ring.current_id());
        assert_eq!(rotated.ids()[1], ring.current_id());
        assert_eq!(rotated.open_body(&hash, &old).as_deref(), Some(b"frame".as_slice()));
        let text = rotated.to_file_text();
        let again = Keyring::parse(&text).expect("parse");
        assert_eq!(again.ids(), rotated.ids());
        assert_eq!(again.without_older().ids(), vec![rotated.current_id()]);
        for bad in ["", "key = nope", "key = AAAA", "x = AAAA", "old = only"] {
            assert!(Keyring::parse(bad).is_err(), "{bad}");
        }
        let id = ring.current_id();
        assert_eq!(id.to_string().parse::<KeyId>(), Ok(id));
    }
}
