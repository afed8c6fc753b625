/// One linear pass over JSON bytes that finds the elements of a top-level array and counts each
/// element's values (keys included), building nothing. Foundation's parser spends about a hundred
/// bytes per value and, decoding an array, keeps every element's verdict: a 63 MiB array of
/// zeros took 8.5 GB. This pass runs first, so the array is refused past its count and each
/// element goes to Foundation alone, with a bound on its values (decisions D75).
///
/// It checks strings and scalars as RFC 8259 spells them and follows brackets and commas; what it
/// lets through is still parsed by Foundation, element by element, which checks the rest. Like
/// Foundation it takes a UTF-8 byte-order mark and trailing commas.
enum JSONShape {
    /// Bodies (and array elements) up to this size go to Foundation as they are, for its exact
    /// verdict; larger ones are first counted by this pass.
    static let wholeBytes = 64 * 1024

    struct Element: Equatable {
        let range: Range<Int>
        let values: Int
    }

    enum Outcome: Equatable {
        case elements([Element])
        /// The array has more than the count asked for (found before the rest is read).
        case tooMany
        /// Not an array whose structure this pass can follow: not JSON, or JSON in a form it does not read.
        case unreadable
    }

    /// The elements of the array that `bytes` hold, at most `maxCount` of them.
    static func arrayElements(_ bytes: [UInt8], maxCount: Int) -> Outcome {
        var index = start(bytes)
        skipSpace(bytes, &index)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return .unreadable }
        index += 1
        var elements = [Element]()
        while true {
            skipSpace(bytes, &index)
            guard index < bytes.count else { return .unreadable }
            if bytes[index] == UInt8(ascii: "]") { break }  // empty, or after a trailing comma
            guard elements.count < maxCount else { return .tooMany }
            guard let element = value(bytes, &index) else { return .unreadable }
            elements.append(element)
            skipSpace(bytes, &index)
            guard index < bytes.count else { return .unreadable }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] != UInt8(ascii: "]") {
                return .unreadable
            }
        }
        index += 1
        skipSpace(bytes, &index)
        return index == bytes.count ? .elements(elements) : .unreadable
    }

    /// The values of the one JSON value that `bytes` hold, or nil when the pass cannot follow it.
    static func documentValues(_ bytes: [UInt8]) -> Int? {
        var index = start(bytes)
        skipSpace(bytes, &index)
        guard let element = value(bytes, &index) else { return nil }
        skipSpace(bytes, &index)
        return index == bytes.count ? element.values : nil
    }

    /// Skips a UTF-8 byte-order mark.
    private static func start(_ bytes: [UInt8]) -> Int {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// Nesting this deep is left to Foundation (which has its own limit) whole, or refused.
    static let maxDepth = 256

    /// One value from `index` (not white space), and past it; nil when it is cut off, a separator
    /// stands where a value should, a literal is not `true`, `false`, `null` or a JSON number, a
    /// string holds a control character, a bad escape or bytes that are not UTF-8, or it nests
    /// deeper than `maxDepth`, or a bracket closes another kind. Strings and scalars are checked here because Foundation, asked for
    /// a transaction, reads them only when it decodes them: parsed alone, an element would get a
    /// verdict where parsing the whole array refuses the body.
    private static func value(_ bytes: [UInt8], _ index: inout Int) -> Element? {
        let first = index
        // The open brackets, innermost last: each closes with its own kind.
        var open = [UInt8]()
        var values = 0
        repeat {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard open.count < maxDepth else { return nil }
                open.append(bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                values += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard open.popLast() == bytes[index] else { return nil }
                index += 1
            case UInt8(ascii: "\""):
                values += 1
                guard skipString(bytes, &index) else { return nil }
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard !open.isEmpty else { return nil }
                index += 1
            case let byte where isSpace(byte):
                index += 1
            default:
                values += 1
                let literal = index
                while index < bytes.count, isLiteral(bytes[index]) { index += 1 }
                guard isScalar(bytes[literal..<index]) else { return nil }
            }
        } while !open.isEmpty
        return Element(range: first..<index, values: values)
    }

    /// Past the string that starts at `index`: false when it is cut off or not a JSON string.
    private static func skipString(_ bytes: [UInt8], _ index: inout Int) -> Bool {
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return true
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return false }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    // A surrogate must come as a pair: Foundation cannot make a character of one.
                    guard let unit = escapedUnit(bytes, at: index) else { return false }
                    index += 6
                    if (0xDC00...0xDFFF).contains(unit) { return false }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard let low = escapedUnit(bytes, at: index), (0xDC00...0xDFFF).contains(low) else { return false }
                        index += 6
                    }
                default: return false
                }
            case 0..<0x20: return false
            case 0x20..<0x80: index += 1
            default:
                guard let length = utf8Length(bytes, at: index) else { return false }
                index += length
            }
        }
        return false
    }

    /// The length of the UTF-8 sequence at `index` (first byte 0x80 or more), or nil when it is
    /// not well-formed (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
    private static func utf8Length(_ bytes: [UInt8], at index: Int) -> Int? {
        let (length, low, high): (Int, UInt8, UInt8)
        switch bytes[index] {
        case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
        case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
        case 0xED: (length, low, high) = (3, 0x80, 0x9F)
        case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
        case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
        default: return nil
        }
        guard index + length <= bytes.count, (low...high).contains(bytes[index + 1]) else { return nil }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) { return nil }
        return length
    }

    /// The UTF-16 unit of a `\uXXXX` escape at `index`, or nil when there is none.
    private static func escapedUnit(_ bytes: [UInt8], at index: Int) -> UInt16? {
        guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
        var unit: UInt16 = 0
        for byte in bytes[(index + 2)..<(index + 6)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    /// The bytes a number or `true`, `false`, `null` may hold; `isScalar` judges their order.
    private static func isLiteral(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"),
            UInt8(ascii: "."), UInt8(ascii: "E"):
            true
        default: false
        }
    }

    /// `true`, `false`, `null`, or a number as RFC 8259 spells it.
    private static func isScalar(_ literal: ArraySlice<UInt8>) -> Bool {
        if literal.elementsEqual("true".utf8) || literal.elementsEqual("false".utf8) || literal.elementsEqual("null".utf8) { return true }
        var index = literal.startIndex
        func digits() -> Int {
            let start = index
            while index < literal.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(literal[index]) { index += 1 }
            return index - start
        }
        if index < literal.endIndex, literal[index] == UInt8(ascii: "-") { index += 1 }
        guard index < literal.endIndex else { return false }
        if literal[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            return false
        }
        if index < literal.endIndex, literal[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < literal.endIndex, literal[index] == UInt8(ascii: "e") || literal[index] == UInt8(ascii: "E") {
            index += 1
            if index < literal.endIndex, literal[index] == UInt8(ascii: "+") || literal[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == literal.endIndex
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func skipSpace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
    }
}

extension WireJSON {
    /// `decode`, with the document's values counted first when it is large: past `maxValues`
    /// (`refusal` names the error), or when the linear pass cannot follow it, it is refused before
    /// Foundation parses it (D75).
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], what: String, maxValues: Int,
        refusal: ((Int) -> WireError)? = nil
    ) throws(WireError) -> T {
        if maxValues < .max, bytes.count > JSONShape.wholeBytes {
            guard let values = JSONShape.documentValues(bytes) else { throw WireError.malformed("\(what) is not valid JSON") }
            guard values <= maxValues else {
                throw refusal?(values) ?? .tooLarge("\(what) holds \(values) JSON values; at most \(maxValues) are read")
            }
        }
        return try decode(type, from: bytes, what: what)
    }
}
