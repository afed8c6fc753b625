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
    /// Every vote it cast at this height (the last `historyLimit` for nil): after a crash they are
    /// signed again, identically, and sent again, since a peer still in that round may need them.
    public var history: [Entry] = []

    public struct Entry: Sendable, Equatable {
        public let kind: Vote.Kind
        public let round: UInt32
        public let quant: Hash?
    }

    static let historyLimit = 16

    mutating func remember(_ kind: Vote.Kind, round: UInt32, quant: Hash?) {
        history.append(Entry(kind: kind, round: round, quant: quant))
        let nils = history.filter { $0.quant == nil }.count
        if nils > Self.historyLimit, let first = history.firstIndex(where: { $0.quant == nil }) { history.remove(at: first) }
        // A height of thousands of rounds keeps its latest votes: the count is a u16.
        if history.count > Self.historyCeiling { history.removeFirst(history.count - Self.historyCeiling) }
    }

    static let historyCeiling = 1024

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
    /// the proposal round (u32); then the history: a count (u16) and per vote its kind (u8),
    /// round (u32), flag and hash.
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
        w.u16(UInt16(truncatingIfNeeded: history.count))
        for entry in history {
            w.u8(entry.kind.rawValue)
            w.u32(entry.round)
            if let quant = entry.quant {
                w.u8(1)
                w.fixed(quant.bytes)
            } else {
                w.u8(0)
            }
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
        let count = Int(try r.u16())
        for _ in 0..<count {
            guard let kind = Vote.Kind(rawValue: try r.u8()) else { throw .wrongTag(expected: "vote kind 1 or 2") }
            let round = try r.u32()
            history.append(Entry(kind: kind, round: round, quant: try r.u8() == 1 ? Hash(unchecked: try r.fixed(32)) : nil))
        }
        try r.finish()
    }
}
