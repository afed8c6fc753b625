/// Lowercase hex encoding and strict decoding.
///
/// Decoding accepts upper- or lowercase digits, rejects odd lengths and any
/// other character; QBC always writes lowercase.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Encodes bytes as lowercase hex.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex text; `what` names the value in the error message.
    public static func decode(_ text: String, what: String = "value") throws(CryptoError) -> [UInt8] {
        let decoded = text.utf8.withContiguousStorageIfAvailable { decode(buffer: $0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { decode(buffer: $0) }
        guard let decoded else { throw .invalidHex(what: what) }
        return decoded
    }

    private static func decode(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard buffer.count % 2 == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: buffer.count / 2)
        var index = 0
        while index < buffer.count {
            guard let high = nibble(buffer[index]), let low = nibble(buffer[index + 1]) else { return nil }
            out[index / 2] = high << 4 | low
            index += 2
        }
        return out
    }

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
