import QBCCore
import QBCWire

/// `bang`: a chain's creation, as peers and clients send it (`POST /chains`, `POST /peer/bangs`):
/// the canonical bytes, and the JSON submission carrying them as hex. Both forms run on every
/// input; each fails fast on the other's.
enum BangFuzz {
    @Sendable static func run(_ bytes: [UInt8]) {
        if let bang = try? Bang(decoding: bytes) { inspect(bang) }
        if let submission = try? WireJSON.decode(BangSubmissionJSON.self, from: bytes, what: "Bang submission"),
            let bang = try? submission.decoded()
        {
            inspect(bang)
        }
    }

    private static func inspect(_ bang: Bang) {
        try? bang.check()
        // A decoded Bang must encode back to what was signed: the id depends on it.
        _ = bang.encoded
        _ = BangJSON(bang)
    }
}
