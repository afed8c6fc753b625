import QBCCore
import QBCCrypto
import QBCNode
import Synchronization

/// A peer that holds the node role (and under proof of authority an authority key) and breaks
/// rules. A loud one forges Quants and lies about its tip, and is soon banned; a crafty one does
/// only what no single message proves wrong: it seals two Quants on one parent and sends each to
/// half the network, replays what it was sent, and withholds a branch to release it later.
/// Honest nodes must refuse what is invalid, detect the equivocation, and still agree.
final class ByzantinePeer: SimulatedEndpoint {
    enum Style: String, Sendable { case loud, crafty }

    private struct State {
        var random: SeededRandom
        /// Pushes honest nodes sent it, to replay later (bounded).
        var heard: [PeerPush] = []
        /// A branch it keeps to itself, by height (its prefix copied from an honest node).
        var hidden: [UInt64: Quant] = [:]
        var lying = false
    }

    let key: SigningKey
    let style: Style
    let address: String
    let bang: Bang
    private let state: Mutex<State>
    private let recorder: Recorder

    init(key: SigningKey, style: Style, bang: Bang, random: SeededRandom, recorder: Recorder) {
        self.key = key
        self.style = style
        address = "http://\(style.rawValue).byzantine.sim"
        self.bang = bang
        self.recorder = recorder
        state = Mutex(State(random: random))
    }

    private var engine: any ConsensusEngine { bang.rules.consensus.engine }
    private func draw<T>(_ body: (inout SeededRandom) -> T) -> T { state.withLock { body(&$0.random) } }

    // MARK: Acting

    /// Registers with every honest node, then misbehaves every few seconds until `until`.
    func run(net: SimulatedNetwork, honest: [String], clock: SimulatedClock, until: UInt64) async {
        var round = 0
        while net.scheduler.now < until {
            if round % 10 == 0 { await register(net: net, honest: honest, now: clock.now()) }
            round += 1
            do { try await clock.sleep(for: .milliseconds(500 + Int(draw { $0.next() % 2500 }))) } catch { return }
            guard net.scheduler.now < until, let target = draw({ honest.randomElement(using: &$0) }) else { continue }
            let action = draw { $0.next() % 3 }
            if style == .crafty, engine is BFTEngine {
                switch action {
                case 0: await equivocateVotes(net: net, honest: honest)
                case 1: await replay(net: net, target: target)
                default: await equivocateProposals(net: net, honest: honest, now: clock.now())
                }
                continue
            }
            switch (style, action) {
            case (.loud, 0): await forge(net: net, target: target, honest: honest)
            case (.loud, 1): state.withLock { $0.lying.toggle() }
            case (.crafty, 0): await equivocate(net: net, honest: honest, now: clock.now())
            case (.crafty, 1): await replay(net: net, target: target)
            case (.crafty, 2): await withhold(net: net, target: target, honest: honest, now: clock.now())
            default: break
            }
        }
        state.withLock { $0.lying = false }
    }

    private func register(net: SimulatedNetwork, honest: [String], now: Timestamp) async {
        let registration = Registration(key: key, address: address, chains: [bang.id], timestamp: now)
        for address in honest { _ = try? await net.call(from: self.address, to: address) { try await $0.register(registration) } }
    }

    private func push(_ push: PeerPush, net: SimulatedNetwork, to address: String) async {
        let key = key.publicKey
        _ = try? await net.call(from: self.address, to: address, push: true) { try await $0.receive(push, from: key) }
    }

    /// The honest node's tip Quant, to build on.
    private func tip(net: SimulatedNetwork, of address: String) async -> (PeerTip, Quant?)? {
        let key = key.publicKey
        let chain = bang.id
        guard let tip = try? await net.call(from: self.address, to: address, { try await $0.tip(chain: chain, from: key) }) else { return nil }
        guard tip.height > 0 else { return (tip, nil) }
        let quant = try? await net.call(from: self.address, to: address) { try await $0.quants(chain: chain, from: tip.height, limit: 1, asker: key) }
        return (tip, quant?.first)
    }

    /// An invalid Quant on the honest tip: a wrong Merkle root, or a seal or work that does not hold.
    private func forge(net: SimulatedNetwork, target: String, honest: [String]) async {
        guard let (tip, _) = await tip(net: net, of: target) else { return }
        var header = QuantHeader(
            chain: bang.id, height: tip.height + 1, previous: tip.hash, timestamp: Timestamp(milliseconds: net.scheduler.now),
            merkleRoot: Hash.blake2b(draw { $0.bytes(8) }), transactionCount: 0, proposer: key.publicKey, difficultyBits: 1, nonce: 0)
        header = engine.seal(header, with: key, worker: 0, of: 1, shouldStop: { false }) ?? header
        recorder.trace("\(style) forges \(header.height) for \(target)")
        await push(.quant(Quant(header: header, transactions: [])), net: net, to: target)
    }

