/// Errors from decoding or checking cryptographic material supplied from outside.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A fixed-size value had the wrong number of bytes.
    case wrongLength(what: String, expected: Int, actual: Int)
    /// Text that should be lowercase or uppercase hex was not.
    case invalidHex(what: String)
    /// Text that should be standard base64 was not.
    case invalidBase64(what: String)
    /// Bytes that should encode a group element or a reduced scalar do not.
    case invalidEncoding(what: String)

    public var description: String {
        switch self {
        case .wrongLength(let what, let expected, let actual):
            "\(what) must be \(expected) bytes, got \(actual)"
        case .invalidHex(let what):
            "\(what) is not valid hex"
        case .invalidBase64(let what):
            "\(what) is not valid base64"
        case .invalidEncoding(let what):
            "\(what) is not a valid encoding"
        }
    }
}
