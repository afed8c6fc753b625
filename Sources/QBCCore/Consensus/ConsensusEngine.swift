public import QBCCrypto

/// Everything that differs between consensus engines: their parameters in a Bang, how a header
/// is prepared, sealed and checked, what it weighs, and what proves misbehaviour. Pure and
/// deterministic: time and state are passed in.
///
/// An engine is one type conforming to this protocol plus one line in `ConsensusEngines.registered`;
/// no other code looks at which engine a chain runs.
public protocol ConsensusEngine: Sendable {
    /// The engine's number in a Bang's bytes (protocol.md, "Bang").
    static var code: UInt8 { get }
    /// The engine's name in JSON, config files and `/stats`.
    static var name: String { get }
    /// The numeric parameters a config file or spec may set (`chain.consensus`).
    static var parameterNames: [String] { get }

    /// Builds the engine from named parameters; missing ones take their defaults.
    init(parameters: [String: UInt64]) throws(RuleError)
    /// The parameters, as `init(parameters:)` reads them.
    var parameters: [String: UInt64] { get }
    /// Reads the parameters that follow the engine's code in a Bang.
    init(reading r: inout CanonicalReader) throws(CanonicalReader.DecodingError)
    func write(to w: inout CanonicalWriter)

    /// Checks the parameters and what the engine needs of a membership (at the Bang and after
    /// every change).
    func check(_ membership: Membership) throws(RuleError)
    /// The difficulty a chain reports (0 for engines without work).
    var difficultyBits: UInt8 { get }

    /// The height of an older Quant whose timestamp checking the Quant above `parentHeight` needs
    /// (a retarget window's start), or nil.
    func windowStart(above parentHeight: UInt64) -> UInt64?
    /// The header `header.proposer` would seal now, with the engine's fields set, or nil when it
    /// may not propose at this height yet.
    func prepare(_ header: QuantHeader, parent: QuantRules.Parent, now: Timestamp, membership: Membership) -> QuantHeader?
    /// True when sealing is a search worth spreading over every core.
    var sealsBySearch: Bool { get }
    /// True when a proposer must never seal two different headers on one parent (a second one
    /// is evidence against it): a node then remembers every parent it sealed on, across fork
    /// switches and restarts, and never seals on one of them again.
    var sealsOncePerParent: Bool { get }
    /// Seals a prepared header as worker `worker` of `workers`; nil when `shouldStop` says so first
    /// (or when this worker has nothing to do).
    func seal(_ header: QuantHeader, with key: SigningKey, worker: Int, of workers: Int, shouldStop: () -> Bool) -> QuantHeader?
    /// Checks the header's proof (work or seal, turn and timing) against its parent.
    func checkProof(_ header: QuantHeader, parent: QuantRules.Parent, membership: Membership, banned: Equivocators) throws(RuleError)
    /// The weight a checked header adds to its chain, for fork choice.
    func weight(of header: QuantHeader) -> Int64
    /// Evidence that two headers on one parent break the engine's rules together (one
    /// authority sealing both), or nil.
    func equivocation(_ a: QuantHeader, _ b: QuantHeader) -> Equivocation?

    /// True when a committed Quant can never be replaced (BFT): fork choice never goes below one.
    var commitsAreFinal: Bool { get }
    /// Checks the proof of finality a Quant carries, against the membership after its parent.
    /// Engines without one refuse any certificate.
    func checkCertificate(_ certificate: CommitCertificate?, of header: QuantHeader, hash: Hash, membership: Membership) throws(RuleError)
}

extension ConsensusEngine {
    public var commitsAreFinal: Bool { false }

    public func checkCertificate(_ certificate: CommitCertificate?, of header: QuantHeader, hash: Hash, membership: Membership) throws(RuleError) {
        guard certificate == nil else {
            throw RuleError(.badCertificate, "a Quant of a \(Self.name) chain carries no commit certificate")
        }
    }
}