    /// Two valid Quants on one parent, each sent to half the network.
    private func equivocate(net: SimulatedNetwork, honest: [String], now: Timestamp) async {
        guard let target = honest.first, let (tip, parent) = await tip(net: net, of: target) else { return }
        let parentSummary = QuantRules.Parent(
            height: tip.height, hash: tip.hash, timestamp: parent?.header.timestamp ?? bang.timestamp,
            difficultyBits: parent?.header.difficultyBits ?? 0)
        var pair = [Quant]()
        for offset in 0..<2 {
            let header = QuantHeader(
                chain: bang.id, height: tip.height + 1, previous: tip.hash,
                timestamp: Timestamp(milliseconds: max(now.milliseconds, parentSummary.timestamp.milliseconds) + UInt64(offset)),
                merkleRoot: Merkle.root([]), transactionCount: 0, proposer: key.publicKey, difficultyBits: 0, nonce: 0)
            guard let prepared = engine.prepare(
                header, parent: parentSummary, now: Timestamp(milliseconds: header.timestamp.milliseconds), membership: bang.rules.membership),
                let sealed = engine.seal(prepared, with: key, worker: 0, of: 1, shouldStop: { false })
            else { return }
            pair.append(Quant(header: sealed, transactions: []))
        }
        recorder.trace("\(style) equivocates at \(tip.height + 1)")
        for (index, address) in honest.enumerated() { await push(.quant(pair[index % 2]), net: net, to: address) }
    }

    /// BFT: at the next height's first rounds, to each honest node a prevote and a precommit of
    /// its own: for a Quant proposed there when it heard one, for nil, or for a Quant no one holds.
    private func equivocateVotes(net: SimulatedNetwork, honest: [String]) async {
        guard let target = honest.first, let (tip, _) = await tip(net: net, of: target) else { return }
        let height = tip.height + 1
        let proposed = state.withLock { s in
            s.heard.compactMap { push -> Hash? in
                guard case .consensus(let messages, _) = push else { return nil }
                return messages.lazy.compactMap { message -> Hash? in
                    guard case .proposal(let proposal) = message, proposal.height == height else { return nil }
                    return proposal.quant.hash
                }.first
            }
        }
        recorder.trace("\(style) equivocates votes at \(height)")
        // One push per node (a push to a node cut off waits for its timeout).
        for (index, address) in honest.enumerated() {
            var votes = [BFTHeight.Message]()
            for round in UInt32(0)..<3 {
                let choices: [Hash?] = proposed + [nil, Hash.blake2b(draw { $0.bytes(8) })]
                let choice = choices[(index + Int(round)) % choices.count]
                for kind in Vote.Kind.allCases {
                    votes.append(.vote(Vote(kind, chain: bang.id, height: height, round: round, quant: choice, with: key)))
                }
            }
            await push(.consensus(votes, chain: bang.id), net: net, to: address)
        }
    }

    /// BFT: in the rounds of the next height where it is the proposer, a different valid Quant to
    /// each half of the network.
    private func equivocateProposals(net: SimulatedNetwork, honest: [String], now: Timestamp) async {
        guard let target = honest.first, let (tip, parent) = await tip(net: net, of: target) else { return }
        let height = tip.height + 1
        let authorities = bang.rules.membership.members(with: .authority)
        for round in UInt32(0)..<8 where BFTEngine.proposer(height: height, round: round, authorities: authorities) == key.publicKey {
            let base = max(now.milliseconds, parent?.header.timestamp.milliseconds ?? bang.timestamp.milliseconds)
            let pair = (0..<2).map { offset in
                let header = QuantHeader(
                    chain: bang.id, height: height, previous: tip.hash, timestamp: Timestamp(milliseconds: base + UInt64(offset)),
                    merkleRoot: Merkle.root([]), transactionCount: 0, proposer: key.publicKey, difficultyBits: 1, nonce: 0)
                return Proposal(quant: Quant(header: header.signed(with: key), transactions: []), round: round, validRound: nil, with: key)
            }
            recorder.trace("\(style) equivocates proposals at \(height) round \(round)")
            for (index, address) in honest.enumerated() { await push(.consensus([.proposal(pair[index % 2])], chain: bang.id), net: net, to: address) }
        }
    }

    /// Sends an old push again to someone.
    private func replay(net: SimulatedNetwork, target: String) async {
        let heard = state.withLock { $0.heard }
        guard let old = draw({ heard.randomElement(using: &$0) }) else { return }
        recorder.trace("\(style) replays to \(target)")
        await push(old, net: net, to: target)
    }

