import QBCCrypto

/// `key-file`: a key file as `qbc` reads it. Encrypted files stop before any passphrase is tried:
/// Argon2id is slow on purpose, and a fuzzer would only measure it.
enum KeyFileFuzz {
    @Sendable static func run(_ bytes: [UInt8]) {
        _ = try? KeyFile.summary(of: bytes)
        guard let encrypted = try? KeyFile.isEncrypted(bytes), !encrypted else { return }
        _ = try? KeyFile.open(bytes, passphrase: nil)
    }
}
