import CSodium

/// A BLAKE2b-256 digest: block hashes, transaction ids, chain ids, Merkle nodes.
public struct Hash: FixedBytes, Comparable {
    public static let byteCount = 32
    public static let name = "hash"
    public let bytes: [UInt8]
    public init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The all-zero value, used where a link has no predecessor.
    public static let zero = Hash(unchecked: [UInt8](repeating: 0, count: 32))

    /// BLAKE2b with a 32-byte output and no key.
    public static func blake2b(_ message: [UInt8]) -> Hash {
        requireSodium()
        var out = [UInt8](repeating: 0, count: 32)
        crypto_generichash(&out, 32, message, UInt64(message.count), nil, 0)
        return Hash(unchecked: out)
    }

    /// BLAKE2b-256 of `message` written to the 32 bytes at `out`: for loops over many small
    /// messages (Merkle levels), which would otherwise allocate an array per hash.
    public static func blake2b(_ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        requireSodium()
        crypto_generichash(
            out.assumingMemoryBound(to: UInt8.self), 32, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
            UInt64(message.count), nil, 0)
    }

    /// Byte-wise order, so sorted ids are the same on every node.
    public static func < (lhs: Hash, rhs: Hash) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The number of leading zero bits: proof-of-work difficulty met by this hash.
    public var leadingZeroBits: Int {
        var count = 0
        for byte in bytes {
            if byte == 0 {
                count += 8
                continue
            }
            return count + byte.leadingZeroBitCount
        }
        return count
    }
}