    /// Builds a branch from a few Quants below an honest tip and keeps it; the next time, releases
    /// it by pushing its top Quant (receivers then sync it from here, and switch if they prefer it).
    private func withhold(net: SimulatedNetwork, target: String, honest: [String], now: Timestamp) async {
        if let top = state.withLock({ s in s.hidden.keys.max().flatMap { s.hidden[$0] } }) {
            recorder.trace("\(style) releases a branch to \(top.header.height)")
            for address in honest { await push(.quant(top), net: net, to: address) }
            state.withLock { $0.hidden = [:] }
            return
        }
        guard let (tip, _) = await tip(net: net, of: target) else { return }
        let base = tip.height > 3 ? tip.height - 3 : 0
        let key = key.publicKey
        let chain = bang.id
        var prefix = [Quant]()
        if base > 0 {
            guard let page = try? await net.call(from: address, to: target, { try await $0.quants(chain: chain, from: 1, limit: Int(base), asker: key) }),
                page.count == Int(base)
            else { return }
            prefix = page
        }
        var hidden = [UInt64: Quant]()
        for quant in prefix { hidden[quant.header.height] = quant }
        var parent = prefix.last
        for step in 0..<5 {
            let height = (parent?.header.height ?? 0) + 1
            let summary = QuantRules.Parent(
                height: height - 1, hash: parent?.hash ?? bang.id, timestamp: parent?.header.timestamp ?? bang.timestamp,
                difficultyBits: parent?.header.difficultyBits ?? 0)
            let time = Timestamp(milliseconds: max(now.milliseconds, summary.timestamp.milliseconds) + UInt64(step) * 2000)
            let header = QuantHeader(
                chain: chain, height: height, previous: summary.hash, timestamp: time, merkleRoot: Merkle.root([]),
                transactionCount: 0, proposer: key, difficultyBits: 0, nonce: 0)
            guard let prepared = engine.prepare(header, parent: summary, now: time, membership: bang.rules.membership),
                let sealed = engine.seal(prepared, with: self.key, worker: 0, of: 1, shouldStop: { false })
            else { break }
            let quant = Quant(header: sealed, transactions: [])
            hidden[height] = quant
            parent = quant
        }
        recorder.trace("\(style) withholds a branch from \(base) to \(parent?.header.height ?? 0)")
        state.withLock { $0.hidden = hidden }
    }

    // MARK: Answering

    func register(_ registration: Registration) async throws -> [Registration] {
        [Registration(key: key, address: address, chains: [bang.id], timestamp: registration.timestamp)]
    }

    func receive(_ push: PeerPush, from: PublicKey) async throws {
        state.withLock { s in
            s.heard.append(push)
            if s.heard.count > 64 { s.heard.removeFirst() }
        }
    }

    func tip(chain: ChainID, from: PublicKey) async throws -> PeerTip {
        try state.withLock { s in
            if s.lying { return PeerTip(height: 1_000_000, hash: Hash.blake2b(s.random.bytes(8)), cumulativeWork: 1 << 50) }
            guard let top = s.hidden.keys.max(), let quant = s.hidden[top] else { throw Unreachable(description: "nothing to offer") }
            var work: Int64 = 0
            for height in 1...top { work += s.hidden[height].map { engine.weight(of: $0.header) } ?? 0 }
            return PeerTip(height: top, hash: quant.hash, cumulativeWork: work)
        }
    }

    func headers(chain: ChainID, from height: UInt64, limit: Int, asker: PublicKey) async throws -> [QuantHeader] {
        try state.withLock { s in
            // A liar's headers are not the ones asked for.
            if s.lying { return [QuantHeader(chain: chain, height: height &+ 7, previous: .zero, timestamp: Timestamp(milliseconds: 0),
                                             merkleRoot: .zero, transactionCount: 0, proposer: key.publicKey, difficultyBits: 0, nonce: 0)] }
            guard !s.hidden.isEmpty else { throw Unreachable(description: "nothing to offer") }
            return (height..<height + UInt64(max(0, min(limit, 1000)))).compactMap { s.hidden[$0]?.header }
        }
    }

    func quants(chain: ChainID, from height: UInt64, limit: Int, asker: PublicKey) async throws -> [Quant] {
        try state.withLock { s in
            guard !s.lying, !s.hidden.isEmpty else { throw Unreachable(description: "nothing to offer") }
            return (height..<height + UInt64(max(0, min(limit, 1000)))).compactMap { s.hidden[$0] }
        }
    }

    func bang(chain: ChainID, from: PublicKey) async throws -> Bang { throw Unreachable(description: "no Bangs here") }
}
