/// A 32-byte digest held inline as four big-endian words, for dictionaries of many entries
/// (the mempool, the ids not yet indexed). `Hash` keeps its bytes in an array, so a lookup in
/// a large dictionary of `Hash` reads the probed key's array from another cache line; this
/// key is hashed and compared without leaving the table. Ordered as the bytes are.
public struct HashKey: Hashable, Comparable, Sendable {
    public let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    /// From a digest's 32 bytes; missing bytes read as zero (callers pass `Hash.bytes`, which
    /// always holds 32).
    @inlinable public init(_ bytes: [UInt8]) {
        if bytes.count >= 32 {
            (a, b, c, d) = bytes.withUnsafeBytes { raw in
                (
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
                )
            }
        } else {
            func word(_ start: Int) -> UInt64 {
                var value: UInt64 = 0
                for index in start..<start + 8 { value = value << 8 | UInt64(index < bytes.count ? bytes[index] : 0) }
                return value
            }
            (a, b, c, d) = (word(0), word(8), word(16), word(24))
        }
    }

    @inlinable public init(_ hash: Hash) { self.init(hash.bytes) }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The 32 bytes, without making an array (a flush binds 50,000 of them).
    @inlinable public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        // A homogeneous tuple is laid out as its elements in order.
        let words = (a.bigEndian, b.bigEndian, c.bigEndian, d.bigEndian)
        return try Swift.withUnsafeBytes(of: words, body)
    }

    public var hash: Hash { Hash(unchecked: bytes) }

    @inlinable public static func < (lhs: HashKey, rhs: HashKey) -> Bool { (lhs.a, lhs.b, lhs.c, lhs.d) < (rhs.a, rhs.b, rhs.c, rhs.d) }
}
