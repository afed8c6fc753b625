import CSodium

/// Comparisons whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// True when both byte strings are equal. Lengths are public; contents are compared in constant time.
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        requireSodium()
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in
                sodium_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
            }
        }
    }
}

/// Cryptographically secure random bytes from libsodium.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        requireSodium()
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }
}
