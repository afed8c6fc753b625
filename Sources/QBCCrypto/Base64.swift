import CSodium

/// Standard base64 (RFC 4648 §4, with padding), through libsodium's constant-time codec.
public enum Base64 {
    /// Encodes bytes as padded standard base64.
    public static func encode(_ bytes: [UInt8]) -> String {
        requireSodium()
        let variant = Int32(sodium_base64_VARIANT_ORIGINAL)
        let length = sodium_base64_encoded_len(bytes.count, variant)
        var out = [CChar](repeating: 0, count: length)
        bytes.withUnsafeBufferPointer { input in
            _ = sodium_bin2base64(&out, length, input.baseAddress, input.count, variant)
        }
        return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Decodes padded standard base64; whitespace and any other variant are rejected.
    public static func decode(_ text: String, what: String = "value") throws(CryptoError) -> [UInt8] {
        requireSodium()
        let input = Array(text.utf8)
        var out = [UInt8](repeating: 0, count: input.count / 4 * 3 + 3)
        var written = 0
        var end: UnsafePointer<CChar>? = nil
        let status = input.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                sodium_base642bin(
                    &out, out.count, chars.baseAddress, chars.count, nil, &written, &end,
                    Int32(sodium_base64_VARIANT_ORIGINAL))
            }
        }
        guard status == 0, consumedAll(end: end, input: input) else { throw .invalidBase64(what: what) }
        out.removeSubrange(written...)
        return out
    }

    private static func consumedAll(end: UnsafePointer<CChar>?, input: [UInt8]) -> Bool {
        // An empty input decodes to no bytes; otherwise the parser must stop at the very end.
        guard !input.isEmpty else { return true }
        guard let end else { return false }
        return input.withUnsafeBufferPointer { raw in
            UnsafeRawPointer(end) == UnsafeRawPointer(raw.baseAddress! + raw.count)
        }
    }
}
