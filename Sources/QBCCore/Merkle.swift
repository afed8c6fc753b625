import QBCCrypto

/// The Merkle root of a Quant's transaction ids.
///
/// Leaves are `H(qbc/merkle-leaf/v1 ‖ id)`, inner nodes `H(qbc/merkle-node/v1 ‖ left ‖ right)`;
/// an odd node at the end of a level moves up unchanged (no duplication, so two different
/// lists never share a root). The root of no transactions is 32 zero bytes.
public enum Merkle {
    public static func root(_ ids: [TransactionID]) -> Hash {
        guard !ids.isEmpty else { return .zero }
        var level = ids.map { Hash.blake2b(DomainTag.merkleLeaf.bytes + $0.bytes) }
        while level.count > 1 {
            var next = [Hash]()
            next.reserveCapacity((level.count + 1) / 2)
            var index = 0
            while index + 1 < level.count {
                next.append(Hash.blake2b(DomainTag.merkleNode.bytes + level[index].bytes + level[index + 1].bytes))
                index += 2
            }
            if index < level.count { next.append(level[index]) }
            level = next
        }
        return level[0]
    }
}
