import CSodium

/// An Ed25519 secret key with its public key. The secret is zeroed on deinit.
public final class SigningKey: Sendable {
    /// libsodium's 64-byte secret key (seed followed by public key).
    private let secret: SecretBytes
    /// The identity this key signs for.
    public let publicKey: PublicKey
    /// Its X25519 form, for opening sealed boxes (computed once: the conversion decompresses a point).
    private let x25519Public: [UInt8]

    /// Size of the seed that determines a key pair.
    public static let seedByteCount = 32

    /// A fresh random key pair.
    public convenience init() {
        self.init(validSeed: SecretBytes(random: Self.seedByteCount))
    }

    /// The key pair determined by a 32-byte seed (RFC 8032's secret key).
    public convenience init(seed: SecretBytes) throws(CryptoError) {
        guard seed.count == Self.seedByteCount else {
            throw .wrongLength(what: "secret key seed", expected: Self.seedByteCount, actual: seed.count)
        }
        self.init(validSeed: seed)
    }

    private init(validSeed seed: SecretBytes) {
        requireSodium()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        seed.withBytes { s in
            _ = crypto_sign_seed_keypair(&pk, &sk, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        secret = SecretBytes(consuming: &sk)
        publicKey = PublicKey(unchecked: pk)
        var x25519 = [UInt8](repeating: 0, count: 32)
        _ = crypto_sign_ed25519_pk_to_curve25519(&x25519, pk)
        x25519Public = x25519
    }

    /// A copy of the 32-byte seed, for writing a key file.
    public func seed() -> SecretBytes {
        secret.withBytes { raw in
            var seed = Array(raw[0..<Self.seedByteCount])
            return SecretBytes(consuming: &seed)
        }
    }

    /// Lends this identity's X25519 key pair (`crypto_sign_ed25519_sk_to_curve25519`), zeroed after use.
    func withX25519<R>(_ body: (_ publicKey: [UInt8], _ secretKey: UnsafePointer<UInt8>) -> R) -> R {
        var x25519Secret = [UInt8](repeating: 0, count: 32)
        defer { sodium_memzero(&x25519Secret, 32) }
        secret.withBytes { sk in
            _ = crypto_sign_ed25519_sk_to_curve25519(&x25519Secret, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return x25519Secret.withUnsafeBufferPointer { body(x25519Public, $0.baseAddress!) }
    }

    /// Signs `message` (Ed25519, deterministic).
    public func sign(_ message: [UInt8]) -> Signature {
        var signature = [UInt8](repeating: 0, count: 64)
        secret.withBytes { sk in
            _ = crypto_sign_detached(
                &signature, nil, message, UInt64(message.count), sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return Signature(unchecked: signature)
    }
}
