import QBCCrypto

/// The rules of on-chain membership (documentation/chains.md, "Membership governance"). Pure: the node supplies the
/// membership in force and which change ids the chain has already applied.
public enum Governance {
    /// Checks a membership transaction against `membership` (the parent Quant's) and returns the
    /// change it carries. `current` is the membership the change lands on (differs from
    /// `membership` when earlier changes in the same Quant came first).
    public static func check(
        _ tx: Transaction, membership: Membership, current: Membership, rules: ChainRules, chain: ChainID
    ) throws(RuleError) -> MembershipChange {
        let proposal: MembershipProposal
        do { proposal = try MembershipProposal(decoding: tx.payload) } catch {
            throw RuleError(.invalidPayload, "membership change payload: \(error) (documentation/protocol.md, \"Membership change\")")
        }
        let change = proposal.change
        guard change.chain == chain else { throw RuleError(.wrongChain, "the membership change is for chain \(change.chain.hex)") }
        guard membership.holds(tx.sender, .admin) else {
            throw RuleError(.notAuthorized, "membership changes are sent by admins; \(tx.sender.hex) is not one")
        }
        guard !change.roles.isEmpty, change.roles.isSubset(of: .known) else {
            throw RuleError(.invalidPayload, "the change must name at least one known role")
        }
        var approvers = Set<PublicKey>()
        let bytes = change.signingBytes
        for approval in proposal.approvals {
            guard membership.holds(approval.admin, .admin) else {
                throw RuleError(.notAuthorized, "approval by \(approval.admin.hex), who is not an admin")
            }
            guard approval.admin.verify(approval.signature, over: bytes) else {
                throw RuleError(.badSignature, "the approval by \(approval.admin.hex) does not verify over the qbc/member/v1 bytes")
            }
            approvers.insert(approval.admin)
        }
        let quorum = Int(rules.adminQuorum)
        guard approvers.count >= quorum else {
            throw RuleError(.notAuthorized, "the change has \(approvers.count) distinct admin approvals; this chain needs \(quorum)")
        }
        let before = current.roles(of: change.member)
        let after = change.roles(after: before)
        guard after != before else {
            throw RuleError(.invalidPayload, "the change would not alter \(change.member.hex)'s roles (\(before))")
        }
        var next = current
        next.set(change.member, after)
        guard next.members(with: .admin).count >= quorum else {
            throw RuleError(.invalidPayload, "the change would leave fewer admins than the quorum of \(quorum)")
        }
        do throws(RuleError) { try rules.consensus.engine.check(next) } catch {
            throw RuleError(.invalidPayload, "the change would break the chain's consensus: \(error.message)")
        }
        return change
    }

    /// Applies every membership change of a Quant's transactions in order, each checked against
    /// the parent's membership for who may act, and the running result for its effect.
    public static func apply(
        _ transactions: [Transaction], to membership: Membership, rules: ChainRules, chain: ChainID
    ) throws(RuleError) -> (membership: Membership, events: [MemberEvent]) {
        var current = membership
        var events = [MemberEvent]()
        var seen = Set<Hash>()
        for (position, tx) in transactions.enumerated() {
            if tx.contentType == ReadKeyRegistration.contentType {
                // Who may send it (a reader, by the parent's membership) is checked with every sender's role.
                let registration = try ReadKeyRegistration.checked(tx)
                current.readKeys[tx.sender] = registration.key
                events.append(MemberEvent(
                    change: tx.id, member: tx.sender, roles: current.roles(of: tx.sender), position: position, readKey: registration.key))
                continue
            }
            guard tx.contentType == MembershipChange.contentType else { continue }
            let change = try check(tx, membership: membership, current: current, rules: rules, chain: chain)
            guard seen.insert(change.id).inserted else {
                throw RuleError(.duplicateInQuant, "membership change \(change.id.hex) appears twice")
            }
            let roles = change.roles(after: current.roles(of: change.member))
            current.set(change.member, roles)
            events.append(MemberEvent(change: change.id, member: change.member, roles: roles, position: position))
        }
        return (current, events)
    }
}

extension Membership {
    /// Sets a member's roles; no roles removes the member.
    public mutating func set(_ key: PublicKey, _ roles: Role) {
        self.roles[key] = roles.isEmpty ? nil : roles
    }

    /// The membership after committed events, in order.
    public func applying(_ events: [MemberEvent]) -> Membership {
        var result = self
        for event in events {
            result.set(event.member, event.roles)
            if let key = event.readKey { result.readKeys[event.member] = key }
        }
        return result
    }
}
