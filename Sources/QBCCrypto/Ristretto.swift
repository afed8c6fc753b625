import CSodium

/// An element of ristretto255 (libsodium `crypto_core_ristretto255_*`): a prime-order group built
/// on Curve25519 without its cofactor, so every valid encoding is one element and there are no
/// small-order points to worry about. Read keys and the one-of-n read proofs live here.
public struct RistrettoPoint: FixedBytes {
    public static let byteCount = 32
    public static let name = "ristretto255 point"
    public let bytes: [UInt8]
    public init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// A canonical encoding (RFC 9496) of an element other than the identity (which no key may be).
    /// The top bit must be clear: libsodium before 1.0.19 ignores it, so without this check one
    /// element would have two encodings here and one on newer nodes, which would split a chain.
    public init(validating bytes: [UInt8]) throws(CryptoError) {
        requireSodium()
        guard bytes.count == Self.byteCount else { throw .wrongLength(what: Self.name, expected: Self.byteCount, actual: bytes.count) }
        guard bytes[31] & 0x80 == 0, crypto_core_ristretto255_is_valid_point(bytes) == 1, bytes.contains(where: { $0 != 0 }) else {
            throw .invalidEncoding(what: Self.name)
        }
        self.bytes = bytes
    }

    /// s·G; nil when s is zero (the identity).
    public static func base(_ s: RistrettoScalar) -> RistrettoPoint? {
        requireSodium()
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_ristretto255_base(&out, s.bytes) == 0 else { return nil }
        return RistrettoPoint(unchecked: out)
    }

    /// s·self; nil when the product is the identity (s is zero).
    public func times(_ s: RistrettoScalar) -> RistrettoPoint? {
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_ristretto255(&out, s.bytes, bytes) == 0 else { return nil }
        return RistrettoPoint(unchecked: out)
    }

    /// self − other, as an encoding (the identity encodes as 32 zero bytes).
    public func minus(_ other: RistrettoPoint) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_core_ristretto255_sub(&out, bytes, other.bytes)
        return out
    }

    /// self + other, as an encoding.
    public func plus(_ other: RistrettoPoint) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_core_ristretto255_add(&out, bytes, other.bytes)
        return out
    }
}

/// A scalar modulo the group order ℓ = 2^252 + 27742317777372353535851937790883648493, in its
/// canonical 32-byte little-endian form.
public struct RistrettoScalar: FixedBytes {
    public static let byteCount = 32
    public static let name = "ristretto255 scalar"
    public let bytes: [UInt8]
    public init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// ℓ, little-endian.
    static let order: [UInt8] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    ]

    /// Refuses encodings of ℓ or more: each scalar has one encoding, so a proof has one form.
    public init(canonical bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else { throw .wrongLength(what: Self.name, expected: Self.byteCount, actual: bytes.count) }
        guard Self.isBelowOrder(bytes) else { throw .invalidEncoding(what: Self.name) }
        self.bytes = bytes
    }

    /// Compares little-endian numbers from the top byte down; the scalars compared are public.
    static func isBelowOrder(_ bytes: [UInt8]) -> Bool {
        for i in stride(from: 31, through: 0, by: -1) where bytes[i] != order[i] { return bytes[i] < order[i] }
        return false
    }

    public static let zero = RistrettoScalar(unchecked: [UInt8](repeating: 0, count: 32))
    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// A uniformly random scalar.
    public static func random() -> RistrettoScalar {
        requireSodium()
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_scalar_random(&out)
        return RistrettoScalar(unchecked: out)
    }

    /// A 64-byte value reduced modulo ℓ (nearly uniform when the input is).
    public static func reduce(wide: [UInt8]) -> RistrettoScalar {
        requireSodium()
        precondition(wide.count == 64, "reduce takes 64 bytes")
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_scalar_reduce(&out, wide)
        return RistrettoScalar(unchecked: out)
    }

    /// BLAKE2b-512 of `message`, reduced: the hash-to-scalar of every QBC transcript.
    public static func hash(_ message: [UInt8]) -> RistrettoScalar {
        requireSodium()
        var wide = [UInt8](repeating: 0, count: 64)
        crypto_generichash(&wide, 64, message, UInt64(message.count), nil, 0)
        return reduce(wide: wide)
    }

    public static func + (a: RistrettoScalar, b: RistrettoScalar) -> RistrettoScalar {
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_scalar_add(&out, a.bytes, b.bytes)
        return RistrettoScalar(unchecked: out)
    }

    public static func - (a: RistrettoScalar, b: RistrettoScalar) -> RistrettoScalar {
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_scalar_sub(&out, a.bytes, b.bytes)
        return RistrettoScalar(unchecked: out)
    }
}
