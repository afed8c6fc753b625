public import QBCCrypto

/// A change to a chain's membership, approved by admins (documentation/chains.md, "Membership governance").
///
/// It travels as the payload of an ordinary transaction with content type
/// `application/vnd.qbc.member`, sent by an admin: the change's signing bytes, then each
/// approving admin's key and signature over them. It takes effect when its Quant is committed.
public struct MembershipChange: Sendable, Hashable {
    public enum Action: UInt8, Sendable {
        /// Adds roles to the member (a new member when it held none).
        case grant = 1
        /// Takes roles away (the member is removed when none remain).
        case revoke = 2
    }

    public static let contentType = "application/vnd.qbc.member"

    public let chain: ChainID
    public let action: Action
    public let member: PublicKey
    public let roles: Role
    /// Makes two otherwise equal changes (grant, revoke, grant again) distinct.
    public let nonce: Nonce

    public init(chain: ChainID, action: Action, member: PublicKey, roles: Role, nonce: Nonce) {
        self.chain = chain
        self.action = action
        self.member = member
        self.roles = roles
        self.nonce = nonce
    }

    /// What every approving admin signs. Layout: documentation/protocol.md, "Membership change".
    public var signingBytes: [UInt8] {
        var w = CanonicalWriter(capacity: 110)
        w.tag(.member)
        w.fixed(chain.bytes)
        w.u8(action.rawValue)
        w.fixed(member.bytes)
        w.u8(roles.rawValue)
        w.fixed(nonce.bytes)
        return w.bytes
    }

    /// Each change applies once per chain: a re-sent approval set cannot undo a later change.
    public var id: Hash { Hash.blake2b(signingBytes) }

    /// The member's roles after the change, from `before`.
    public func roles(after before: Role) -> Role {
        switch action {
        case .grant: before.union(roles)
        case .revoke: before.subtracting(roles)
        }
    }
}

/// One admin's approval of a change.
public struct Approval: Sendable, Hashable {
    public let admin: PublicKey
    public let signature: Signature

    public init(admin: PublicKey, signature: Signature) {
        self.admin = admin
        self.signature = signature
    }

    public init(approving change: MembershipChange, with key: SigningKey) {
        admin = key.publicKey
        signature = key.sign(change.signingBytes)
    }
}

/// A change with its approvals: the payload of a membership transaction.
public struct MembershipProposal: Sendable, Hashable {
    public let change: MembershipChange
    public let approvals: [Approval]

    public static let maxApprovals = 64

    public init(change: MembershipChange, approvals: [Approval]) {
        self.change = change
        self.approvals = approvals
    }

    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 110 + 96 * approvals.count)
        w.fixed(change.signingBytes)
        w.u8(UInt8(truncatingIfNeeded: approvals.count))
        for approval in approvals {
            w.fixed(approval.admin.bytes)
            w.fixed(approval.signature.bytes)
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        try r.expect(.member)
        let chain = Hash(unchecked: try r.fixed(32))
        guard let action = MembershipChange.Action(rawValue: try r.u8()) else { throw .wrongTag(expected: "action 1 (grant) or 2 (revoke)") }
        let member = PublicKey(unchecked: try r.fixed(32))
        let roles = Role(rawValue: try r.u8())
        let nonce = Nonce(unchecked: try r.fixed(Nonce.byteCount))
        let count = Int(try r.u8())
        guard count <= Self.maxApprovals else { throw .tooLong(at: r.offset, limit: Self.maxApprovals) }
        var approvals = [Approval]()
        for _ in 0..<count {
            approvals.append(Approval(admin: PublicKey(unchecked: try r.fixed(32)), signature: Signature(unchecked: try r.fixed(64))))
        }
        try r.finish()
        change = MembershipChange(chain: chain, action: action, member: member, roles: roles, nonce: nonce)
        self.approvals = approvals
    }
}

/// A committed membership change, as the store keeps it: who, their roles afterwards, and
/// where it sits in its Quant.
public struct MemberEvent: Sendable, Hashable {
    /// The change's id, or a read key registration's transaction id.
    public let change: Hash
    public let member: PublicKey
    public let roles: Role
    public let position: Int
    /// A read key registration: the member's new read key (roles unchanged).
    public let readKey: RistrettoPoint?

    public init(change: Hash, member: PublicKey, roles: Role, position: Int, readKey: RistrettoPoint? = nil) {
        self.change = change
        self.member = member
        self.roles = roles
        self.position = position
        self.readKey = readKey
    }
}
