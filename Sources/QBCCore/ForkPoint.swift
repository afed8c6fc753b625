public import QBCCrypto

/// Where a forked chain leaves its parent: the parent's id and the height and hash of the
/// last Quant the two chains share. The fork's own Quants count from 1 again (decisions D26).
public struct ForkPoint: Sendable, Hashable {
    public let parent: ChainID
    public let height: UInt64
    public let hash: Hash

    public init(parent: ChainID, height: UInt64, hash: Hash) {
        self.parent = parent
        self.height = height
        self.hash = hash
    }
}
