/// A value that is exactly `byteCount` bytes, shown as lowercase hex.
public protocol FixedBytes: Hashable, Sendable, CustomStringConvertible {
    /// The exact size of the value.
    static var byteCount: Int { get }
    /// A short name used in error messages ("public key", "signature").
    static var name: String { get }
    /// The raw bytes; always `byteCount` long.
    var bytes: [UInt8] { get }
    /// Wraps bytes already known to have the right length.
    init(unchecked bytes: [UInt8])
}

extension FixedBytes {
    /// Wraps `bytes`, checking the length.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else {
            throw .wrongLength(what: Self.name, expected: Self.byteCount, actual: bytes.count)
        }
        self.init(unchecked: bytes)
    }

    /// Parses hex text of exactly `2 * byteCount` digits.
    public init(hex: String) throws(CryptoError) {
        try self.init(bytes: Hex.decode(hex, what: Self.name))
    }

    /// Hashes the bytes in one bulk call: the synthesized hash feeds `Hasher` one byte at a
    /// time, which showed up in profiles of mempool and set lookups. Still seeded per process.
    @inlinable public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Eight bytes at a time: every dictionary and set lookup by id or key ends in one of these,
    /// and the element-wise comparison was 2% of a Leap (issue 18). Not constant-time; these are
    /// public values (secrets are compared with `ConstantTime`).
    @inlinable public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.bytes.withUnsafeBytes { a in
            rhs.bytes.withUnsafeBytes { b in
                guard a.count == b.count else { return false }
                var index = 0
                while index + 8 <= a.count {
                    guard a.loadUnaligned(fromByteOffset: index, as: UInt64.self) == b.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    else { return false }
                    index += 8
                }
                while index < a.count {
                    guard a[index] == b[index] else { return false }
                    index += 1
                }
                return true
            }
        }
    }

    /// Lowercase hex, the form QBC shows everywhere.
    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }
}
