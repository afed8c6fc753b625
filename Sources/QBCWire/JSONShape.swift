/// One linear pass over JSON bytes that finds the elements of a top-level array and counts each
/// element's values (keys included), building nothing. Foundation's parser spends about a hundred
/// bytes per value and, decoding an array, keeps every element's verdict: a 63 MiB array of
/// zeros took 8.5 GB. This pass runs first, so the array is refused past its count and each
/// element goes to Foundation alone, with a bound on its values (decisions D75).
///
/// It follows structure only (brackets, strings and their escapes, commas); what it lets through
/// is still parsed by Foundation, whose verdict on validity stays the reference. Like Foundation
/// it takes a UTF-8 byte-order mark and trailing commas.
enum JSONShape {
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

    /// One value from `index` (not white space), and past it; nil when it is cut off or a
    /// separator stands where a value should.
    private static func value(_ bytes: [UInt8], _ index: inout Int) -> Element? {
        let first = index
        var depth = 0
        var values = 0
        repeat {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                values += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { return nil }
                depth -= 1
                index += 1
            case UInt8(ascii: "\""):
                values += 1
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < bytes.count else { return nil }
                index += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { return nil }
                index += 1
            case let byte where isSpace(byte):
                index += 1
            default:
                // A number or literal: up to the next separator; Foundation judges its spelling.
                values += 1
                while index < bytes.count, !isSeparator(bytes[index]) { index += 1 }
            }
        } while depth > 0
        return Element(range: first..<index, values: values)
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "\""):
            true
        default: isSpace(byte)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func skipSpace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
    }
}

extension WireJSON {
    /// `decode`, with the document's values counted first when it is large: past `maxValues`,
    /// or when the linear pass cannot follow it, it is refused before Foundation parses it (D75).
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String, maxValues: Int) throws(WireError) -> T {
        if maxValues < .max, bytes.count > TransactionJSON.foundationWholeBytes {
            guard let values = JSONShape.documentValues(bytes) else { throw WireError.malformed("\(what) is not valid JSON") }
            guard values <= maxValues else { throw WireError.tooLarge("\(what) holds \(values) JSON values; at most \(maxValues) are read") }
        }
        return try decode(type, from: bytes, what: what)
    }
}
