import CSodium

/// HMAC-SHA-512-256 (libsodium `crypto_auth`) under a random key that never leaves the process:
/// lets a node hand out tokens it can recognise later without keeping any state per token.
public final class MessageAuthenticator: Sendable {
    public static let tagBytes = Int(crypto_auth_BYTES)
    private let key: SecretBytes

    /// A fresh random key.
    public init() {
        requireSodium()
        key = SecretBytes(random: Int(crypto_auth_KEYBYTES))
    }

    /// The 32-byte tag of `message`.
    public func tag(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.tagBytes)
        key.withBytes { k in
            _ = crypto_auth(&out, message, UInt64(message.count), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    /// True when `tag` is the first `tag.count` bytes (at least 16) of `message`'s tag; compared in
    /// constant time.
    public func verify(_ tag: [UInt8], of message: [UInt8]) -> Bool {
        guard tag.count >= 16, tag.count <= Self.tagBytes else { return false }
        return ConstantTime.equal(Array(self.tag(message).prefix(tag.count)), tag)
    }
}
