extension InjectBatchJSON {
    /// The answer as `WireJSON.encode` writes it (sorted keys, nil fields left out, slashes not
    /// escaped), without Foundation's encoder: every admitted batch is answered with one, and
    /// the encoder was 2% of a node under binary admission (issue 18). Tested against it.
    public var encoded: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(48 + results.count * 96)
        out += #"{"admitted":"#.utf8
        out += String(admitted).utf8
        out += #","rejected":"#.utf8
        out += String(rejected).utf8
        out += #","results":["#.utf8
        for (index, result) in results.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            // Keys in sorted order, written one by one: a list of them per result was an
            // allocation per transaction.
            var first = true
            Self.appendField("error", result.error, first: &first, to: &out)
            Self.appendField("id", result.id, first: &first, to: &out)
            Self.appendField("message", result.message, first: &first, to: &out)
            Self.appendField("status", result.status, first: &first, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out += "]}".utf8
        return out
    }

    private static func appendField(_ key: String, _ value: String?, first: inout Bool, to out: inout [UInt8]) {
        guard let value else { return }
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        appendString(value, to: &out)
    }

    /// A JSON string: quote, backslash and control characters escaped; everything else as its UTF-8.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out += [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
