/// Limits on Quants.
public struct QuantLimits: Sendable, Hashable {
    public var maxTransactions: Int
    public var maxBytes: Int
    /// How far ahead of a node's clock a Quant's timestamp may be, in milliseconds.
    public var maxFutureMilliseconds: UInt64

    public init(maxTransactions: Int, maxBytes: Int, maxFutureMilliseconds: UInt64) {
        self.maxTransactions = maxTransactions
        self.maxBytes = maxBytes
        self.maxFutureMilliseconds = maxFutureMilliseconds
    }

    public static let standard = QuantLimits(maxTransactions: 10_000, maxBytes: 32 * 1024 * 1024, maxFutureMilliseconds: 120_000)
    /// Ceilings no Bang may exceed, so every count read from the network is bounded.
    public static let absoluteMaxTransactions = 100_000
    public static let absoluteMaxBytes = 256 * 1024 * 1024
}

/// A chain's automatic Leap policy: seal every `intervalMilliseconds` when transactions wait, or
/// as soon as `threshold` wait. Zero means "the node's setting".
public struct LeapPolicy: Sendable, Hashable {
    public var intervalMilliseconds: UInt32
    public var threshold: UInt32

    public init(intervalMilliseconds: UInt32, threshold: UInt32) {
        self.intervalMilliseconds = intervalMilliseconds
        self.threshold = threshold
    }

    public static let nodeDefault = LeapPolicy(intervalMilliseconds: 0, threshold: 0)
}

/// Everything a Bang fixes about a chain.
public struct ChainRules: Sendable, Hashable {
    public var name: String
    public var consensus: Consensus
    public var membership: Membership
    public var transactionLimits: TransactionLimits
    public var quantLimits: QuantLimits
    public var payload: PayloadRules
    /// How many distinct admins must approve a membership change.
    public var adminQuorum: UInt8
    /// Set for a forked chain: where it leaves its parent.
    public var fork: ForkPoint?
    /// When nodes seal this chain on their own; zero fields defer to each node's settings.
    public var leap: LeapPolicy
    /// When true, the chain's transactions are read only by members holding the reader role, each
    /// read proven with a fresh challenge (documentation/locks.md, "Proof-of-key read access").
    public var readersOnly: Bool

    public init(
        name: String, consensus: Consensus, membership: Membership,
        transactionLimits: TransactionLimits = .standard, quantLimits: QuantLimits = .standard,
        payload: PayloadRules = .none, adminQuorum: UInt8 = 1, fork: ForkPoint? = nil, leap: LeapPolicy = .nodeDefault,
        readersOnly: Bool = false
    ) {
        self.leap = leap
        self.readersOnly = readersOnly
        self.name = name
        self.consensus = consensus
        self.membership = membership
        self.transactionLimits = transactionLimits
        self.quantLimits = quantLimits
        self.payload = payload
        self.adminQuorum = adminQuorum
        self.fork = fork
    }

    /// Names are 1 to 64 characters of `[a-z0-9._-]`, so they are safe in URLs and file names.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
    }

    /// Checks the rules are coherent.
    public func check() throws(RuleError) {
        guard Self.isValidName(name) else { throw RuleError(.invalidBang, "chain name must be 1-64 characters of a-z, 0-9, '.', '_', '-'") }
        guard !membership.members(with: .admin).isEmpty else { throw RuleError(.invalidBang, "the chain needs at least one admin") }
        guard membership.roles.count <= 10_000 else { throw RuleError(.invalidBang, "at most 10000 members at the Bang") }
        guard adminQuorum >= 1, Int(adminQuorum) <= membership.members(with: .admin).count else {
            throw RuleError(.invalidBang, "the admin quorum must be 1 to the number of admins (\(membership.members(with: .admin).count))")
        }
        try consensus.engine.check(membership)
        let t = transactionLimits
        guard (1...TransactionLimits.absoluteMaxPayloadBytes).contains(t.maxPayloadBytes) else {
            throw RuleError(.invalidBang, "maxPayloadBytes must be 1...\(TransactionLimits.absoluteMaxPayloadBytes)")
        }
        let windows = [t.maxAgeMilliseconds, t.maxFutureMilliseconds, quantLimits.maxFutureMilliseconds]
        guard windows.allSatisfy({ $0 <= TransactionLimits.absoluteMaxWindowMilliseconds }) else {
            throw RuleError(.invalidBang, "time windows (transaction age and skew, Quant skew) must be at most 366 days")
        }
        let q = quantLimits
        guard (1...QuantLimits.absoluteMaxTransactions).contains(q.maxTransactions),
            (1024...QuantLimits.absoluteMaxBytes).contains(q.maxBytes)
        else { throw RuleError(.invalidBang, "Quant limits out of range") }
    }
}
