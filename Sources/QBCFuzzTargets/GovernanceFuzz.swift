import QBCCore
import QBCCrypto

/// `membership-change`: the payload of an `application/vnd.qbc.member` transaction. The first
/// byte picks the chain (even: proof of work, one admin; odd: proof of authority, two admins and
/// a quorum of 2) and whether an admin or the writer sends it (bit 1); the rest is the proposal.
enum GovernanceFuzz {
    @Sendable static func run(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared, let selector = bytes.first else { return }
        let payload = Array(bytes.dropFirst())
        _ = try? MembershipProposal(decoding: payload)
        let bang = f.bang(selector: selector)
        let rules = bang.rules
        let sender = selector & 2 == 0 ? f.admin : f.writer
        let body = Transaction.Body(
            chain: bang.id, sender: sender.publicKey, nonce: Nonce(unchecked: [UInt8](repeating: 0, count: Nonce.byteCount)),
            timestamp: FuzzFixtures.now, contentType: MembershipChange.contentType, payload: payload)
        // Not signed: governance never looks at the transaction's own signature (admission does).
        let tx = Transaction(body: body, signature: Signature(unchecked: [UInt8](repeating: 0, count: Signature.byteCount)))
        let membership = rules.membership
        _ = try? Governance.check(tx, membership: membership, current: membership, rules: rules, chain: bang.id)
        // The same change twice in one Quant: the second must be refused, never applied twice.
        _ = try? Governance.apply([tx, tx], to: membership, rules: rules, chain: bang.id)
        try? rules.payload.check(tx)
    }
}
