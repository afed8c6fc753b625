public import QBCCore
import QBCCrypto

/// `POST /chains` and `POST /peer/bangs`: a signed Bang in its canonical bytes, as hex.
public struct BangSubmissionJSON: Codable, Sendable {
    public let bang: String

    public init(_ bang: Bang) { self.bang = Hex.encode(bang.encoded) }
    public init(bang: String) { self.bang = bang }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["bang"], in: "Bang submission")
        bang = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .bang)
    }

    enum CodingKeys: String, CodingKey { case bang }

    /// Decodes the bytes; the rules are checked by whoever adopts it.
    public func decoded() throws(WireError) -> Bang {
        guard bang.utf8.count <= 2 * Self.maxBangBytes else { throw .tooLarge("a Bang is at most \(Self.maxBangBytes) bytes") }
        let bytes: [UInt8]
        do { bytes = try Hex.decode(bang) } catch { throw .malformed("bang must be the hex of the Bang's bytes (documentation/protocol.md, \"Bang\")") }
        do { return try Bang(decoding: bytes) } catch { throw .malformed("bang: \(error.message)") }
    }

    /// 10,000 members, a 64 KiB schema and the fixed fields, with room to spare.
    public static let maxBangBytes = 512 * 1024
}

/// `GET /chains/{id}/bang`: the Bang decoded for reading, and its bytes for checking.
public struct BangJSON: Codable, Sendable {
    public let id: String
    public let name: String
    public let creator: String
    public let timestamp: UInt64
    public let engine: String
    public let adminQuorum: UInt8
    public let contentType: String?
    public let schema: String?
    public let fork: ForkJSON?
    public let members: [MemberJSON]
    /// The canonical bytes, hex: hash them to get `id`, verify `creator`'s signature over them.
    public let encoded: String

    public init(_ bang: Bang) {
        id = bang.id.hex
        name = bang.rules.name
        creator = bang.creator.hex
        timestamp = bang.timestamp.milliseconds
        engine = bang.rules.consensus.engineName
        adminQuorum = bang.rules.adminQuorum
        contentType = bang.rules.payload.contentType
        schema = bang.rules.payload.schemaText.map { String(decoding: $0, as: UTF8.self) }
        fork = bang.rules.fork.map(ForkJSON.init)
        members = MemberJSON.list(bang.rules.membership)
        encoded = Hex.encode(bang.encoded)
    }
}

/// Where a fork leaves its parent.
public struct ForkJSON: Codable, Sendable, Equatable {
    public let parent: String
    public let height: UInt64
    public let hash: String

    public init(_ fork: ForkPoint) {
        parent = fork.parent.hex
        height = fork.height
        hash = fork.hash.hex
    }
}

/// One member and its role names.
public struct MemberJSON: Codable, Sendable, Equatable {
    public let key: String
    public let roles: [String]

    public init(key: String, roles: [String]) {
        self.key = key
        self.roles = roles
    }

    public static func list(_ membership: Membership) -> [MemberJSON] {
        membership.sorted.map { MemberJSON(key: $0.key.hex, roles: $0.roles.names) }
    }
}

/// `GET /chains/{id}/members?height=N`: the membership in force after the Quant at `height`.
public struct MembersJSON: Codable, Sendable {
    public let chain: String
    public let height: UInt64
    public let adminQuorum: UInt8
    public let members: [MemberJSON]

    public init(chain: ChainID, height: UInt64, adminQuorum: UInt8, membership: Membership) {
        self.chain = chain.hex
        self.height = height
        self.adminQuorum = adminQuorum
        members = MemberJSON.list(membership)
    }
}

/// The answer to `POST /chains`.
public struct ChainCreatedJSON: Codable, Sendable {
    public let chain: String
    public let name: String
    /// "created" or "exists".
    public let status: String

    public init(chain: String, name: String, status: String) {
        self.chain = chain
        self.name = name
        self.status = status
    }
}

/// `GET /chains/{id}/challenge`: a nonce to sign for one read (documentation/locks.md).
public struct ChallengeJSON: Codable, Sendable {
    public let chain: String
    public let nonce: String
    /// Milliseconds since the epoch after which the nonce is refused.
    public let expires: UInt64

    public init(chain: String, nonce: String, expires: UInt64) {
        self.chain = chain
        self.nonce = nonce
        self.expires = expires
    }
}
