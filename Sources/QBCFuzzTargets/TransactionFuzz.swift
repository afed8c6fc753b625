import QBCCore
import QBCCrypto
import QBCWire

/// Transactions from outside: the binary form (`POST /inject` with the binary content type, the
/// store), binary batches, and the JSON form and its array.
enum TransactionFuzz {
    /// `tx-binary`: one binary transaction, under the standard limits and the absolute ceiling.
    @Sendable static func binary(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        for limits in [TransactionLimits.standard, FuzzFixtures.ceiling] {
            guard let tx = try? Transaction(decoding: bytes, limits: limits) else { continue }
            check(tx, f)
        }
    }

    /// `tx-batch`: a binary batch of up to 10,000 transactions, each checked.
    @Sendable static func batch(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared,
            let transactions = try? Transaction.decodeBatch(bytes, limits: .standard, maxCount: 10_000)
        else { return }
        for tx in transactions { check(tx, f) }
    }

    /// `tx-json`: one JSON transaction, or an array of them, mapped to the core type and checked.
    @Sendable static func json(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        // The plain reader must read exactly what Foundation reads wherever it reads anything.
        if let plain = TransactionJSON.plainList(bytes) {
            precondition((try? WireJSON.decode([TransactionJSON].self, from: bytes, what: "transactions")) == plain, "plain reading differs")
        }
        if PlainJSON.isPlainlyValid(bytes) {
            precondition(JSONValue.parse(bytes) != nil, "plainly valid JSON that Foundation refuses")
        }
        let max = TransactionLimits.standard.maxPayloadBytes
        if let json = try? WireJSON.decode(TransactionJSON.self, from: bytes, what: "transaction"),
            let tx = try? json.transaction(maxPayloadBytes: max)
        {
            check(tx, f)
        }
        if let list = try? WireJSON.decode([TransactionJSON].self, from: bytes, what: "transactions") {
            for json in list {
                guard let tx = try? json.transaction(maxPayloadBytes: max) else { continue }
                check(tx, f)
            }
        }
    }

    /// Every context-free rule a node applies to a transaction before admitting it.
    static func check(_ tx: Transaction, _ f: FuzzFixtures) {
        try? TransactionRules.checkStructure(tx, limits: .standard, now: FuzzFixtures.now)
        try? TransactionRules.checkStructure(tx, limits: FuzzFixtures.ceiling, now: FuzzFixtures.now)
        try? TransactionRules.checkSignature(tx)
        try? PayloadRules.none.check(tx)
        try? f.schemaRules.check(tx)
        try? f.lockedRules.check(tx)
        _ = tx.encodedSize
    }
}
