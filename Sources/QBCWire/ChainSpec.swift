import Foundation
public import QBCCore
import QBCCrypto

/// A chain to create at the first start: what its Bang will say.
public struct ChainSpec: Sendable {
    public var name: String
    /// The consensus engine's name ("pow", "poa") and its numeric parameters (consensus.md);
    /// the engine checks them and supplies defaults.
    public var engine = ProofOfWorkEngine.name
    public var consensus: [String: UInt64]
    /// Public keys with their roles.
    public var members: [(key: String, roles: [String])]
    public var transactionLimits: TransactionLimits
    public var quantLimits: QuantLimits
    /// Who signs the Bang: a key file; nil means the node's own key (which then joins as admin).
    public var creatorKey: String?
    /// The Bang's timestamp; nil means the moment of creation. Fixed in shared configs so every
    /// node derives the same chain id.
    public var timestamp: UInt64?
    /// Payload rules: a required content type and a JSON schema's text (documentation/chains.md, "Payload rules").
    public var contentType: String?
    public var schema: [UInt8]?
    /// Top-level JSON fields that must be locked (documentation/locks.md).
    public var lockedFields: [String] = []
    /// Only readers read the chain's transactions, each read with a proof of key.
    public var readersOnly = false
    /// Distinct admin approvals a membership change needs.
    public var adminQuorum: UInt8 = 1
    public var leap = LeapPolicy.nodeDefault
    /// Set for a fork (filled in by `qbc fork` from the parent chain).
    public var fork: ForkPoint?

    /// The spec of existing rules (a fork's starting point), with `membership` in place of the Bang's.
    public init(rules: ChainRules, membership: Membership) {
        name = rules.name
        engine = rules.consensus.engineName
        consensus = rules.consensus.engine.parameters
        members = membership.sorted.map { ($0.key.hex, $0.roles.names) }
        transactionLimits = rules.transactionLimits
        quantLimits = rules.quantLimits
        contentType = rules.payload.contentType
        schema = rules.payload.schemaText
        lockedFields = rules.payload.lockedFields
        readersOnly = rules.readersOnly
        adminQuorum = rules.adminQuorum
        leap = rules.leap
    }

    public init(
        name: String, difficultyBits: UInt8, members: [(key: String, roles: [String])], transactionLimits: TransactionLimits,
        quantLimits: QuantLimits, creatorKey: String?, timestamp: UInt64?
    ) {
        self.name = name
        consensus = ["difficultyBits": UInt64(difficultyBits)]
        self.members = members
        self.transactionLimits = transactionLimits
        self.quantLimits = quantLimits
        self.creatorKey = creatorKey
        self.timestamp = timestamp
    }

    /// A spec with nothing in it yet, for `qbc bang --spec` files.
    public static let empty = ChainSpec(
        name: "", difficultyBits: 8, members: [], transactionLimits: .standard, quantLimits: .standard, creatorKey: nil, timestamp: nil)

    /// Applies a chain spec object found at `section` ("chain" in a config file) of the file at `path`.
    public mutating func apply(_ object: [String: Any], section: String, path: String) throws(SettingsError) {
        try ChainSpecFile.apply(object, section: section, path: path, to: &self)
    }

    /// Reads a chain spec file: the same fields as a config file's `chain` section (documentation/chains.md).
    public static func read(path: String, onto base: ChainSpec = .empty) throws(SettingsError) -> ChainSpec {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingsError("cannot read chain spec \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SettingsError("chain spec \(path): not a JSON object")
        }
        var spec = base
        try ChainSpecFile.apply(object, section: "", path: path, to: &spec)
        return spec
    }

    /// The built-in development chain: the node's own key is admin, node and authority; the demo
    /// keys of `keys-example/` get their roles (public keys only; they are public anyway).
    public static let development = ChainSpec(
        name: "dev", difficultyBits: 8,
        members: [
            ("f7fdc2532044421feb0a3205494d3c7b517e9b1a88565dbed8c1b3fe97bcf999", ["admin"]),
            ("a0644396b3294a598c2ae958f5eaeffd1aa45f56c7582e70495665ddba97a8c7", ["writer"]),
            ("2abbe9470d77d34e1fd256cfbf3a0fa17278f31e136c42cfd606815d10150d8a", ["writer"]),
            ("3033c03ceb018da65410a754f2a2175ffb447dd85db308f5e6cfa6f3c0660f83", ["reader"]),
            ("13fb207994a537d14ebb012a868fadc72b30fef04ced1ca29847337a809ba2ec", ["node", "authority"]),
            ("31d571054b7aca2428799aea906715866fd9ba7fc3776efd81e450953b50bbb1", ["node", "authority"]),
            ("a2f67bda30289c3aa52b076790cdd502e573d2f2855658643e8b5eb0245d6656", ["node", "authority"]),
        ],
        transactionLimits: .standard, quantLimits: .standard, creatorKey: nil, timestamp: nil)

    /// The chain rules this spec describes, with `extra` members (the node itself) added.
    public func rules(adding extra: [(PublicKey, Role)] = []) throws(SettingsError) -> ChainRules {
        var roles = [PublicKey: Role]()
        for member in members {
            let key: PublicKey
            do { key = try PublicKey(hex: member.key) } catch { throw SettingsError("member key \(member.key) is not 64 hex digits") }
            guard let named = Role(names: member.roles) else {
                throw SettingsError("unknown role in \(member.roles); roles are admin, writer, reader, node, authority")
            }
            roles[key, default: []].formUnion(named)
        }
        for (key, role) in extra { roles[key, default: []].formUnion(role) }
        do throws(RuleError) {
            let rules = ChainRules(
                name: name, consensus: try Consensus(named: engine, parameters: consensus), membership: Membership(roles),
                transactionLimits: transactionLimits, quantLimits: quantLimits,
                payload: try PayloadRules(contentType: contentType, schemaText: schema, lockedFields: lockedFields),
                adminQuorum: adminQuorum, fork: fork, leap: leap, readersOnly: readersOnly)
            try rules.check()
            return rules
        } catch { throw SettingsError("chain \(name): \(error.message)") }
    }
}

/// A configuration problem, reported as one line before the node starts.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
