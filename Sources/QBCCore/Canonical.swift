public import QBCCrypto

/// Builds canonical bytes: big-endian integers, fixed-size fields as raw bytes, and
/// variable fields behind a length prefix. See documentation/protocol.md for every layout.
public struct CanonicalWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// A domain tag: its ASCII bytes then one zero byte, so no tag is a prefix of another message.
    public mutating func tag(_ tag: DomainTag) { bytes.append(contentsOf: tag.bytes) }
    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u16(_ value: UInt16) { append(bigEndian: value) }
    public mutating func u32(_ value: UInt32) { append(bigEndian: value) }
    public mutating func u64(_ value: UInt64) { append(bigEndian: value) }
    /// Raw bytes whose length is fixed by the layout.
    public mutating func fixed(_ value: [UInt8]) { bytes.append(contentsOf: value) }
    /// A length as u32, then the bytes.
    public mutating func bytes32(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
    /// A length as u16, then the UTF-8 bytes. Callers check the 65535-byte bound first.
    public mutating func string16(_ value: String) {
        u16(UInt16(truncatingIfNeeded: value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }
    /// A length as u8, then the UTF-8 bytes. Callers check the 255-byte bound first.
    public mutating func string8(_ value: String) {
        u8(UInt8(truncatingIfNeeded: value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    private mutating func append<T: FixedWidthInteger>(bigEndian value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads canonical bytes, refusing to read past the end or to allocate more than the input holds.
public struct CanonicalReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    public var isAtEnd: Bool { offset == bytes.count }
    public var remaining: Int { bytes.count - offset }

    public mutating func u8() throws(DecodingError) -> UInt8 {
        let slice = try take(1)
        return slice[slice.startIndex]
    }
    public mutating func u16() throws(DecodingError) -> UInt16 { try integer() }
    public mutating func u32() throws(DecodingError) -> UInt32 { try integer() }
    public mutating func u64() throws(DecodingError) -> UInt64 { try integer() }
    public mutating func fixed(_ count: Int) throws(DecodingError) -> [UInt8] { Array(try take(count)) }

    /// The next fixed-size value: one of `recent` when its bytes are the same, so values that
    /// repeat (a batch's chain and senders) share one array instead of allocating each.
    public mutating func fixed<T: FixedBytes>(_ type: T.Type, among recent: inout RecentValues<T>) throws(DecodingError) -> T {
        let raw = try take(T.byteCount)
        if let known = recent.first(where: { Self.equal($0.bytes, raw) }) { return known }
        let value = T(unchecked: Array(raw))
        recent.remember(value)
        return value
    }

    /// A u8-prefixed UTF-8 string, shared with `recent` as `fixed(_:among:)` does.
    public mutating func string8(among recent: inout RecentValues<String>) throws(DecodingError) -> String {
        let count = Int(try u8())
        let raw = try take(count)
        if let known = recent.first(where: { $0.utf8.elementsEqual(raw) }) { return known }
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidText(at: offset - count) }
        recent.remember(text)
        return text
    }

    /// BLAKE2b-256 of bytes already read, `range` being offsets into the input: a transaction's id
    /// is the hash of the signing bytes it was just decoded from, with no second encoding.
    public func blake2b(_ range: Range<Int>) -> Hash {
        precondition(range.lowerBound >= 0 && range.upperBound <= offset, "only bytes already read are hashed")
        var out = [UInt8](repeating: 0, count: Hash.byteCount)
        bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { Hash.blake2b(UnsafeRawBufferPointer(rebasing: input[range]), into: $0.baseAddress!) }
        }
        return Hash(unchecked: out)
    }

    private static func equal(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    /// Skips `count` bytes.
    public mutating func skip(_ count: Int) throws(DecodingError) { _ = try take(count) }

    /// True when the next bytes equal `expected`; consumes them.
    public mutating func matches(_ expected: [UInt8]) throws(DecodingError) -> Bool {
        try take(expected.count).elementsEqual(expected)
    }

    /// Reads a u32-prefixed field, refusing one longer than `limit`.
    public mutating func bytes32(limit: Int) throws(DecodingError) -> [UInt8] {
        let count = Int(try u32())
        guard count <= limit else { throw .tooLong(at: offset, limit: limit) }
        return Array(try take(count))
    }

    /// Reads a u16-prefixed UTF-8 string.
    public mutating func string16() throws(DecodingError) -> String {
        let count = Int(try u16())
        let raw = try take(count)
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidText(at: offset - count) }
        return text
    }

    /// Reads a u8-prefixed UTF-8 string.
    public mutating func string8() throws(DecodingError) -> String {
        let count = Int(try u8())
        let raw = try take(count)
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidText(at: offset - count) }
        return text
    }

    /// Checks the exact domain tag.
    public mutating func expect(_ tag: DomainTag) throws(DecodingError) {
        guard try take(tag.bytes.count).elementsEqual(tag.bytes) else { throw .wrongTag(expected: tag.name) }
    }

    /// Fails unless every byte was consumed.
    public func finish() throws(DecodingError) {
        guard isAtEnd else { throw .trailingBytes(remaining) }
    }

    private mutating func take(_ count: Int) throws(DecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated(at: offset) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    private mutating func integer<T: FixedWidthInteger>() throws(DecodingError) -> T {
        var value: T = 0
        for byte in try take(MemoryLayout<T>.size) { value = value << 8 | T(byte) }
        return value
    }

    /// Malformed canonical bytes.
    public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case truncated(at: Int)
        case tooLong(at: Int, limit: Int)
        case invalidText(at: Int)
        case wrongTag(expected: String)
        case trailingBytes(Int)

        public var description: String {
            switch self {
            case .truncated(let at): "input ends early at byte \(at)"
            case .tooLong(let at, let limit): "field at byte \(at) is longer than its limit of \(limit) bytes"
            case .invalidText(let at): "text at byte \(at) is not valid UTF-8"
            case .wrongTag(let expected): "does not start with the domain tag \(expected)"
            case .trailingBytes(let n): "\(n) unexpected bytes after the end"
            }
        }
    }
}

/// The domain tags that start every signed or hashed QBC message.
public struct DomainTag: Sendable, Hashable {
    public let name: String
    /// The tag's ASCII bytes followed by one zero byte.
    public let bytes: [UInt8]

    init(_ name: String) {
        self.name = name
        bytes = Array(name.utf8) + [0]
    }

    public static let transaction = DomainTag("qbc/tx/v1")
    public static let quant = DomainTag("qbc/quant/v1")
    public static let bang = DomainTag("qbc/bang/v1")
    public static let leap = DomainTag("qbc/leap/v1")
    public static let register = DomainTag("qbc/register/v1")
    public static let peerRequest = DomainTag("qbc/peer-request/v1")
    public static let member = DomainTag("qbc/member/v1")
    public static let lock = DomainTag("qbc/lock/v1")
    public static let readProof = DomainTag("qbc/read-proof/v1")
    public static let readKey = DomainTag("qbc/read-key/v1")
    public static let readKeySet = DomainTag("qbc/read-key-set/v1")
    public static let anonymousRead = DomainTag("qbc/anon-read/v1")
    public static let merkleLeaf = DomainTag("qbc/merkle-leaf/v1")
    public static let merkleNode = DomainTag("qbc/merkle-node/v1")
    public static let prevote = DomainTag("qbc/bft-prevote/v1")
    public static let precommit = DomainTag("qbc/bft-precommit/v1")
    public static let proposal = DomainTag("qbc/bft-proposal/v1")
}
