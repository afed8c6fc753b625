public import QBCCore
public import QBCCrypto

/// The fixed world every fuzz target checks against: deterministic keys, a proof-of-work and a
/// proof-of-authority chain, payload rules with a schema and with locked fields, and a fixed
/// clock. Public so that the seed corpus (Tests/QBCFuzzTests/CorpusWriter.swift) is made for
/// exactly these chains and gets past their outer checks.
///
/// Built once. Failable instead of trapping: a key seed of the right length always makes a key,
/// but the harness must hold no `try!`; a target with no fixtures does nothing, and the test
/// suite checks that they exist.
public struct FuzzFixtures: Sendable {
    public static let shared: FuzzFixtures? = FuzzFixtures()

    /// The fuzzers' clock: what every freshness and timestamp window is measured against.
    public static let now = Timestamp(milliseconds: 1_800_000_000_000)
    /// Both chains' Bangs are a minute older than `now`.
    public static let bangTime = Timestamp(milliseconds: 1_800_000_000_000 - 60_000)
    /// The proof-of-work chain's difficulty: low, so that the seed Quants mine in microseconds.
    public static let difficultyBits: UInt8 = 4

    public let admin: SigningKey
    /// A second admin, on the proof-of-authority chain only (its quorum is 2).
    public let admin2: SigningKey
    public let writer: SigningKey
    public let reader: SigningKey
    /// Node keys; authorities too on the proof-of-authority chain.
    public let nodes: [SigningKey]

    public let powBang: Bang
    public let poaBang: Bang
    /// `application/json` with a small schema (every keyword kind, a pattern included).
    public let schemaRules: PayloadRules
    /// `application/json` whose fields `pin` and `secret` must be lock envelopes.
    public let lockedRules: PayloadRules

    public static let schemaText = """
        {"type":"object","required":["temperature"],"additionalProperties":false,\
        "properties":{"temperature":{"type":"number","minimum":-50,"maximum":60},\
        "unit":{"enum":["C","F"]},"id":{"type":"string","pattern":"^[a-z0-9-]+$","minLength":1,"maxLength":16},\
        "count":{"type":"integer"},"tags":{"type":"array","items":{"type":"string","maxLength":8}},\
        "meta":{"type":["object","null"],"additionalProperties":{"type":"boolean"}}}}
        """
    public static let lockedFields = ["pin", "secret"]

    /// Deterministic test key: the seed is 32 copies of one byte (as `TestKeys` in the tests).
    public static func key(_ byte: UInt8) -> SigningKey? {
        var seed = [UInt8](repeating: byte, count: SigningKey.seedByteCount)
        return try? SigningKey(seed: SecretBytes(consuming: &seed))
    }

    init?() {
        guard let admin = Self.key(1), let writer = Self.key(2), let n3 = Self.key(3), let n4 = Self.key(4),
            let n5 = Self.key(5), let admin2 = Self.key(6), let reader = Self.key(7)
        else { return nil }
        (self.admin, self.admin2, self.writer, self.reader, nodes) = (admin, admin2, writer, reader, [n3, n4, n5])

        var powMembers: [PublicKey: Role] = [admin.publicKey: .admin, writer.publicKey: .writer, reader.publicKey: .reader]
        var poaMembers: [PublicKey: Role] = [
            admin.publicKey: .admin, admin2.publicKey: .admin, writer.publicKey: .writer, reader.publicKey: .reader,
        ]
        for node in nodes {
            powMembers[node.publicKey] = .node
            poaMembers[node.publicKey] = [.node, .authority]
        }
        let pow = ChainRules(
            name: "fuzz-pow",
            consensus: .proofOfWork(
                difficultyBits: Self.difficultyBits, retarget: Retarget(targetIntervalMilliseconds: 1000, window: 4)),
            membership: Membership(powMembers))
        let poa = ChainRules(
            name: "fuzz-poa", consensus: .proofOfAuthority(outOfTurnDelayMilliseconds: 1000),
            membership: Membership(poaMembers), adminQuorum: 2, readersOnly: true)
        powBang = Bang(rules: pow, timestamp: Self.bangTime, creator: admin)
        poaBang = Bang(rules: poa, timestamp: Self.bangTime, creator: admin)
        guard let schema = try? PayloadRules(contentType: "application/json", schemaText: Array(Self.schemaText.utf8)),
            let locked = try? PayloadRules(contentType: "application/json", schemaText: nil, lockedFields: Self.lockedFields)
        else { return nil }
        (schemaRules, lockedRules) = (schema, locked)
    }

    /// The chain a target checks against: proof of work for an even selector, authority for an odd one.
    public func bang(selector: UInt8) -> Bang { selector & 1 == 0 ? powBang : poaBang }

    /// The limits at the top of every range a Bang may set: what the most permissive chain accepts.
    public static let ceiling = TransactionLimits(
        maxPayloadBytes: TransactionLimits.absoluteMaxPayloadBytes,
        maxAgeMilliseconds: TransactionLimits.absoluteMaxWindowMilliseconds,
        maxFutureMilliseconds: TransactionLimits.absoluteMaxWindowMilliseconds)
}
