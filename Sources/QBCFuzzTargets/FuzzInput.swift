import QBCCrypto

/// Cuts fields off the front of a fuzz input. Short input gives short or empty fields, never a
/// trap: the harness must not crash on its own, or a finding would not be QBC's.
struct FuzzInput {
    private var rest: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { rest = bytes[...] }

    var isEmpty: Bool { rest.isEmpty }

    /// Up to `count` bytes.
    mutating func take(_ count: Int) -> [UInt8] {
        let n = min(max(count, 0), rest.count)
        let field = Array(rest.prefix(n))
        rest = rest.dropFirst(n)
        return field
    }

    /// One byte, or 0 when the input is used up.
    mutating func byte() -> UInt8 { take(1).first ?? 0 }

    /// A big-endian integer of `width` bytes (fewer when the input is used up).
    mutating func integer(_ width: Int) -> UInt64 { take(width).reduce(0) { $0 << 8 | UInt64($1) } }

    /// Exactly `T.byteCount` bytes as a `T`, or nil when too few are left (an `unchecked` value
    /// of the wrong length would make libsodium read past it: a harness bug, not QBC's).
    mutating func fixed<T: FixedBytes>(_ type: T.Type) -> T? { try? T(bytes: take(T.byteCount)) }

    /// Text of a length given by the next `width`-byte prefix, decoded leniently (invalid UTF-8
    /// becomes U+FFFD), so that every input yields some string.
    mutating func text(lengthWidth width: Int) -> String {
        let count = Int(integer(width))
        return String(decoding: take(count), as: UTF8.self)
    }

    /// Everything left.
    mutating func remaining() -> [UInt8] { take(rest.count) }
}
