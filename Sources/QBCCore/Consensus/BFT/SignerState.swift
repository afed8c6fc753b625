public import QBCCrypto

/// What an authority must remember across a crash so that it never signs two different votes for
/// one step, nor forgets a lock (consensus.md, "Restarts"): stored before any vote leaves the node.
public struct SignerState: Sendable, Equatable {
    public var height: UInt64
    public var round: UInt32
    /// The round and Quant of this node's lock, if any.
    public var lockedRound: UInt32?
    public var lockedQuant: Hash?
    /// The last prevote and precommit it signed at this height: (round, Quant or nil).
    public var prevote: Cast?
    public var precommit: Cast?
    /// The last round it proposed in.
    public var proposedRound: UInt32?

    public struct Cast: Sendable, Equatable {
        public let round: UInt32
        public let quant: Hash?

        public init(round: UInt32, quant: Hash?) {
            self.round = round
            self.quant = quant
        }
    }

    public init(height: UInt64) {
        self.height = height
        round = 0
    }

    /// Layout: version (u8 = 1), height (u64), round (u32), then four optional fields, each a
    /// flag byte: the lock (round u32, hash), the prevote and the precommit (round u32, flag, hash),
    /// the proposal round (u32).
    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 160)
        w.u8(1)
        w.u64(height)
        w.u32(round)
        if let lockedRound, let lockedQuant {
            w.u8(1)
            w.u32(lockedRound)
            w.fixed(lockedQuant.bytes)
        } else {
            w.u8(0)
        }
        for cast in [prevote, precommit] {
            guard let cast else {
                w.u8(0)
                continue
            }
            w.u8(1)
            w.u32(cast.round)
            if let quant = cast.quant {
                w.u8(1)
                w.fixed(quant.bytes)
            } else {
                w.u8(0)
            }
        }
        if let proposedRound {
            w.u8(1)
            w.u32(proposedRound)
        } else {
            w.u8(0)
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        guard try r.u8() == 1 else { throw .wrongTag(expected: "signer state version 1") }
        height = try r.u64()
        round = try r.u32()
        if try r.u8() == 1 {
            lockedRound = try r.u32()
            lockedQuant = Hash(unchecked: try r.fixed(32))
        }
        var casts = [Cast?]()
        for _ in 0..<2 {
            guard try r.u8() == 1 else {
                casts.append(nil)
                continue
            }
            let round = try r.u32()
            casts.append(Cast(round: round, quant: try r.u8() == 1 ? Hash(unchecked: try r.fixed(32)) : nil))
        }
        prevote = casts[0]
        precommit = casts[1]
        if try r.u8() == 1 { proposedRound = try r.u32() }
        try r.finish()
    }
}
