import Foundation
import QBCCore
import QBCCrypto
import QBCTestSupport
import QBCWire
import Testing

struct TransactionVector: Decodable, Sendable {
    let seed: String
    let publicKey: String
    let signingBytes: String
    let transaction: TransactionJSON
}

@Suite struct TransactionJSONTests {
    static let vectors: [TransactionVector] =
        (try? Vectors.load([TransactionVector].self, named: "transactions", in: .module)) ?? []

    @Test func protocolVectorsReproduce() throws {
        #expect(Self.vectors.count == 3)
        for vector in Self.vectors {
            var seed = try Hex.decode(vector.seed)
            let key = try SigningKey(seed: SecretBytes(consuming: &seed))
            #expect(key.publicKey.hex == vector.publicKey)
            let parsed = try vector.transaction.transaction(maxPayloadBytes: 1 << 20)
            #expect(Hex.encode(parsed.signingBytes) == vector.signingBytes)
            // Signing the same body again gives the vector's exact signature, id and JSON.
            let resigned = Transaction(signing: parsed.body, with: key)
            #expect(resigned.signature.hex == vector.transaction.signature)
            #expect(resigned.id.hex == vector.transaction.id)
            #expect(TransactionJSON(resigned) == vector.transaction)
            #expect(resigned.hasValidSignature)
        }
    }

    func json(_ mutate: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let tx = Transaction(
            signing: .init(
                chain: .zero, sender: TestKeys.key(1).publicKey, nonce: .random(), timestamp: .init(milliseconds: 5),
                contentType: "application/json", payload: Array("{}".utf8)),
            with: TestKeys.key(1))
        var object = try #require(JSONSerialization.jsonObject(with: Data(WireJSON.encode(TransactionJSON(tx)))) as? [String: Any])
        mutate(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    func parse(_ bytes: [UInt8], limit: Int = 1024) throws(WireError) -> Transaction {
        try WireJSON.decode(TransactionJSON.self, from: bytes, what: "transaction").transaction(maxPayloadBytes: limit)
    }

    @Test func roundTrip() throws {
        let tx = try parse(try json { _ in })
        #expect(tx.hasValidSignature)
    }

    /// Mapping a batch shares the chain and sender of earlier transactions when their hex is
    /// the same: every transaction must still get its own, and a bad one is refused as alone.
    @Test func batchMappingKeepsEachTransactionsOwnChainAndSender() throws {
        let builder = ChainBuilder()
        // Six senders (fewer than it remembers, so later ones are found in it) and runs of one.
        let keys = (10...15).map { TestKeys.key(UInt8($0)) }
        let otherChain = Hash.blake2b(Array("other".utf8))
        let txs = (0..<60).map { index in
            Transaction.make(
                chain: index % 7 == 0 ? otherChain : builder.bang.id, contentType: "text/plain", payload: Array("\(index)".utf8),
                signer: keys[index < 30 ? index % keys.count : (index / 4) % keys.count], at: builder.clock)
        }
        var fields = TransactionJSON.RecentFields()
        for tx in txs {
            let mapped = try TransactionJSON(tx).transaction(maxPayloadBytes: 1024, sharing: &fields)
            #expect(mapped == tx)
            #expect(mapped.sender == tx.sender && mapped.chain == tx.chain)
        }
        var broken = TransactionJSON(txs[1])
        broken.sender = String(broken.sender.dropLast()) + "g"
        #expect(throws: WireError.self) { try broken.transaction(maxPayloadBytes: 1024, sharing: &fields) }
        #expect(try TransactionJSON(txs[1]).transaction(maxPayloadBytes: 1024, sharing: &fields) == txs[1])
    }

    @Test func malformedInputGetsNamedErrors() throws {
        let cases: [((inout [String: Any]) -> Void, WireError)] = [
            ({ $0["color"] = "red" }, .malformed("unknown field \"color\" in transaction")),
            ({ $0.removeValue(forKey: "nonce") }, .malformed("transaction is missing the field \"nonce\"")),
            ({ $0["timestamp"] = "soon" }, .malformed("transaction field \"timestamp\" has the wrong type")),
            ({ $0["sender"] = "xyz" }, .malformed("sender must be 64 hex digits (32 bytes)")),
            ({ $0["signature"] = "00" }, .malformed("signature must be 128 hex digits (64 bytes)")),
            ({ $0["payload"] = "not base64!" }, .malformed("payload must be standard base64 (with padding)")),
            ({ $0["id"] = String(repeating: "0", count: 64) }, .malformed(
                "id 0000000000000000000000000000000000000000000000000000000000000000 does not match the transaction's content (expected ")),
        ]
        for (mutate, expected) in cases {
            let input = try json(mutate)
            do throws(WireError) {
                _ = try parse(input)
                Issue.record("accepted: \(expected)")
            } catch {
                #expect(error.description.hasPrefix(expected.description))
            }
        }
        #expect(throws: WireError.malformed("transaction is not valid JSON")) { try parse(Array("{nope".utf8)) }
        let negative = try json { $0["timestamp"] = -5 }
        do throws(WireError) {
            _ = try parse(negative)
            Issue.record("a negative timestamp was accepted")
        } catch {
            #expect(error.description.contains("-5"), "\(error)")
            #expect(!error.description.contains("not valid JSON"), "\(error)")
        }
        // Numbers JSON allows but a timestamp cannot be: Foundation called them "not valid JSON".
        for value: Any in [UInt64.max, 1.5, 1e30] {
            let input = try json { $0["timestamp"] = value }
            do throws(WireError) {
                _ = try parse(input)
                Issue.record("the timestamp \(value) was accepted")
            } catch {
                #expect(error.description.contains("timestamp must be a whole number of milliseconds"), "\(value): \(error)")
            }
        }
    }

    @Test func oversizePayloadIsTooLarge() throws {
        let big = try json { $0["payload"] = Base64.encode([UInt8](repeating: 1, count: 2000)) }
        #expect(throws: WireError.tooLarge("payload is larger than 1024 bytes")) { try parse(big) }
        let edge = try json { $0["payload"] = Base64.encode([UInt8](repeating: 1, count: 1025)) }
        #expect(throws: WireError.tooLarge("payload is 1025 bytes; the limit is 1024")) { try parse(edge) }
    }

    @Test func tamperedJSONFailsSignature() throws {
        let tampered = try parse(try json { $0["payload"] = Base64.encode(Array("[]".utf8)); $0.removeValue(forKey: "id") })
        #expect(!tampered.hasValidSignature)
    }
}
