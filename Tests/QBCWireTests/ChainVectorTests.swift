import Foundation
import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

/// documentation/protocol.md, "Bang" and "Membership change": a Bang, a fork Bang and a
/// membership change, every byte reproduced from the seeds (and by `qbc_client.py chain-vectors`).
struct ChainVectors: Codable {
    struct Signed: Codable {
        let signingBytes: String
        let id: String
        let signature: String
    }
    struct Change: Codable {
        let signingBytes: String
        let id: String
        let payload: String
    }
    let seeds: [String]
    let keys: [String]
    let bang: Signed
    let fork: Signed
    let change: Change
}

@Suite struct ChainVectorTests {
    static func build() throws -> ChainVectors {
        let keys = try (0x21...0x24).map { byte -> SigningKey in
            var seed = [UInt8](repeating: UInt8(byte), count: 32)
            return try SigningKey(seed: SecretBytes(consuming: &seed))
        }
        let (admin, writer, authority, reader) = (keys[0], keys[1], keys[2], keys[3])
        let members = Membership([
            admin.publicKey: .admin, writer.publicKey: .writer, authority.publicKey: [.node, .authority], reader.publicKey: .reader,
        ])
        let schema = Array(#"{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}"#.utf8)
        let rules = ChainRules(
            name: "orders", consensus: Consensus(ProofOfAuthorityEngine(outOfTurnDelayMilliseconds: 1000)), membership: members,
            transactionLimits: TransactionLimits(maxPayloadBytes: 4096, maxAgeMilliseconds: 600_000, maxFutureMilliseconds: 120_000),
            quantLimits: QuantLimits(maxTransactions: 10_000, maxBytes: 33_554_432, maxFutureMilliseconds: 120_000),
            payload: try PayloadRules(contentType: "application/json", schemaText: schema, lockedFields: ["price"]),
            adminQuorum: 1, leap: LeapPolicy(intervalMilliseconds: 500, threshold: 1000), readersOnly: true)
        let bang = Bang(rules: rules, timestamp: Timestamp(milliseconds: 1_764_115_200_000), creator: admin)
        var forked = rules
        forked.name = "orders-b"
        forked.fork = ForkPoint(parent: bang.id, height: 0, hash: bang.id)
        forked.payload = .none
        forked.readersOnly = false
        let fork = Bang(rules: forked, timestamp: Timestamp(milliseconds: 1_764_115_260_000), creator: admin)
        let change = MembershipChange(
            chain: bang.id, action: .grant, member: reader.publicKey, roles: .writer, nonce: try Nonce(bytes: [UInt8](repeating: 0x5a, count: 16)))
        let proposal = MembershipProposal(change: change, approvals: [Approval(approving: change, with: admin)])
        func signed(_ bang: Bang) -> ChainVectors.Signed {
            ChainVectors.Signed(signingBytes: Hex.encode(bang.signingBytes), id: bang.id.hex, signature: Hex.encode(Array(bang.encoded.suffix(64))))
        }
        return ChainVectors(
            seeds: (0x21...0x24).map { Hex.encode([UInt8](repeating: UInt8($0), count: 32)) }, keys: keys.map(\.publicKey.hex),
            bang: signed(bang), fork: signed(fork),
            change: .init(signingBytes: Hex.encode(change.signingBytes), id: change.id.hex, payload: Hex.encode(proposal.encoded)))
    }

    @Test func bangForkAndMembershipChangeReproduce() throws {
        let built = try Self.build()
        let (stored, same) = try Vectors.stored(matching: built, named: "chains", in: .module)
        #expect(same, "the code no longer makes the stored chains vectors")
        // The stored bytes decode and check as documented.
        for vector in [stored.bang, stored.fork] {
            let bang = try Bang(decoding: try Hex.decode(vector.signingBytes + vector.signature))
            try bang.check()
            #expect(bang.id.hex == vector.id)
        }
        let proposal = try MembershipProposal(decoding: try Hex.decode(stored.change.payload))
        #expect(proposal.change.id.hex == stored.change.id)
    }
}
