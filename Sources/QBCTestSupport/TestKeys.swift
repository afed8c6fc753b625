import QBCCrypto

/// Deterministic keys for tests: the seed is 32 copies of one byte.
public enum TestKeys {
    public static func key(_ byte: UInt8) -> SigningKey {
        var seed = [UInt8](repeating: byte, count: 32)
        // A 32-byte seed always makes a key.
        guard let key = try? SigningKey(seed: SecretBytes(consuming: &seed)) else {
            preconditionFailure("a 32-byte seed must make a key")
        }
        return key
    }
}
