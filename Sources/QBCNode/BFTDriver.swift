import Logging
public import QBCCore
import QBCCrypto
import QBCStorage
import Synchronization

/// Runs the BFT rounds of one chain on this node (consensus.md, "BFT"): feeds checked proposals,
/// votes and timeouts to the height's state machine, one at a time, and carries out what it asks:
/// store the signer state, then send; build a Quant; commit a decided one through the chain.
/// A node that is not an authority runs none and follows the chain by sync.
public actor BFTDriver {
    public nonisolated let chain: ChainService
    let engine: BFTEngine
    let key: SigningKey
    let environment: NodeEnvironment
    let send: @Sendable ([BFTHeight.Message]) async -> Void
    private let events: AsyncStream<Event>
    private let sink: AsyncStream<Event>.Continuation
    private var state: BFTHeight?
    private var tipHash: Hash?
    private var timers: [(due: Timestamp, timeout: BFTHeight.Timeout)] = []
    private var verdicts: [Hash: (valid: Bool, order: Int)] = [:]
    private var verdictOrder = 0
    /// Messages for the next height, which arrive before this node has committed the current one.
    private var ahead: [BFTHeight.Message] = []
    private var lastCommit: Timestamp
    private var resentAt: Timestamp
    /// The height and round last seen, and since when.
    private var roundSeen: (height: UInt64, round: UInt32, since: Timestamp)

    enum Event: Sendable {
        case tick
        case message(BFTHeight.Message)
    }

    /// How often timers are looked at; messages are handled as they come.
    static let tick = Duration.milliseconds(20)
    /// Messages kept for the next height, and proposals judged per height, at most.
    static let aheadCapacity = 1024
    static let aheadProposals = 4
    static let votesPerPush = 512
    static let proposalsPerPush = 2
    static let verdictCapacity = 64
    /// Messages waiting to be handled at most; beyond it the newest are kept (lost ones are sent again).
    static let queueCapacity = 4096

    public init?(chain: ChainService, key: SigningKey, environment: NodeEnvironment, send: @escaping @Sendable ([BFTHeight.Message]) async -> Void) {
        guard let engine = chain.engine as? BFTEngine else { return nil }
        self.chain = chain
        self.engine = engine
        self.key = key
        self.environment = environment
        self.send = send
        (events, sink) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(Self.queueCapacity))
        lastCommit = environment.clock.now()
        resentAt = lastCommit
        roundSeen = (0, 0, lastCommit)
    }

    var logger: Logger { environment.logger }
    var now: Timestamp { environment.clock.now() }

    // MARK: Intake

    /// What became of a submitted message.
    public enum Intake: Sendable, Equatable {
        case queued
        /// Not taken, at no cost to the sender: for a height final here already (an honest
        /// authority that is behind sends those; it catches up by sync), for a height further ahead
        /// than the next, or a vote of an authority refused for conflicting certificates.
        case dropped(tipHeight: UInt64)
    }

    /// Checks what is cheap (chain, height, sender's role, signature, a proposal's body against
    /// its header) and queues the message. Throws `badVote` for what no honest authority sends;
    /// only for the height above the tip, whose authorities this node knows.
    public nonisolated func submit(_ message: BFTHeight.Message) async throws(RuleError) -> Intake {
        guard message.chain == chain.id else { throw RuleError(.wrongChain, "the message is for chain \(message.chain.hex)") }
        let (tip, membership) = await chain.consensusView()
        let height = tip?.header.height ?? 0
        // The next height's authorities may change with the Quant below it: checked when it comes.
        guard message.height > height, message.height <= height &+ 2 else { return .dropped(tipHeight: height) }
        let current = message.height == height + 1
        switch message {
        case .vote(let vote):
            guard !current || membership.holds(vote.voter, .authority) else {
                throw RuleError(.badVote, "voter \(vote.voter.hex) is not an authority")
            }
            guard await !chain.refuses(voter: vote.voter, at: vote.height) else { return .dropped(tipHeight: height) }
            // Checked once, a vote sent again is queued unchecked (the machine drops duplicates;
            // a vote dropped before it reached the machine must still get in when sent again).
            let key = RecentVotes.key(vote)
            if !checked.seen(key) {
                guard vote.verifies else { throw RuleError(.badVote, "the \(vote.kind)'s signature does not verify for \(vote.voter.hex)") }
                checked.insert(key)
            }
        case .proposal(let proposal):
            guard !current || membership.holds(proposal.proposer, .authority) else {
                throw RuleError(.badVote, "proposer \(proposal.proposer.hex) is not an authority")
            }
            guard proposal.verifies else { throw RuleError(.badVote, "the proposal's signature does not verify (qbc/bft-proposal/v1)") }
            // The signature covers the header's hash only; the body must be the header's, or a
            // relay could swap it under a verdict judged for the real one.
            let header = proposal.quant.header
            guard Int(header.transactionCount) == proposal.quant.transactions.count,
                Merkle.root(proposal.quant.transactions.map(\.id)) == header.merkleRoot
            else { throw RuleError(.badVote, "the proposed Quant's transactions are not the ones its header names") }
        }
        sink.yield(.message(message))
        return .queued
    }

    /// Signatures of votes checked lately, so votes sent again cost no second check.
    private nonisolated let checked = RecentVotes(capacity: 8192)

    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [sink, environment] in
                while !Task.isCancelled {
                    do { try await environment.clock.sleep(for: Self.tick) } catch { break }
                    sink.yield(.tick)
                }
                sink.finish()
            }
            for await event in events { await handle(event) }
            group.cancelAll()
        }
    }

    private func handle(_ event: Event) async {
        do {
            try await refresh()
            switch event {
            case .tick: try await tick()
            case .message(let message): try await take(message)
            }
        } catch {
            logger.error("a BFT step failed", metadata: ["chain": "\(chain.rules.name)", "error": "\(error)"])
        }
    }

    // MARK: Heights

    /// Moves to the height above the tip when the tip moved (a decision here, or sync).
    private func refresh() async throws(StorageError) {
        let (tip, membership) = await chain.consensusView()
        let hash = tip?.hash ?? chain.id
        guard hash != tipHash else { return }
        let first = tipHash == nil
        tipHash = hash
        let height = (tip?.header.height ?? 0) + 1
        timers = []
        verdicts = [:]
        if !first { lastCommit = now }
        let authorities = membership.members(with: .authority)
        guard authorities.contains(key.publicKey) else {
            state = nil
            ahead = []
            return
        }
        let stored = try await chain.reader.signerState(chain: chain.id)
        let valid = try await chain.reader.validProof(chain: chain.id)
        state = BFTHeight(chain: chain.id, height: height, authorities: authorities, engine: engine, key: key, restoring: stored, valid: valid)
        let waiting = ahead.filter { $0.height == height }
        ahead.removeAll { $0.height <= height }
        for message in waiting { try await take(message) }
    }

    private func tick() async throws(StorageError) {
        guard let current = state else { return }
        let now = self.now
        let due = timers.filter { $0.due <= now }
        timers.removeAll { $0.due <= now }
        for timer in due { try await perform(apply { $0.timeout(timer.timeout) }) }
        if !current.started, await chain.sealable() > 0, now.milliseconds(since: lastCommit) >= Int64(chain.rules.leap.intervalMilliseconds) {
            try await perform(apply { $0.start() })
        }
        if current.round != roundSeen.round || current.height != roundSeen.height {
            roundSeen = (current.height, current.round, now)
        }
        // What this node holds of its round, again, for peers that missed it (lost, or cut off);
        // the proposal only once the round has lasted a while: in a healthy round every node has
        // it, and it is the largest message.
        if current.started, now.milliseconds(since: resentAt) >= Int64(engine.timeoutMilliseconds) {
            resentAt = now
            let lasted = now.milliseconds(since: roundSeen.since) >= Int64(engine.timeoutMilliseconds)
            let messages = current.ownMessages.filter { message in
                if case .proposal = message { return lasted }
                return true
            }
            logger.trace("bft resend", metadata: ["height": "\(current.height)", "round": "\(current.round)", "step": "\(current.step)", "messages": "\(messages.count)"])
            await emit(messages)
        }
    }

    private func take(_ message: BFTHeight.Message) async throws(StorageError) {
        guard let height = state?.height else { return }
        if message.height == height + 1 {
            // Bounded: votes by count, proposals (whole Quants) a few.
            let proposals = ahead.reduce(0) { count, held in if case .proposal = held { count + 1 } else { count } }
            if case .proposal = message, proposals >= Self.aheadProposals { return }
            if ahead.count < Self.aheadCapacity { ahead.append(message) }
            return
        }
        guard message.height == height else { return }
        switch message {
        case .vote(let vote):
            logger.trace("bft vote in", metadata: ["chain": "\(chain.rules.name)", "kind": "\(vote.kind)", "round": "\(vote.round)", "voter": "\(vote.voter.hex.prefix(8))", "for": "\(vote.quant?.hex.prefix(8) ?? "nil")"])
            try await perform(apply { $0.receive(vote).1 })
        case .proposal(let proposal):
            logger.trace("bft proposal in", metadata: [
                "chain": "\(chain.rules.name)", "round": "\(proposal.round)", "quant": "\(proposal.quant.hash.hex.prefix(8))",
                "wanted": "\(state?.wants(proposal) == true)", "at": "\(state?.round ?? 0)"])
            let hash = proposal.quant.hash
            // Refused only for a timestamp ahead of this node's clock (such verdicts are not kept):
            // judged again when sent again, or an honest node would refuse it for the whole height.
            if state?.holdsInvalid(hash) == true, verdicts[hash] == nil {
                guard try await verdict(on: proposal), state?.height == height else { return }
                try await perform(apply { $0.nowValid(hash) })
                return
            }
            guard state?.wants(proposal) == true else { return }
            let valid = try await verdict(on: proposal)
            // Judging awaited: the height may have been decided meanwhile.
            guard state?.height == height else { return }
            try await perform(apply { $0.receive(proposal, valid: valid).1 })
        }
    }

    /// Whether a proposed Quant passes every rule on the tip; judged once per Quant and height.
    private func verdict(on proposal: Proposal) async throws(StorageError) -> Bool {
        let hash = proposal.quant.hash
        if let known = verdicts[hash]?.valid { return known }
        let refusal = try await chain.judge(proposal.quant, now: now)
        if let refusal {
            logger.warning("a proposed Quant breaks a rule", metadata: [
                "chain": "\(chain.rules.name)", "height": "\(proposal.height)", "round": "\(proposal.round)", "rule": "\(refusal)"])
        }
        // A Quant dated too far ahead of this node's clock may pass later: only lasting verdicts are kept.
        if refusal?.code != .badTimestamp {
            if verdicts.count >= Self.verdictCapacity, let oldest = verdicts.min(by: { $0.value.order < $1.value.order })?.key {
                verdicts[oldest] = nil
            }
            verdictOrder += 1
            verdicts[hash] = (refusal == nil, verdictOrder)
        }
        return refusal == nil
    }

    private func apply(_ body: (inout BFTHeight) -> [BFTHeight.Action]) -> [BFTHeight.Action] {
        apply { machine in ((), body(&machine)) }.1
    }

    private func apply<T>(_ body: (inout BFTHeight) -> (T, [BFTHeight.Action])) -> (T?, [BFTHeight.Action]) {
        guard var current = state else { return (nil, []) }
        let (result, actions) = body(&current)
        state = current
        return (result, actions)
    }

    /// Carries out the machine's actions in order, messages together at the end in one push. A
    /// signer state that cannot be stored stops the rest: no vote leaves this node before what it
    /// binds is on disk.
    private func perform(_ actions: [BFTHeight.Action]) async throws(StorageError) {
        var outgoing = [BFTHeight.Message]()
        try await perform(actions, sending: &outgoing)
        await emit(outgoing)
    }

    /// Sends messages in pushes within the wire's bounds (ConsensusMessagesJSON: 1,024 votes and 4
    /// proposals): a push over them would be refused, and a refused push backs the link off.
    private func emit(_ messages: [BFTHeight.Message]) async {
        var chunk = [BFTHeight.Message]()
        var (votes, proposals) = (0, 0)
        for message in messages {
            let isProposal = if case .proposal = message { true } else { false }
            if isProposal ? proposals == Self.proposalsPerPush : votes == Self.votesPerPush {
                await send(chunk)
                (chunk, votes, proposals) = ([], 0, 0)
            }
            if isProposal { proposals += 1 } else { votes += 1 }
            chunk.append(message)
        }
        if !chunk.isEmpty { await send(chunk) }
    }

    private func perform(_ actions: [BFTHeight.Action], sending outgoing: inout [BFTHeight.Message]) async throws(StorageError) {
        for action in actions {
            logger.trace("bft action", metadata: ["chain": "\(chain.rules.name)", "height": "\(state?.height ?? 0)", "round": "\(state?.round ?? 0)", "action": "\(action)"])
            switch action {
            case .persist(let signer):
                do { try await chain.reader.save(signer, chain: chain.id) } catch {
                    forgetHeight()
                    throw error
                }
            case .persistValid(let proof):
                do { try await chain.reader.save(proof, chain: chain.id) } catch {
                    forgetHeight()
                    throw error
                }
            case .send(let message):
                outgoing.append(message)
            case .schedule(let timeout):
                timers.append((Timestamp(milliseconds: now.milliseconds &+ timeout.after), timeout))
            case .build(let round):
                guard let quant = try await chain.proposal(now: now), quant.header.height == state?.height else { continue }
                try await perform(apply { $0.built(quant, round: round) }, sending: &outgoing)
            case .decide(let quant):
                try await commit(quant)
            }
        }
    }

    /// The machine holds votes whose signer state is not on disk: it must not send them again.
    /// The height starts over from the store at the next event.
    private func forgetHeight() {
        state = nil
        tipHash = nil
    }

    private func commit(_ quant: Quant) async throws(StorageError) {
        switch try await chain.receive(quant, now: now) {
        case .committed(let stored):
            logger.debug("final", metadata: [
                "chain": "\(chain.rules.name)", "height": "\(stored.header.height)", "round": "\(quant.certificate?.round ?? 0)",
                "transactions": "\(quant.transactions.count)"])
        case .notOnTip:
            break  // sync committed it (or another) first
        case .rejected(let error):
            // Every honest authority judged this Quant valid before voting: a refusal now is this
            // node's fault (its clock, its store). Start the height again; its votes still bind.
            logger.error("a decided Quant was refused", metadata: ["chain": "\(chain.rules.name)", "rule": "\(error)"])
            forgetHeight()
        }
    }
}

extension BFTHeight.Message {
    public var chain: ChainID {
        switch self {
        case .proposal(let proposal): proposal.chain
        case .vote(let vote): vote.chain
        }
    }

    public var height: UInt64 {
        switch self {
        case .proposal(let proposal): proposal.height
        case .vote(let vote): vote.height
        }
    }
}

/// The last `capacity` votes whose signatures verified (signature and signed bytes, hashed),
/// oldest forgotten first.
final class RecentVotes: Sendable {
    private let state: Mutex<(set: Set<Hash>, order: [Hash], next: Int)>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        state = Mutex((Set(), [], 0))
    }

    /// A vote's identity: its signed bytes and its signature, hashed (its encoded form holds both).
    static func key(_ vote: Vote) -> Hash { Hash.blake2b(vote.encoded) }

    func seen(_ key: Hash) -> Bool { state.withLock { $0.set.contains(key) } }

    func insert(_ key: Hash) {
        state.withLock { s in
            guard s.set.insert(key).inserted else { return }
            if s.order.count < capacity {
                s.order.append(key)
            } else {
                s.set.remove(s.order[s.next])
                s.order[s.next] = key
                s.next = (s.next + 1) % capacity
            }
        }
    }
}
