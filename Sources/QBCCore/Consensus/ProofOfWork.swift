public import QBCCrypto

/// Proof of work: anyone the node lets seal may propose; the header hash must meet the difficulty,
/// optionally retargeted every `window` Quants (consensus.md, "Proof of work").
public struct ProofOfWorkEngine: ConsensusEngine {
    public static let code: UInt8 = 1
    public static let name = "pow"
    public static let parameterNames = ["difficultyBits", "targetIntervalMilliseconds", "retargetWindow"]

    /// The starting difficulty.
    public let difficultyBits: UInt8
    public let retarget: Retarget?

    public init(difficultyBits: UInt8, retarget: Retarget? = nil) {
        self.difficultyBits = difficultyBits
        self.retarget = retarget
    }

    public init(parameters: [String: UInt64]) throws(RuleError) {
        let bits = parameters["difficultyBits"] ?? 8
        guard bits <= UInt64(Consensus.maxDifficultyBits) else {
            throw RuleError(.invalidBang, "difficulty must be at most \(Consensus.maxDifficultyBits) bits")
        }
        switch (parameters["targetIntervalMilliseconds"], parameters["retargetWindow"]) {
        case (nil, nil):
            retarget = nil
        case (let interval?, let window?):
            guard interval <= UInt64(UInt32.max), window <= UInt64(UInt16.max) else {
                throw RuleError(.invalidBang, "targetIntervalMilliseconds must fit 32 bits and retargetWindow 16 bits")
            }
            retarget = Retarget(targetIntervalMilliseconds: UInt32(interval), window: UInt16(window))
        default:
            throw RuleError(.invalidBang, "retargeting needs both targetIntervalMilliseconds and retargetWindow")
        }
        difficultyBits = UInt8(bits)
    }

    public var parameters: [String: UInt64] {
        var values: [String: UInt64] = ["difficultyBits": UInt64(difficultyBits)]
        if let retarget {
            values["targetIntervalMilliseconds"] = UInt64(retarget.targetIntervalMilliseconds)
            values["retargetWindow"] = UInt64(retarget.window)
        }
        return values
    }

    /// Layout: difficulty (u8), target interval (u32), window (u16); both zero without retargeting.
    public init(reading r: inout CanonicalReader) throws(CanonicalReader.DecodingError) {
        difficultyBits = try r.u8()
        let target = try r.u32()
        let window = try r.u16()
        retarget = target == 0 && window == 0 ? nil : Retarget(targetIntervalMilliseconds: target, window: window)
    }

    public func write(to w: inout CanonicalWriter) {
        w.u8(difficultyBits)
        w.u32(retarget?.targetIntervalMilliseconds ?? 0)
        w.u16(retarget?.window ?? 0)
    }

    public func check(_ membership: Membership) throws(RuleError) {
        guard difficultyBits <= Consensus.maxDifficultyBits else {
            throw RuleError(.invalidBang, "difficulty must be at most \(Consensus.maxDifficultyBits) bits")
        }
        if let retarget, retarget.window == 0 || retarget.targetIntervalMilliseconds == 0 {
            throw RuleError(.invalidBang, "a retarget needs a window of at least 1 Quant and a target interval above 0 ms")
        }
    }

    /// Whether the Quant above `parentHeight` retargets (and so needs `Parent.windowStart`).
    public func retargets(above parentHeight: UInt64) -> Bool {
        guard let retarget, retarget.window > 0 else { return false }
        return parentHeight > 0 && parentHeight % UInt64(retarget.window) == 0
    }

    public func windowStart(above parentHeight: UInt64) -> UInt64? {
        guard let retarget, retargets(above: parentHeight) else { return nil }
        // `retargets` holds only at positive multiples of the window, so this never underflows.
        return parentHeight - UInt64(retarget.window)
    }

    /// The difficulty the Quant above `parent` must meet. Without retargeting: the Bang's. With it:
    /// the parent's, except above every `window`-th Quant, where one bit is added when the last
    /// window took less than half its target time, and removed (not below 1) when more than twice.
    public func expectedDifficulty(above parent: QuantRules.Parent) -> UInt8 {
        guard let retarget, parent.height > 0 else { return difficultyBits }
        guard retargets(above: parent.height), let start = parent.windowStart else { return parent.difficultyBits }
        let span = parent.timestamp.milliseconds(since: start)
        let target = Int64(retarget.window) * Int64(retarget.targetIntervalMilliseconds)
        // Saturating: `difficultyBits` is a byte read from a header.
        if span < target / 2 { return parent.difficultyBits < Consensus.maxDifficultyBits ? parent.difficultyBits + 1 : Consensus.maxDifficultyBits }
        if span > target * 2, parent.difficultyBits > 1 { return parent.difficultyBits - 1 }
        return parent.difficultyBits
    }

    public func prepare(_ header: QuantHeader, parent: QuantRules.Parent, now: Timestamp, membership: Membership) -> QuantHeader? {
        var prepared = header
        prepared.difficultyBits = expectedDifficulty(above: parent)
        prepared.seal = nil
        return prepared
    }

    public var sealsBySearch: Bool { true }
    public var sealsOncePerParent: Bool { false }

    /// Worker w of n tries nonces w, w + n, …
    public func seal(_ header: QuantHeader, with key: SigningKey, worker: Int, of workers: Int, shouldStop: () -> Bool) -> QuantHeader? {
        ProofOfWork.mine(header, start: UInt64(worker), stride: UInt64(max(1, workers)), shouldStop: shouldStop)
    }

    public func checkProof(_ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Equivocators) throws(RuleError) {
        guard header.seal == nil else { throw RuleError(.badProof, "proof-of-work headers carry no seal") }
        let expected = expectedDifficulty(above: parent)
        guard header.difficultyBits == expected else {
            throw RuleError(.badProof, "difficulty \(header.difficultyBits) is not the \(expected) this height requires")
        }
        guard header.hash.leadingZeroBits >= Int(expected) else {
            throw RuleError(.badProof, "the header hash does not meet difficulty \(expected)")
        }
    }

    /// 2^difficulty expected hashes.
    public func weight(of header: QuantHeader) -> Int64 { Int64(1) << Int64(min(header.difficultyBits, Consensus.maxDifficultyBits)) }

    /// Anyone may mine competing Quants: two at one height prove nothing.
    public func equivocation(_ a: QuantHeader, _ b: QuantHeader) -> Equivocation? { nil }
}

/// Proof-of-work retargeting: every `window` Quants the difficulty moves one bit toward a
/// Quant every `targetIntervalMilliseconds` (documentation/consensus.md).
public struct Retarget: Sendable, Hashable {
    public var targetIntervalMilliseconds: UInt32
    public var window: UInt16

    public init(targetIntervalMilliseconds: UInt32, window: UInt16) {
        self.targetIntervalMilliseconds = targetIntervalMilliseconds
        self.window = window
    }
}

/// Proof of work: searching nonces until the header hash meets the difficulty.
public enum ProofOfWork {
    /// Searches nonces from `start`, stepping by `stride`, until the hash meets the difficulty.
    /// Returns nil when `shouldStop` says so (checked every 4096 attempts).
    public static func mine(
        _ header: QuantHeader, start: UInt64 = 0, stride: UInt64 = 1, shouldStop: () -> Bool = { false }
    ) -> QuantHeader? {
        var candidate = header
        candidate.nonce = start
        var attempts = 0
        while true {
            if candidate.hash.leadingZeroBits >= Int(candidate.difficultyBits) { return candidate }
            candidate.nonce &+= stride
            attempts += 1
            if attempts & 4095 == 0, shouldStop() { return nil }
        }
    }
}
