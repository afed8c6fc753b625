import Foundation
import QBCCore
import QBCCrypto
import QBCWire

/// Quants from peers: the JSON form pushed and synced between nodes, and bare headers (fork
/// search, equivocation evidence).
enum QuantFuzz {
    /// `quant-json`: the first byte picks the chain (bit 0: proof of work or authority) and the
    /// parent (bit 1: the Bang, or one made up from the header, so that retargeting and
    /// out-of-turn timing are reached); the rest is a `QuantJSON`.
    @Sendable static func json(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared, let selector = bytes.first else { return }
        let bang = f.bang(selector: selector)
        let rules = bang.rules
        guard let json = try? WireJSON.decode(QuantJSON.self, from: Array(bytes.dropFirst()), what: "Quant"),
            let quant = try? json.quant(maxPayloadBytes: rules.transactionLimits.maxPayloadBytes)
        else { return }
        let header = quant.header
        let parent: QuantRules.Parent
        if selector & 2 == 0 || header.height == 0 {
            parent = QuantRules.Parent(
                height: 0, hash: bang.id, timestamp: bang.timestamp, difficultyBits: rules.consensus.engine.difficultyBits)
        } else {
            let below = header.height - 1
            let window = rules.consensus.engine.windowStart(above: below)
            parent = QuantRules.Parent(
                height: below, hash: header.previous, timestamp: Timestamp(milliseconds: header.timestamp.milliseconds / 2),
                difficultyBits: header.difficultyBits, windowStart: window.map { Timestamp(milliseconds: $0) })
        }
        try? QuantRules.checkHeader(
            header, parent: parent, chain: bang.id, rules: rules, now: FuzzFixtures.now,
            banned: [header.proposer: header.height / 2])
        try? QuantRules.checkHeader(header, parent: parent, chain: bang.id, rules: rules, now: FuzzFixtures.now)
        _ = try? QuantRules.checkBody(quant, rules: rules, membership: rules.membership)
        for tx in quant.transactions { try? TransactionRules.checkSignature(tx) }
        _ = rules.consensus.engine.weight(of: header)
    }

    /// `quant-header`: the whole input as one stored header, then two headers split at the offset
    /// the first two bytes give, as equivocation evidence both directly and through its JSON form.
    @Sendable static func header(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        if let whole = try? QuantHeader(decoding: bytes) { weigh(whole, f) }
        var input = FuzzInput(bytes)
        let split = Int(input.integer(2))
        let a = input.take(split)
        let b = input.remaining()
        if let headerA = try? QuantHeader(decoding: a), let headerB = try? QuantHeader(decoding: b) {
            weigh(headerA, f)
            weigh(headerB, f)
            if let evidence = Equivocation(headerA, headerB) {
                var banned = Equivocators()
                banned.record(evidence)
                _ = banned.refuses(headerA)
            }
        }
        let json = #"{"first":"\#(Hex.encode(a))","second":"\#(Hex.encode(b))"}"#
        _ = (try? WireJSON.decode(EquivocationJSON.self, from: Array(json.utf8), what: "evidence"))?.evidence()
        _ = (try? WireJSON.decode(EquivocationJSON.self, from: bytes, what: "evidence"))?.evidence()
    }

    /// What a node computes from a header before it knows the header is valid.
    private static func weigh(_ header: QuantHeader, _ f: FuzzFixtures) {
        for bang in [f.powBang, f.poaBang] {
            let engine = bang.rules.consensus.engine
            _ = engine.weight(of: header)
            _ = engine.equivocation(header, header)
        }
        _ = header.encoded
        _ = header.hash
    }
}
