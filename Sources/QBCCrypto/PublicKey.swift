import CSodium

/// An Ed25519 public key: a QBC identity.
public struct PublicKey: FixedBytes {
    public static let byteCount = 32
    public static let name = "public key"
    public let bytes: [UInt8]
    public init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Checks an Ed25519 signature over `message` (libsodium's strict verification:
    /// non-canonical signatures and small-order keys are refused).
    public func verify(_ signature: Signature, over message: [UInt8]) -> Bool {
        requireSodium()
        // Arrays bridge to non-null pointers even when empty.
        return crypto_sign_verify_detached(signature.bytes, message, UInt64(message.count), bytes) == 0
    }
}

/// An Ed25519 signature (64 bytes).
public struct Signature: FixedBytes {
    public static let byteCount = 64
    public static let name = "signature"
    public let bytes: [UInt8]
    public init(unchecked bytes: [UInt8]) { self.bytes = bytes }
}
