import CSodium

/// The secret of a read key: a ristretto255 scalar x with public key X = x·G, derived from an
/// identity's Ed25519 seed under its own domain tag, so a key file holds both and a reader has
/// nothing new to keep. Zeroed on deinit; never leaves the process.
public final class ReadSecret: Sendable {
    private let scalar: SecretBytes
    /// The read key members see: in the chain's key set once registered.
    public let publicKey: RistrettoPoint

    /// x = BLAKE2b-512(`qbc/read-secret/v1\0` ‖ seed) reduced modulo ℓ (documentation/locks.md).
    public init(of key: SigningKey) {
        requireSodium()
        var input = Array("qbc/read-secret/v1".utf8) + [0]
        key.seed().withBytes { input.append(contentsOf: $0) }
        var wide = [UInt8](repeating: 0, count: 64)
        crypto_generichash(&wide, 64, input, UInt64(input.count), nil, 0)
        var x = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_scalar_reduce(&x, wide)
        sodium_memzero(&input, input.count)
        sodium_memzero(&wide, 64)
        // x is zero with probability 2^-252; such a key would be the identity, which no set takes.
        var point = [UInt8](repeating: 0, count: 32)
        _ = crypto_scalarmult_ristretto255_base(&point, x)
        scalar = SecretBytes(consuming: &x)
        publicKey = RistrettoPoint(unchecked: point)
    }

    /// r + c·x: a Schnorr response. Only the result leaves; c·x is zeroed.
    public func respond(nonce r: RistrettoScalar, challenge c: RistrettoScalar) -> RistrettoScalar {
        var product = [UInt8](repeating: 0, count: 32)
        defer { sodium_memzero(&product, 32) }
        scalar.withBytes { x in
            crypto_core_ristretto255_scalar_mul(&product, c.bytes, x.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_scalar_add(&out, r.bytes, product)
        return RistrettoScalar(unchecked: out)
    }

    /// A Schnorr proof of knowledge of x bound to `message` (which names the key): R ‖ s with
    /// R = k·G, e = H(message ‖ R), s = k + e·x. 64 bytes. `nonce` is random except in vectors.
    public func proveKnowledge(of message: [UInt8], nonce k: RistrettoScalar = .random()) -> [UInt8] {
        guard let commitment = RistrettoPoint.base(k) else { return proveKnowledge(of: message) }
        let e = RistrettoScalar.hash(message + commitment.bytes)
        return commitment.bytes + respond(nonce: k, challenge: e).bytes
    }

    /// Checks a proof made by `proveKnowledge` for `key`: s·G = R + e·X.
    public static func verifyKnowledge(_ proof: [UInt8], of message: [UInt8], key: RistrettoPoint) -> Bool {
        guard proof.count == 64, let commitment = try? RistrettoPoint(validating: Array(proof[0..<32])),
            let s = try? RistrettoScalar(canonical: Array(proof[32..<64])), let left = RistrettoPoint.base(s)
        else { return false }
        let e = RistrettoScalar.hash(message + commitment.bytes)
        guard let eX = key.times(e) else { return false }
        return ConstantTime.equal(left.bytes, commitment.plus(eX))
    }
}

/// A one-of-n proof of knowledge (Cramer–Damgård–Schoenmakers OR-composition of Schnorr proofs):
/// the prover knows the secret of one of the keys, and the proof shows which with probability no
/// better than a guess. Every index is checked by the same operations, so neither the proof nor
/// the time to check it depends on the prover's index.
public struct RingProof: Sendable, Equatable {
    public let challenges: [RistrettoScalar]
    public let responses: [RistrettoScalar]

    /// c1…cn then s1…sn, 64·n bytes.
    public var encoded: [UInt8] { challenges.flatMap(\.bytes) + responses.flatMap(\.bytes) }

    /// Decodes a proof over `count` keys; every scalar must be canonical and nonzero.
    public init(decoding bytes: [UInt8], count: Int) throws(CryptoError) {
        guard count > 0, bytes.count == 64 * count else { throw .wrongLength(what: "one-of-n proof", expected: 64 * max(count, 0), actual: bytes.count) }
        var scalars = [RistrettoScalar]()
        scalars.reserveCapacity(2 * count)
        for i in 0..<(2 * count) {
            let scalar = try RistrettoScalar(canonical: Array(bytes[(32 * i)..<(32 * i + 32)]))
            guard !scalar.isZero else { throw .invalidEncoding(what: "one-of-n proof scalar") }
            scalars.append(scalar)
        }
        challenges = Array(scalars[0..<count])
        responses = Array(scalars[count...])
    }

    init(challenges: [RistrettoScalar], responses: [RistrettoScalar]) {
        self.challenges = challenges
        self.responses = responses
    }

    /// Commitment j: s·G − c·P (the identity's encoding, zeros, when a scalar is zero).
    static func commitment(_ s: RistrettoScalar, _ c: RistrettoScalar, _ key: RistrettoPoint) -> [UInt8] {
        guard let sG = RistrettoPoint.base(s), let cP = key.times(c) else { return [UInt8](repeating: 0, count: 32) }
        return sG.minus(cP)
    }

    /// The overall challenge: H(context ‖ A1 ‖ … ‖ An).
    static func challenge(context: [UInt8], commitments: [[UInt8]]) -> RistrettoScalar {
        RistrettoScalar.hash(context + commitments.flatMap { $0 })
    }

    /// Proves knowledge of `secret`, whose key is `keys[index]`, bound to `context`. `random`
    /// supplies the scalars (fresh randomness, except in test vectors); nil when the key at
    /// `index` is not the secret's.
    public static func prove(
        _ secret: ReadSecret, at index: Int, among keys: [RistrettoPoint], context: [UInt8],
        random: () -> RistrettoScalar = RistrettoScalar.random
    ) -> RingProof? {
        guard keys.indices.contains(index), keys[index] == secret.publicKey else { return nil }
        var challenges = [RistrettoScalar](repeating: .zero, count: keys.count)
        var responses = [RistrettoScalar](repeating: .zero, count: keys.count)
        var commitments = [[UInt8]](repeating: [], count: keys.count)
        for j in keys.indices where j != index {
            challenges[j] = random()
            responses[j] = random()
            commitments[j] = commitment(responses[j], challenges[j], keys[j])
        }
        let r = random()
        guard let own = RistrettoPoint.base(r) else { return nil }
        commitments[index] = own.bytes
        let c = challenge(context: context, commitments: commitments)
        challenges[index] = keys.indices.reduce(c) { sum, j in j == index ? sum : sum - challenges[j] }
        responses[index] = secret.respond(nonce: r, challenge: challenges[index])
        return RingProof(challenges: challenges, responses: responses)
    }

    /// True when the proof shows knowledge of the secret of one of `keys`, bound to `context`.
    public func verifies(among keys: [RistrettoPoint], context: [UInt8]) -> Bool {
        guard keys.count == challenges.count, keys.count == responses.count, !keys.isEmpty else { return false }
        var commitments = [[UInt8]]()
        commitments.reserveCapacity(keys.count)
        var sum = RistrettoScalar.zero
        for j in keys.indices {
            commitments.append(Self.commitment(responses[j], challenges[j], keys[j]))
            sum = sum + challenges[j]
        }
        return ConstantTime.equal(sum.bytes, Self.challenge(context: context, commitments: commitments).bytes)
    }
}
