import Foundation
import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

/// documentation/protocol.md, "Read keys and anonymous read proofs": read keys, a registration
/// and a one-of-n proof, every byte made by `qbc_anon.py vectors` (Python, ctypes over
/// libsodium) and reproduced here from the same inputs, with the same stand-ins for randomness.
struct AnonymousVectors: Codable, Equatable {
    struct Reader: Codable, Equatable {
        let seed: String
        let member: String
        let readSecret: String
        let readKey: String
    }
    struct Registration: Codable, Equatable {
        let seed: String
        let proofNonce: String
        let payload: String
    }
    struct KeySet: Codable, Equatable {
        let keys: [String]
        let hash: String
    }
    struct Proof: Codable, Equatable {
        let prover: String
        let nonce: String
        let method: String
        let path: String
        let context: String
        let proof: String
    }
    let chain: String
    let readers: [Reader]
    let registration: Registration
    let keySet: KeySet
    let proof: Proof
}

@Suite struct AnonymousVectorTests {
    /// The vectors' stand-in for randomness: BLAKE2b-512(label ‖ u32 counter) reduced, counter from 1.
    static func scalars(_ label: String) -> () -> RistrettoScalar {
        var counter: UInt32 = 0
        return {
            counter += 1
            return RistrettoScalar.hash(Array(label.utf8) + withUnsafeBytes(of: counter.bigEndian) { Array($0) })
        }
    }

    static func build() throws -> AnonymousVectors {
        let chain = Hash.blake2b(Array("qbc vector chain".utf8))
        let seeds = [0x11, 0x12, 0x13].map { [UInt8](repeating: UInt8($0), count: 32) }
        let identities = try seeds.map { seed in var copy = seed; return try SigningKey(seed: SecretBytes(consuming: &copy)) }
        let secrets = identities.map(ReadSecret.init(of:))
        let proofNonce = RistrettoScalar.hash(Array("qbc read-key vector".utf8))
        let registration = ReadKeyRegistration(chain: chain, identity: identities[0], proofNonce: proofNonce)
        let set = ReadKeySet(secrets.map(\.publicKey))
        let nonce = (0..<32).map { UInt8($0) }
        let path = "/chains/\(chain.hex)/tx/\(String(repeating: "00", count: 32))"
        let proof = try #require(AnonymousRead.prove(
            secrets[1], set: set, chain: chain, nonce: nonce, method: "GET", path: path, random: scalars("qbc anon vector")))
        return AnonymousVectors(
            chain: chain.hex,
            readers: zip(seeds, zip(identities, secrets)).map { seed, pair in
                AnonymousVectors.Reader(
                    seed: Hex.encode(seed), member: pair.0.publicKey.hex, readSecret: Self.secretHex(pair.0), readKey: pair.1.publicKey.hex)
            },
            registration: .init(seed: Hex.encode(seeds[0]), proofNonce: proofNonce.hex, payload: Hex.encode(registration.encoded)),
            keySet: .init(keys: set.keys.map(\.hex), hash: set.hash.hex),
            proof: .init(
                prover: Hex.encode(seeds[1]), nonce: Hex.encode(nonce), method: "GET", path: path,
                context: Hex.encode(AnonymousRead.context(chain: chain, nonce: nonce, method: "GET", path: path, keySet: set.hash)),
                proof: Hex.encode(proof.encoded)))
    }

    /// The read secret as the vectors list it: x = BLAKE2b-512(`qbc/read-secret/v1\0` ‖ seed) mod ℓ.
    static func secretHex(_ identity: SigningKey) -> String {
        identity.seed().withBytes { RistrettoScalar.hash(Array("qbc/read-secret/v1".utf8) + [0] + Array($0)).hex }
    }

    @Test func swiftReproducesThePythonVectorsByteForByte() throws {
        let stored = try Vectors.load(AnonymousVectors.self, named: "anonymous", in: .module)
        #expect(try Self.build() == stored)
    }

    @Test func theVectorsCheck() throws {
        let v = try Vectors.load(AnonymousVectors.self, named: "anonymous", in: .module)
        let chain = try Hash(hex: v.chain)
        let set = ReadKeySet(try v.keySet.keys.map { try RistrettoPoint(validating: try Hex.decode($0)) })
        #expect(set.hash.hex == v.keySet.hash)
        try AnonymousRead.check(
            try Hex.decode(v.proof.proof), claimed: set.hash, set: set, chain: chain, nonce: try Hex.decode(v.proof.nonce),
            method: v.proof.method, path: v.proof.path)
        let registration = try ReadKeyRegistration(decoding: try Hex.decode(v.registration.payload))
        #expect(registration.key.hex == v.readers[0].readKey)
        #expect(ReadSecret.verifyKnowledge(
            registration.proof, of: ReadKeyRegistration.possessionBytes(chain: chain, member: registration.member, key: registration.key),
            key: registration.key))
    }
}
