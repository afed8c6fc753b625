/// A broken chain rule: a documented, machine-readable code and a message a user can act on.
///
/// The code's raw value is the `error` field of the HTTP API's JSON errors.
public struct RuleError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Every rule a transaction, Quant or Bang can break.
    public enum Code: String, Sendable, CaseIterable {
        // Transactions
        /// The Ed25519 signature does not verify over the transaction's signing bytes.
        case badSignature = "bad_signature"
        /// The transaction names another chain than the one it was sent to.
        case wrongChain = "wrong_chain"
        /// The payload is larger than the chain's limit.
        case payloadTooLarge = "payload_too_large"
        /// The content type is empty, too long or not printable ASCII.
        case invalidContentType = "invalid_content_type"
        /// The payload does not match its content type or the chain's payload rules.
        case invalidPayload = "invalid_payload"
        /// The timestamp is older than the admission window allows.
        case timestampTooOld = "timestamp_too_old"
        /// The timestamp is further in the future than the admission window allows.
        case timestampInFuture = "timestamp_in_future"
        /// The signer does not hold the role the action needs.
        case notAuthorized = "not_authorized"
        /// The transaction is already waiting in the mempool or committed on the chain.
        case duplicate = "duplicate"
        /// The mempool is full; retry later.
        case mempoolFull = "mempool_full"

        // Quants
        /// The Quant's height is not its parent's height plus one.
        case wrongHeight = "wrong_height"
        /// The Quant does not link to the expected previous hash.
        case wrongPrevious = "wrong_previous"
        /// The header's Merkle root does not match the transaction ids.
        case badMerkleRoot = "bad_merkle_root"
        /// The header's transaction count does not match the body.
        case countMismatch = "count_mismatch"
        /// The Quant holds more transactions or bytes than the chain allows.
        case quantTooLarge = "quant_too_large"
        /// The Quant's timestamp is before its parent's or too far in the future.
        case badTimestamp = "bad_timestamp"
        /// The consensus proof (e.g. proof of work) is missing or insufficient.
        case badProof = "bad_proof"
        /// The same transaction appears twice in one Quant.
        case duplicateInQuant = "duplicate_in_quant"
        /// The proposer signed two different Quants on one parent (proof of authority).
        case equivocation = "equivocation"
        /// Under proof of authority, it is not this node's turn to seal yet.
        case notYourTurn = "not_your_turn"
        /// BFT: a Quant's commit certificate is missing, malformed, or short of a quorum of
        /// authorities' precommits over it.
        case badCertificate = "bad_certificate"
        /// BFT: a Quant conflicts with a final one (another certified Quant at its height).
        case conflictsWithFinal = "conflicts_with_final"
        /// BFT: a vote or proposal that no honest authority sends: a non-authority, a bad signature,
        /// a proposal from the wrong authority.
        case badVote = "bad_vote"
        /// BFT: a vote or proposal for a height or round this node no longer (or not yet) takes.
        case staleVote = "stale_vote"

        // Network
        /// A node registration or peer request is malformed.
        case invalidRegistration = "invalid_registration"

        // Bangs
        /// The Bang's rules are inconsistent (no admin, bad limits, bad difficulty).
        case invalidBang = "invalid_bang"
    }
}
