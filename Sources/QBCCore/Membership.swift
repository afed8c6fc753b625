public import QBCCrypto

/// What a member may do on a chain. A member can hold several roles.
public struct Role: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Signs membership changes and chain-level actions; may trigger Leaps.
    public static let admin = Role(rawValue: 1 << 0)
    /// May submit transactions.
    public static let writer = Role(rawValue: 1 << 1)
    /// May read locked payloads.
    public static let reader = Role(rawValue: 1 << 2)
    /// May run a node that is admitted to the chain's network.
    public static let node = Role(rawValue: 1 << 3)
    /// May seal Quants under proof of authority; may trigger Leaps.
    public static let authority = Role(rawValue: 1 << 4)

    /// Names in bit order, as used in JSON and config files.
    public static let names: [(String, Role)] = [
        ("admin", .admin), ("writer", .writer), ("reader", .reader), ("node", .node), ("authority", .authority),
    ]

    public init?(name: String) {
        guard let match = Self.names.first(where: { $0.0 == name }) else { return nil }
        self = match.1
    }

    /// Roles from their names; nil when one is unknown.
    public init?(names: [String]) {
        var roles = Role()
        for name in names {
            guard let role = Role(name: name) else { return nil }
            roles.insert(role)
        }
        self = roles
    }

    public var names: [String] { Self.names.filter { contains($0.1) }.map(\.0) }
    public var description: String { names.joined(separator: ",") }
    /// Bits no version of QBC defines yet.
    public static let known: Role = [.admin, .writer, .reader, .node, .authority]
}

/// Who holds which roles on a chain at some height. Sorted by key so encoding is canonical.
public struct Membership: Sendable, Hashable {
    public internal(set) var roles: [PublicKey: Role]
    /// Members' read keys (ristretto255), set by their own registrations; kept when the reader
    /// role goes, but only readers' keys make the key set.
    public internal(set) var readKeys: [PublicKey: RistrettoPoint] = [:]

    public init(_ roles: [PublicKey: Role] = [:]) { self.roles = roles.filter { !$0.value.isEmpty } }

    public func roles(of key: PublicKey) -> Role { roles[key] ?? [] }
    public func holds(_ key: PublicKey, _ role: Role) -> Bool { roles(of: key).isSuperset(of: role) }

    /// Members in byte order of their keys.
    public var sorted: [(key: PublicKey, roles: Role)] {
        roles.map { (key: $0.key, roles: $0.value) }.sorted { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
    }

    public func members(with role: Role) -> [PublicKey] { sorted.filter { $0.roles.contains(role) }.map(\.key) }
}

/// Role checks over a run of transactions. The last 8 senders' roles are remembered and found
/// by comparing keys, not by hashing each key into the members' table: a run holds a handful of
/// senders many times over (one client's stream, or a few clients' interleaved), and the lookups
/// were 3–5% of a Leap (issue 18).
public struct RoleCheck {
    private let membership: Membership
    private var recent = RecentValues<(key: PublicKey, roles: Role)>(capacity: 8)

    public init(_ membership: Membership) { self.membership = membership }

    public mutating func holds(_ key: PublicKey, _ role: Role) -> Bool {
        if let known = recent.first(where: { $0.key == key }) { return known.roles.isSuperset(of: role) }
        let roles = membership.roles(of: key)
        recent.remember((key, roles))
        return roles.isSuperset(of: role)
    }
}

extension Transaction {
    /// The role its sender must hold: admin for a membership change, reader for a read key
    /// registration, writer for anything else.
    public var senderRole: Role {
        switch contentType {
        case MembershipChange.contentType: .admin
        case ReadKeyRegistration.contentType: .reader
        default: .writer
        }
    }
}
