import QBCCrypto

/// The Merkle root of a Quant's transaction ids.
///
/// Leaves are `H(qbc/merkle-leaf/v1 ‖ id)`, inner nodes `H(qbc/merkle-node/v1 ‖ left ‖ right)`;
/// an odd node at the end of a level moves up unchanged (no duplication, so two different
/// lists never share a root). The root of no transactions is 32 zero bytes.
public enum Merkle {
    public static func root(_ ids: [TransactionID]) -> Hash {
        guard !ids.isEmpty else { return .zero }
        // Levels live in one flat buffer of 32-byte hashes and every message is built in one
        // scratch buffer: a Quant of 10,000 transactions takes 20,000 hashes and no allocations
        // per hash (the array-per-hash version cost a Leap as much as its storage did).
        let leafTag = DomainTag.merkleLeaf.bytes
        let nodeTag = DomainTag.merkleNode.bytes
        var level = [UInt8](repeating: 0, count: ids.count * 32)
        var scratch = [UInt8](repeating: 0, count: max(leafTag.count + 32, nodeTag.count + 64))
        level.withUnsafeMutableBytes { out in
            scratch.withUnsafeMutableBytes { message in
                message.copyBytes(from: leafTag)
                for (index, id) in ids.enumerated() {
                    id.bytes.withUnsafeBytes { (message.baseAddress! + leafTag.count).copyMemory(from: $0.baseAddress!, byteCount: 32) }
                    Hash.blake2b(UnsafeRawBufferPointer(rebasing: message[..<(leafTag.count + 32)]), into: out.baseAddress! + index * 32)
                }
                // Each level is written over the start of the one below it.
                message.copyBytes(from: nodeTag)
                var count = ids.count
                while count > 1 {
                    var next = 0
                    var index = 0
                    while index + 1 < count {
                        (message.baseAddress! + nodeTag.count).copyMemory(from: out.baseAddress! + index * 32, byteCount: 64)
                        Hash.blake2b(UnsafeRawBufferPointer(rebasing: message[..<(nodeTag.count + 64)]), into: out.baseAddress! + next * 32)
                        next += 1
                        index += 2
                    }
                    if index < count {
                        (out.baseAddress! + next * 32).copyMemory(from: out.baseAddress! + index * 32, byteCount: 32)
                        next += 1
                    }
                    count = next
                }
            }
        }
        return Hash(unchecked: Array(level[0..<32]))
    }
}