/// The engines a node knows, by their code in a Bang and their name in JSON.
public enum ConsensusEngines {
    public static let registered: [any ConsensusEngine.Type] = [ProofOfWorkEngine.self, ProofOfAuthorityEngine.self, BFTEngine.self]

    public static func named(_ name: String) -> (any ConsensusEngine.Type)? { registered.first { $0.name == name } }

    /// Every parameter name of every engine, for config-file checks.
    public static var parameterNames: Set<String> {
        var names = Set<String>()
        for engine in registered { names.formUnion(engine.parameterNames) }
        return names
    }
}

/// A chain's consensus: one engine with its parameters. Equal when their Bang bytes are equal.
public struct Consensus: Sendable, Hashable {
    public let engine: any ConsensusEngine

    public init(_ engine: some ConsensusEngine) { self.engine = engine }

    /// The engine named `name` with `parameters` (from a config file or spec).
    public init(named name: String, parameters: [String: UInt64]) throws(RuleError) {
        guard let type = ConsensusEngines.named(name) else {
            let known = ConsensusEngines.registered.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw RuleError(.invalidBang, "consensus engine \"\(name)\" is not supported; use one of \(known)")
        }
        engine = try type.init(parameters: parameters)
    }

    public static func proofOfWork(difficultyBits: UInt8, retarget: Retarget? = nil) -> Consensus {
        Consensus(ProofOfWorkEngine(difficultyBits: difficultyBits, retarget: retarget))
    }

    public static func proofOfAuthority(outOfTurnDelayMilliseconds: UInt32) -> Consensus {
        Consensus(ProofOfAuthorityEngine(outOfTurnDelayMilliseconds: outOfTurnDelayMilliseconds))
    }

    public static func bft(_ engine: BFTEngine = BFTEngine()) -> Consensus { Consensus(engine) }

    public var engineName: String { type(of: engine).name }

    /// The engine's code and parameters, as they appear in the Bang.
    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 16)
        write(to: &w)
        return w.bytes
    }

    func write(to w: inout CanonicalWriter) {
        w.u8(type(of: engine).code)
        engine.write(to: &w)
    }

    init(reading r: inout CanonicalReader) throws(CanonicalReader.DecodingError) {
        let code = try r.u8()
        guard let type = ConsensusEngines.registered.first(where: { $0.code == code }) else {
            let known = ConsensusEngines.registered.map { "\($0.code) (\($0.name))" }.joined(separator: ", ")
            throw .wrongTag(expected: "consensus engine \(known)")
        }
        engine = try type.init(reading: &r)
    }

    public static func == (a: Consensus, b: Consensus) -> Bool { a.encoded == b.encoded }
    public func hash(into hasher: inout Hasher) { hasher.combine(encoded) }

    /// The largest difficulty a Bang may set: keeps cumulative work inside a signed 64-bit integer
    /// for 2^23 Quants, and is far beyond what a CPU mines anyway.
    public static let maxDifficultyBits: UInt8 = 40
}

/// Authorities caught sealing two Quants on one parent, each with the lowest such height known:
/// their Quants above it are refused (consensus.md, "Equivocation").
public typealias Equivocators = [PublicKey: UInt64]

extension Equivocators {
    /// True when `header` is by an equivocator and above the height it equivocated at.
    public func refuses(_ header: QuantHeader) -> Bool {
        guard let height = self[header.proposer] else { return false }
        return header.height > height
    }

    /// True when `evidence` would change nothing: its authority is known at that height or lower.
    public func knows(_ evidence: Equivocation) -> Bool {
        self[evidence.proposer].map { $0 <= evidence.height } ?? false
    }

    /// Records `evidence`, keeping the lowest height per authority; true when that changed anything.
    @discardableResult
    public mutating func record(_ evidence: Equivocation) -> Bool {
        if let known = self[evidence.proposer], known <= evidence.height { return false }
        self[evidence.proposer] = evidence.height
        return true
    }
}
