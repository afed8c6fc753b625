import QBCCore
import QBCCrypto
import QBCWire

/// What a node reads from other nodes and readers before trusting them: signed registrations
/// (`/discover`, `/peer/register`), the signed envelope of every peer request, and read proofs.
enum NetworkFuzz {
    /// `registration`: the whole input as a `RegistrationJSON`; and, cut from the same input, the
    /// fields of a peer request's envelope: node key (32), timestamp (8), signature (64), method
    /// (u8 length), path (u16 length), then the body.
    @Sendable static func registration(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        if let json = try? WireJSON.decode(RegistrationJSON.self, from: bytes, what: "registration"),
            let registration = try? json.registration()
        {
            try? registration.checkSignature()
            try? registration.checkAdmission(now: FuzzFixtures.now) { chain in
                chain == f.powBang.id ? f.powBang.rules.membership : chain == f.poaBang.id ? f.poaBang.rules.membership : nil
            }
        }
        var input = FuzzInput(bytes)
        guard let node = input.fixed(PublicKey.self) else { return }
        let timestamp = Timestamp(milliseconds: input.integer(8))
        guard let signature = input.fixed(Signature.self) else { return }
        let method = input.text(lengthWidth: 1)
        let path = input.text(lengthWidth: 2)
        try? PeerRequest.check(
            node: node, timestamp: timestamp, signature: signature, method: method, path: path, body: input.remaining(),
            now: FuzzFixtures.now)
    }

    /// `read-proof`: the three headers of a read on a readers-only chain (QBC-Reader, QBC-Nonce,
    /// QBC-Proof), then the method and the path, one per line, parsed as `ReadGate.admit` does.
    @Sendable static func readProof(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared else { return }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 5 else { return }
        guard let reader = try? PublicKey(hex: String(lines[0])), let nonce = try? Hex.decode(String(lines[1])),
            let proof = try? Signature(hex: String(lines[2]))
        else { return }
        let chain = f.poaBang
        try? ReadProof.check(
            reader: reader, signature: proof, chain: chain.id, nonce: nonce, method: String(lines[3]),
            path: lines[4...].joined(separator: "\n"), membership: chain.rules.membership)
    }
}
