import Foundation
import QBCClient

/// A user-facing CLI failure: printed as one line on standard error, with an exit status that
/// tells failures apart (README, "Exit codes").
struct CLIError: Error, CustomStringConvertible {
    enum Kind: Int32 {
        /// Anything else: a file that cannot be read, a bad argument value, a failed check.
        case general = 1
        /// The node answered with a refusal (4xx other than 404, 5xx).
        case refused = 65
        /// The node has no such thing (404).
        case notFound = 66
        /// No answer from the node: not running, wrong address, untrusted certificate.
        case unreachable = 69
        /// A key file that does not open: wrong passphrase, damaged or not a key file.
        case badKey = 77
    }

    let description: String
    let kind: Kind

    init(_ message: String, kind: Kind = .general) {
        description = message
        self.kind = kind
    }

    /// The CLI's line and status for a failed call to a node.
    init(_ error: NodeClientError) {
        let kind: Kind = switch error.status {
        case nil: .unreachable
        case 404?: .notFound
        default: .refused
        }
        self.init("\(error)", kind: kind)
    }
}
