import Foundation
import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

/// documentation/protocol.md, "BFT votes, proposals and certificates": every byte reproduced
/// from the seeds.
struct BFTVectors: Codable {
    struct VoteVector: Codable {
        let kind: String
        let round: UInt32
        let quant: String?
        let voter: String
        let signingBytes: String
        let signature: String
        let encoded: String
    }
    let seeds: [String]
    let authorities: [String]
    let chain: String
    let header: String
    let quant: String
    let proposalSigningBytes: String
    let proposalSignature: String
    let prevote: VoteVector
    let nilPrevote: VoteVector
    let precommits: [VoteVector]
    let certificate: String
}

@Suite struct BFTVectorTests {
    static func build() throws -> BFTVectors {
        let keys = try (0x11...0x14).map { byte -> SigningKey in
            var seed = [UInt8](repeating: UInt8(byte), count: 32)
            return try SigningKey(seed: SecretBytes(consuming: &seed))
        }
        let chain = Hash.blake2b(Array("qbc bft vector chain".utf8))
        let header = QuantHeader(
            chain: chain, height: 1, previous: chain, timestamp: Timestamp(milliseconds: 1_764_115_200_000), merkleRoot: Merkle.root([]),
            transactionCount: 0, proposer: keys[1].publicKey, difficultyBits: 1, nonce: 0
        ).signed(with: keys[1])
        let quant = Quant(header: header, transactions: [])
        let proposal = Proposal(quant: quant, round: 0, validRound: nil, with: keys[1])
        func vector(_ vote: Vote) -> BFTVectors.VoteVector {
            BFTVectors.VoteVector(
                kind: "\(vote.kind)", round: vote.round, quant: vote.quant?.hex, voter: vote.voter.hex,
                signingBytes: Hex.encode(vote.signingBytes), signature: vote.signature.hex, encoded: Hex.encode(vote.encoded))
        }
        let precommits = keys.prefix(3).map { Vote(.precommit, chain: chain, height: 1, round: 0, quant: quant.hash, with: $0) }
        let certificate = CommitCertificate(round: 0, signers: precommits.map { .init(key: $0.voter, signature: $0.signature) })
        return BFTVectors(
            seeds: (0x11...0x14).map { Hex.encode([UInt8](repeating: UInt8($0), count: 32)) }, authorities: keys.map(\.publicKey.hex),
            chain: chain.hex, header: Hex.encode(header.encoded), quant: quant.hash.hex,
            proposalSigningBytes: Hex.encode(proposal.signingBytes), proposalSignature: proposal.signature.hex,
            prevote: vector(Vote(.prevote, chain: chain, height: 1, round: 0, quant: quant.hash, with: keys[0])),
            nilPrevote: vector(Vote(.prevote, chain: chain, height: 1, round: 2, quant: nil, with: keys[3])),
            precommits: precommits.map(vector), certificate: Hex.encode(certificate.encoded))
    }

    @Test func votesProposalsAndCertificatesReproduce() throws {
        let built = try Self.build()
        let (stored, same) = try Vectors.stored(matching: built, named: "bft", in: .module)
        #expect(same, "the code no longer makes the stored bft vectors")
        // And the stored bytes decode and check as documented.
        let header = try QuantHeader(decoding: try Hex.decode(stored.header))
        #expect(header.hash.hex == stored.quant)
        let certificate = try CommitCertificate(decoding: try Hex.decode(stored.certificate))
        try certificate.check(header: header, hash: header.hash, authorities: try stored.authorities.map { try PublicKey(hex: $0) })
        for vector in stored.precommits + [stored.prevote, stored.nilPrevote] {
            let vote = try Vote(decoding: try Hex.decode(vector.encoded))
            #expect(vote.verifies && Hex.encode(vote.signingBytes) == vector.signingBytes)
        }
    }
}
