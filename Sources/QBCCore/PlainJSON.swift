/// A reader of the plain subset of JSON that nodes receive by the million: ASCII text, strings
/// without `\u` escapes, numbers without exponents, at most 64 levels deep. It answers only
/// "plainly valid" (with what it read) or "not plain"; everything it does not take goes to
/// Foundation's parser, whose verdict stays the reference (Foundation also takes trailing commas,
/// a byte-order mark and deeper nesting, and refuses numbers it cannot represent). Nothing this
/// reader takes is refused by Foundation, so the fast path changes no answer (issue 18: Foundation
/// decoding was a tenth of a node's CPU under load).
public struct PlainJSON {
    private let bytes: [UInt8]
    public private(set) var index = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// True when `bytes` are one plain JSON value (any kind at the top level) and nothing else.
    public static func isPlainlyValid(_ bytes: [UInt8]) -> Bool {
        var reader = PlainJSON(bytes)
        return reader.skipValue(depth: 0) && reader.isAtEnd
    }

    /// True when only white space is left.
    public var isAtEnd: Bool {
        mutating get {
            skipSpace()
            return index == bytes.count
        }
    }

    /// Consumes `byte` after white space; false (consuming nothing but the space) if it is not next.
    public mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A string of printable ASCII without escapes, or nil.
    public mutating func plainString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(decoding: bytes[start..<index], as: UTF8.self)
            }
            guard byte >= 0x20, byte < 0x7f, byte != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        return nil
    }

    /// A whole number from 0 to 2^63 − 1 written without sign, fraction, exponent or leading zero.
    public mutating func plainInteger() -> Int64? {
        skipSpace()
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        guard index == bytes.count || !Self.continuesNumber(bytes[index]) else { return nil }
        return value
    }

    private static func continuesNumber(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    // MARK: Validation

    private mutating func skipValue(depth: Int) -> Bool {
        guard depth < 64 else { return false }
        skipSpace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                guard skipString(), take(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            index += 1
            if take(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]"))
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "t"): return skipWord("true")
        case UInt8(ascii: "f"): return skipWord("false")
        case UInt8(ascii: "n"): return skipWord("null")
        default: return skipNumber()
        }
    }

    /// A string of printable ASCII, with the escapes other than `\u`.
    private mutating func skipString() -> Bool {
        guard take(UInt8(ascii: "\"")) else { return false }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return true
            case UInt8(ascii: "\\"):
                guard index < bytes.count, Self.simpleEscapes.contains(bytes[index]) else { return false }
                index += 1
            case 0x20..<0x7f: continue
            default: return false
            }
        }
        return false
    }

    private static let simpleEscapes: Set<UInt8> = Set("\"\\/bfnrt".utf8)

    private mutating func skipWord(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?`, at most 300 digits: no exponent.
    private mutating func skipNumber() -> Bool {
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integer = digits()
        guard integer > 0, integer == 1 || bytes[index - integer] != UInt8(ascii: "0") else { return false }
        var fraction = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fraction = digits()
            guard fraction > 0 else { return false }
        }
        guard integer + fraction <= 300 else { return false }
        return index == bytes.count || !Self.continuesNumber(bytes[index])
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0a, 0x0d: index += 1
            default: return
            }
        }
    }
}
