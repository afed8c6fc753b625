import Foundation
import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

struct NetworkVectors: Decodable {
    struct RegistrationVector: Decodable {
        let address: String
        let chains: [String]
        let timestamp: UInt64
        let signingBytes: String
        let signature: String
    }
    struct PeerRequestVector: Decodable {
        let timestamp: UInt64
        let method: String
        let path: String
        let body: String
        let signingBytes: String
        let signature: String
    }
    let seed: String
    let node: String
    let registration: RegistrationVector
    let peerRequest: PeerRequestVector
}

@Suite struct NetworkVectorTests {
    @Test func registrationAndPeerRequestVectorsReproduce() throws {
        let v = try Vectors.load(NetworkVectors.self, named: "network", in: .module)
        var seed = try Hex.decode(v.seed)
        let key = try SigningKey(seed: SecretBytes(consuming: &seed))
        #expect(key.publicKey.hex == v.node)
        let chains = try v.registration.chains.map { try ChainID(hex: $0) }
        let registration = Registration(
            key: key, address: v.registration.address, chains: chains, timestamp: Timestamp(milliseconds: v.registration.timestamp))
        #expect(Hex.encode(registration.signingBytes) == v.registration.signingBytes)
        #expect(registration.signature.hex == v.registration.signature)
        try registration.checkSignature()

        let time = Timestamp(milliseconds: v.peerRequest.timestamp)
        let body = Array(v.peerRequest.body.utf8)
        let bytes = PeerRequest.signingBytes(node: key.publicKey, timestamp: time, method: v.peerRequest.method, path: v.peerRequest.path, body: body)
        #expect(Hex.encode(bytes) == v.peerRequest.signingBytes)
        let signature = PeerRequest.sign(key: key, timestamp: time, method: v.peerRequest.method, path: v.peerRequest.path, body: body)
        #expect(signature.hex == v.peerRequest.signature)
    }
}
