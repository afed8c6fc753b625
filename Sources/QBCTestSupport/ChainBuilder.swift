import QBCCore
import QBCCrypto

/// Builds valid chains in memory for storage and rule tests.
public struct ChainBuilder {
    public let admin = TestKeys.key(1)
    public let writer = TestKeys.key(2)
    public let node = TestKeys.key(3)
    public let bang: Bang
    public var rules: ChainRules { bang.rules }
    public var clock = Timestamp(milliseconds: 1_800_000_000_000)

    public init(difficultyBits: UInt8 = 4, maxTransactions: Int = 100) {
        var quantLimits = QuantLimits.standard
        quantLimits.maxTransactions = maxTransactions
        let rules = ChainRules(
            name: "test", consensus: .proofOfWork(difficultyBits: difficultyBits),
            membership: Membership([
                TestKeys.key(1).publicKey: .admin, TestKeys.key(2).publicKey: .writer, TestKeys.key(3).publicKey: [.node],
            ]),
            quantLimits: quantLimits)
        bang = Bang(rules: rules, timestamp: clock, creator: TestKeys.key(1))
    }

    public mutating func transaction(_ text: String, by key: SigningKey? = nil) -> Transaction {
        clock = Timestamp(milliseconds: clock.milliseconds + 1)
        let signer = key ?? writer
        return Transaction(
            signing: .init(chain: bang.id, sender: signer.publicKey, nonce: .random(), timestamp: clock,
                           contentType: "application/json", payload: Array(text.utf8)),
            with: signer)
    }

    /// A mined Quant on top of `parent` (nil: the Bang).
    public func quant(_ transactions: [Transaction], parent: (height: UInt64, hash: Hash)?) -> Quant {
        let header = QuantHeader(
            chain: bang.id, height: (parent?.height ?? 0) + 1, previous: parent?.hash ?? bang.id, timestamp: clock,
            merkleRoot: Merkle.root(transactions.map(\.id)), transactionCount: UInt32(transactions.count),
            proposer: node.publicKey, difficultyBits: difficultyBits, nonce: 0)
        return Quant(header: ProofOfWork.mine(header) ?? header, transactions: transactions)
    }

    public var difficultyBits: UInt8 {
        switch rules.consensus {
        case .proofOfWork(let bits): bits
        }
    }
}
