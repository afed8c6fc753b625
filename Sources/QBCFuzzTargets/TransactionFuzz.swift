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
            // Decoding is canonical, and the id hashed from the bytes read is the signing bytes' hash.
            precondition(tx.encoded == bytes, "a decoded transaction encodes to other bytes")
            precondition(tx.id == Hash.blake2b(tx.signingBytes), "the id hashed while decoding differs")
            check(tx, f)
        }
    }

    /// `tx-batch`: a binary batch of up to 10,000 transactions, each checked.
    @Sendable static func batch(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared,
            let transactions = try? Transaction.decodeBatch(bytes, limits: .standard, maxCount: 10_000)
        else { return }
        // A field shared wrongly across the batch would encode to other bytes.
        precondition(Transaction.encodeBatch(transactions) == bytes, "a decoded batch encodes to other bytes")
        for tx in transactions {
            let alone = try? Transaction(decoding: tx.encoded, limits: .standard)
            precondition(alone?.id == tx.id, "an id hashed while decoding a batch differs from the transaction's own")
            check(tx, f)
        }
    }

    /// `tx-json`: one JSON transaction, or an array of them, mapped to the core type and checked.
    @Sendable static func json(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        // The plain reader must read exactly what Foundation reads wherever it reads anything.
        if let plain = TransactionJSON.plainList(bytes) {
            precondition((try? WireJSON.decode([TransactionJSON].self, from: bytes, what: "transactions")) == plain, "plain reading differs")
        }
        // Arrays read one element at a time (D75) read exactly as Foundation reads the whole array.
        if bytes.count <= 64 * 1024 {
            let whole = try? WireJSON.decode([EachDecoded<TransactionJSON>].self, from: bytes, what: "transaction list")
            let alone = try? TransactionJSON.list(from: bytes, maxCount: .max)
            precondition(alone?.map(\.value) == whole?.map(\.value), "element-wise reading differs")
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
            var fields = TransactionJSON.RecentFields()
            for json in list {
                let shared = try? json.transaction(maxPayloadBytes: max, sharing: &fields)
                let alone = try? json.transaction(maxPayloadBytes: max)
                // Sharing decoded chains and senders changes no verdict and no field.
                precondition(shared?.body == alone?.body && shared?.id == alone?.id, "a batch's mapping differs from the mapping alone")
                guard let tx = shared else { continue }
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
