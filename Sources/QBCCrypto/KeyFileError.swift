/// Why a key file could not be written or opened. Each message tells the user what to do.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAKeyFile(String)
    case unsupportedVersion(Int)
    case invalidField(String, String)
    case passphraseRequired
    case emptyPassphrase
    case wrongPassphrase
    case publicKeyMismatch
    case kdfFailed

    public var description: String {
        switch self {
        case .notAKeyFile(let why):
            "not a QBC key file: \(why)"
        case .unsupportedVersion(let version):
            "key file version \(version) is not supported by this qbc (supports version 1)"
        case .invalidField(let field, let why):
            "key file field \"\(field)\" \(why)"
        case .passphraseRequired:
            "the key file is encrypted: give its passphrase with --passphrase-file, QBC_PASSPHRASE, or at the prompt"
        case .emptyPassphrase:
            "the passphrase is empty: choose a non-empty passphrase, or use --insecure-plaintext for demo keys"
        case .wrongPassphrase:
            "wrong passphrase, or the key file's encrypted part was altered"
        case .publicKeyMismatch:
            "the key file's public key does not match its secret key: the file was altered"
        case .kdfFailed:
            "Argon2id could not run with the file's parameters (not enough memory?)"
        }
    }
}
