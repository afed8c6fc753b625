public import QBCCrypto

/// Byzantine-fault-tolerant consensus with final commits, in the style of Tendermint: rounds of
/// proposal, prevote and precommit among the chain's authorities (consensus.md, "BFT").
///
/// A Quant's header is sealed by the authority that built it (as under proof of authority), and
/// its commit certificate proves that a quorum of authorities precommitted it. The header alone
/// weighs 1; what makes a Quant final is the certificate, which every node checks on receive and
/// sync. The rounds themselves run in `BFTHeight`; this type holds the parameters and the checks.
public struct BFTEngine: ConsensusEngine {
    public static let code: UInt8 = 3
    public static let name = "bft"
    public static let parameterNames = ["timeoutMilliseconds", "timeoutIncrementMilliseconds", "maxTimeoutMilliseconds"]
    /// More authorities than this make a certificate too large to check per Quant.
    public static let maxAuthorities = 256

    /// A step's timeout in round 0; each round adds the increment, up to the maximum.
    public let timeoutMilliseconds: UInt32
    public let timeoutIncrementMilliseconds: UInt32
    public let maxTimeoutMilliseconds: UInt32

    public init(timeoutMilliseconds: UInt32 = 1000, timeoutIncrementMilliseconds: UInt32 = 500, maxTimeoutMilliseconds: UInt32 = 10_000) {
        self.timeoutMilliseconds = timeoutMilliseconds
        self.timeoutIncrementMilliseconds = timeoutIncrementMilliseconds
        self.maxTimeoutMilliseconds = maxTimeoutMilliseconds
    }

    public init(parameters: [String: UInt64]) throws(RuleError) {
        let values = Self.parameterNames.map { parameters[$0] ?? [1000, 500, 10_000][Self.parameterNames.firstIndex(of: $0) ?? 0] }
        guard values.allSatisfy({ $0 <= UInt64(UInt32.max) }) else {
            throw RuleError(.invalidBang, "BFT timeouts are milliseconds that fit 32 bits")
        }
        self.init(timeoutMilliseconds: UInt32(values[0]), timeoutIncrementMilliseconds: UInt32(values[1]), maxTimeoutMilliseconds: UInt32(values[2]))
    }

    public var parameters: [String: UInt64] {
        [
            "timeoutMilliseconds": UInt64(timeoutMilliseconds), "timeoutIncrementMilliseconds": UInt64(timeoutIncrementMilliseconds),
            "maxTimeoutMilliseconds": UInt64(maxTimeoutMilliseconds),
        ]
    }

    /// Layout: the three timeouts (u32 each), in the order of `parameterNames`.
    public init(reading r: inout CanonicalReader) throws(CanonicalReader.DecodingError) {
        timeoutMilliseconds = try r.u32()
        timeoutIncrementMilliseconds = try r.u32()
        maxTimeoutMilliseconds = try r.u32()
    }

    public func write(to w: inout CanonicalWriter) {
        w.u32(timeoutMilliseconds)
        w.u32(timeoutIncrementMilliseconds)
        w.u32(maxTimeoutMilliseconds)
    }

    public func check(_ membership: Membership) throws(RuleError) {
        // Timeouts must grow: rounds end only once they outlast the network's delays.
        guard (50...600_000).contains(timeoutMilliseconds), (1...600_000).contains(timeoutIncrementMilliseconds),
            (timeoutMilliseconds...3_600_000).contains(maxTimeoutMilliseconds), maxTimeoutMilliseconds > timeoutMilliseconds
        else {
            throw RuleError(.invalidBang, "BFT timeouts: the first 50 ms to 10 minutes, the increment 1 ms to 10 minutes, the maximum above the first and at most 1 hour")
        }
        let count = membership.members(with: .authority).count
        guard count >= 1 else { throw RuleError(.invalidBang, "BFT needs at least one member with the authority role") }
        guard count <= Self.maxAuthorities else {
            throw RuleError(.invalidBang, "BFT takes at most \(Self.maxAuthorities) authorities; this membership has \(count)")
        }
    }

    public var difficultyBits: UInt8 { 0 }

    public func windowStart(above parentHeight: UInt64) -> UInt64? { nil }

    // MARK: Rounds

    /// Votes that make a quorum among `count` authorities: more than two thirds, n − ⌊(n−1)/3⌋.
    /// Two quorums share at least f + 1 authorities, so at least one honest one.
    public static func quorum(_ count: Int) -> Int { count - faults(count) }

    /// How many Byzantine authorities `count` of them tolerate: ⌊(n−1)/3⌋.
    public static func faults(_ count: Int) -> Int { count > 0 ? (count - 1) / 3 : 0 }

    /// The proposer of a round: authorities in byte order of their keys, rotating by height and round.
    public static func proposer(height: UInt64, round: UInt32, authorities: [PublicKey]) -> PublicKey? {
        guard !authorities.isEmpty else { return nil }
        let turn = (height % UInt64(authorities.count) + UInt64(round) % UInt64(authorities.count)) % UInt64(authorities.count)
        return authorities[Int(turn)]
    }

    /// How long a step of `round` waits, growing by the increment per round up to the maximum.
    public func timeout(round: UInt32) -> UInt64 {
        min(UInt64(timeoutMilliseconds) + UInt64(timeoutIncrementMilliseconds) * UInt64(round), UInt64(maxTimeoutMilliseconds))
    }

    // MARK: Headers

    /// Under BFT any authority may build a Quant; whether it is proposed is the rounds' business.
    public func prepare(_ header: QuantHeader, parent: QuantRules.Parent, now: Timestamp, membership: Membership) -> QuantHeader? {
        guard membership.holds(header.proposer, .authority) else { return nil }
        var prepared = header
        prepared.difficultyBits = 1
        prepared.nonce = 0
        return prepared
    }

    public var sealsBySearch: Bool { false }
    /// An authority builds a new Quant in every round it proposes in without a lock: two Quants on
    /// one parent are normal here. What must not happen twice is a vote, and that is guarded by
    /// the signer state.
    public var sealsOncePerParent: Bool { false }
    public var commitsAreFinal: Bool { true }

    public func seal(_ header: QuantHeader, with key: SigningKey, worker: Int, of workers: Int, shouldStop: () -> Bool) -> QuantHeader? {
        worker == 0 ? header.signed(with: key) : nil
    }

    public func checkProof(_ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Equivocators) throws(RuleError) {
        try header.checkSealedByAuthority(membership: membership, banned: banned, evidence: "signed conflicting certificates")
        guard header.difficultyBits == 1, header.nonce == 0 else {
            throw RuleError(.badProof, "a BFT Quant has weight 1 and nonce 0")
        }
    }

    public func checkCertificate(_ certificate: CommitCertificate?, of header: QuantHeader, hash: Hash, membership: Membership) throws(RuleError) {
        guard let certificate else {
            throw RuleError(.badCertificate, "a Quant of a BFT chain needs its commit certificate")
        }
        try certificate.check(header: header, hash: hash, authorities: membership.members(with: .authority))
    }

    public func weight(of header: QuantHeader) -> Int64 { 1 }

    /// Two Quants by one authority on one parent prove nothing here (it builds one per round it
    /// proposes in); conflicting certificates are the evidence (`CommitCertificate.commonSigners`).
    public func equivocation(_ a: QuantHeader, _ b: QuantHeader) -> Equivocation? { nil }
}
