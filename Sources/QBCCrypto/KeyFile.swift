import CSodium
import Foundation

/// The QBC key-file format (version 1), encoded and decoded on bytes; callers do the file I/O.
///
/// The public key is stored in clear so a key can be shown without its passphrase.
/// The 32-byte seed is encrypted with XChaCha20-Poly1305 under a key derived from the
/// passphrase with Argon2id; the associated data binds the ciphertext to the public key.
/// See documentation/keys.md.
public enum KeyFile {
    /// Argon2id cost parameters stored in an encrypted key file.
    public struct KDFParameters: Sendable, Equatable {
        public var opsLimit: UInt64
        public var memLimit: UInt64

        public init(opsLimit: UInt64, memLimit: UInt64) {
            self.opsLimit = opsLimit
            self.memLimit = memLimit
        }

        /// libsodium's "interactive" preset (2 passes, 64 MiB): about 0.1 s here.
        public static let interactive = KDFParameters(
            opsLimit: UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), memLimit: UInt64(crypto_pwhash_MEMLIMIT_INTERACTIVE))
        /// libsodium's "moderate" preset (3 passes, 256 MiB).
        public static let moderate = KDFParameters(
            opsLimit: UInt64(crypto_pwhash_OPSLIMIT_MODERATE), memLimit: UInt64(crypto_pwhash_MEMLIMIT_MODERATE))

        /// Bounds accepted when reading a file, so a hostile file cannot demand unbounded work or memory.
        static let opsRange = PasswordKey.opsRange
        static let memRange = PasswordKey.memRange
    }

    /// What a decoded key file says about itself before any passphrase is used.
    public struct Summary: Sendable, Equatable {
        public let version: Int
        public let publicKey: PublicKey
        public let encrypted: Bool
    }

    static let currentVersion = 1
    static let encryptedProtection = "argon2id-xchacha20poly1305"
    static let plaintextProtection = "plaintext"
    static let plaintextWarning = "INSECURE: this secret key is stored in plaintext. Demo and test use only."
    static let associatedDataTag = Array("qbc/keyfile/v1".utf8) + [0]
    static let saltBytes = PasswordKey.saltBytes
    static let nonceBytes = AEAD.nonceBytes
    static let tagBytes = AEAD.tagBytes

    /// Encodes `key` encrypted under `passphrase`.
    public static func encrypted(
        _ key: SigningKey, passphrase: SecretBytes, parameters: KDFParameters = .interactive
    ) throws(KeyFileError) -> [UInt8] {
        guard passphrase.count > 0 else { throw .emptyPassphrase }
        let salt = SecureRandom.bytes(saltBytes)
        let nonce = SecureRandom.bytes(nonceBytes)
        let wrappingKey = try deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
        let ad = associatedDataTag + key.publicKey.bytes
        let ciphertext = key.seed().withBytes { AEAD.seal($0, key: wrappingKey, nonce: nonce, ad: ad) }
        let object: [String: Any] = [
            "format": "qbc-key", "version": currentVersion, "algorithm": "ed25519",
            "publicKey": key.publicKey.hex, "protection": encryptedProtection,
            "kdf": ["algorithm": "argon2id13", "opsLimit": parameters.opsLimit, "memLimit": parameters.memLimit,
                    "salt": Hex.encode(salt)],
            "nonce": Hex.encode(nonce), "secretKey": Hex.encode(ciphertext),
        ]
        return serialize(object)
    }

    /// Encodes `key` with its seed in plaintext: only for demo keys (`--insecure-plaintext`).
    public static func plaintext(_ key: SigningKey) -> [UInt8] {
        let seedHex = key.seed().withBytes { Hex.encode($0) }
        let object: [String: Any] = [
            "format": "qbc-key", "version": currentVersion, "algorithm": "ed25519",
            "publicKey": key.publicKey.hex, "protection": plaintextProtection,
            "secretKey": seedHex, "warning": plaintextWarning,
        ]
        return serialize(object)
    }

    /// Reads the public part of a key file without needing its passphrase.
    public static func summary(of bytes: [UInt8]) throws(KeyFileError) -> Summary {
        let fields = try Fields(parsing: bytes)
        return Summary(version: currentVersion, publicKey: fields.publicKey, encrypted: fields.isEncrypted)
    }

    /// True when the file needs a passphrase to open.
    public static func isEncrypted(_ bytes: [UInt8]) throws(KeyFileError) -> Bool {
        try summary(of: bytes).encrypted
    }

    /// Decodes a key file, decrypting it with `passphrase` when it is encrypted.
    public static func open(_ bytes: [UInt8], passphrase: SecretBytes?) throws(KeyFileError) -> SigningKey {
        let fields = try Fields(parsing: bytes)
        let seed: SecretBytes
        if let sealed = fields.sealed {
            guard let passphrase else { throw .passphraseRequired }
            // Files are never encrypted under an empty passphrase, so an empty one is simply wrong.
            guard passphrase.count > 0 else { throw .wrongPassphrase }
            seed = try decrypt(sealed, publicKey: fields.publicKey, passphrase: passphrase)
        } else {
            var plain = fields.secret
            seed = SecretBytes(consuming: &plain)
        }
        let key: SigningKey
        do { key = try SigningKey(seed: seed) } catch { throw .invalidField("secretKey", "must be a 32-byte seed") }
        guard ConstantTime.equal(key.publicKey.bytes, fields.publicKey.bytes) else { throw .publicKeyMismatch }
        return key
    }

    private static func decrypt(
        _ sealed: Fields.Sealed, publicKey: PublicKey, passphrase: SecretBytes
    ) throws(KeyFileError) -> SecretBytes {
        let wrappingKey = try deriveKey(passphrase: passphrase, salt: sealed.salt, parameters: sealed.parameters)
        let ad = associatedDataTag + publicKey.bytes
        guard let seed = AEAD.open(sealed.ciphertext, key: wrappingKey, nonce: sealed.nonce, ad: ad) else { throw .wrongPassphrase }
        return seed
    }

    private static func deriveKey(
        passphrase: SecretBytes, salt: [UInt8], parameters: KDFParameters
    ) throws(KeyFileError) -> SecretBytes {
        guard let key = PasswordKey.derive(
            passphrase: passphrase, salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit)
        else { throw .kdfFailed }
        return key
    }

    private static func serialize(_ object: [String: Any]) -> [UInt8] {
        // The dictionary holds only strings and integers, which JSONSerialization always accepts.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return Array(data) + [UInt8(ascii: "\n")]
    }
}
