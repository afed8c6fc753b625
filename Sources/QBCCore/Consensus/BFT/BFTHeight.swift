public import QBCCrypto

/// The rounds of one height of a BFT chain, as one authority sees them: the algorithm of
/// "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic, 2018), pure and deterministic.
/// Messages, timeouts and Quants the node built go in; what to send, store, schedule and commit
/// comes out. The node checks signatures and Quants before they enter (consensus.md, "BFT").
public struct BFTHeight: Sendable {
    public enum Step: Int, Sendable, Comparable, CustomStringConvertible {
        case propose, prevote, precommit
        public static func < (a: Step, b: Step) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["propose", "prevote", "precommit"][rawValue] }
    }

    /// A step's deadline: when it passes with the height, round and step unchanged, the step ends.
    public struct Timeout: Sendable, Hashable {
        public let step: Step
        public let height: UInt64
        public let round: UInt32
        /// Milliseconds from when it was scheduled.
        public let after: UInt64

        public init(step: Step, height: UInt64, round: UInt32, after: UInt64) {
            self.step = step
            self.height = height
            self.round = round
            self.after = after
        }
    }

    public enum Message: Sendable {
        case proposal(Proposal)
        case vote(Vote)
    }

    public enum Action: Sendable {
        /// Build a Quant of waiting transactions on the parent and hand it to `built(_:round:)`;
        /// with nothing to build, do nothing (the round times out).
        case build(round: UInt32)
        /// Store the signer state before carrying out the actions that follow it.
        case persist(SignerState)
        /// Store the valid Quant and the prevotes for it (for liveness after a crash).
        case persistValid(ValidProof)
        case send(Message)
        case schedule(Timeout)
        /// Commit this certified Quant: the height is decided.
        case decide(Quant)
    }

    /// What became of a message.
    public enum Intake: Sendable, Equatable {
        case accepted
        /// Already held (a resend): harmless.
        case duplicate
        /// Another message from the same authority for the same step: it signed both.
        case conflicting
        case refused(RuleError)
    }

    public let chain: ChainID
    public let height: UInt64
    /// The authorities at this height, in byte order of their keys.
    public let authorities: [PublicKey]
    public let engine: BFTEngine
    private let key: SigningKey?
    public let quorum: Int

    public private(set) var round: UInt32 = 0
    public private(set) var step: Step = .propose
    public private(set) var started = false
    public private(set) var decided: Quant?
    public private(set) var signer: SignerState
    private var validRound: UInt32?
    private var validQuant: Quant?
    private var validProof: ValidProof?
    private var proposals: [UInt32: Proposal] = [:]
    private var validity: [Hash: Bool] = [:]
    /// Votes by round and voter. An authority that signed two votes for one step keeps both: it
    /// counts towards each Quant it voted for, as if it were in both quorums, which the f it
    /// stands for may be anyway. Keeping only its first vote would let it show one vote to some
    /// nodes and another to others, and they could never agree on a quorum another node relays.
    /// Bounded: votes for Quants not held here are kept `votesPerStep` per authority and step.
    private var prevotes: [UInt32: [PublicKey: [Vote]]] = [:]
    private var precommits: [UInt32: [PublicKey: [Vote]]] = [:]
    static let votesPerStep = 3
    private var fired: Set<Fired> = []

    private struct Fired: Hashable {
        let rule: UInt8
        let round: UInt32
    }

    /// Rounds ahead of this node's for which messages are kept: enough to follow peers that timed
    /// out further (at least f + 1 of them make this node skip ahead), bounded per authority.
    public static let roundsAhead: UInt32 = 64
    /// Rounds behind whose votes for nil are sent again.
    static let votesResent: UInt32 = 8
    /// Rounds behind for which proposals (whole Quants) are kept.
    static let proposalsBehind: UInt32 = 4

    /// `key`: this node's, when it is one of the authorities. `restoring`: the signer state stored
    /// before a crash, taken when it is for this height.
    public init(
        chain: ChainID, height: UInt64, authorities: [PublicKey], engine: BFTEngine, key: SigningKey?, restoring: SignerState? = nil,
        valid: ValidProof? = nil
    ) {
        self.chain = chain
        self.height = height
        self.authorities = authorities.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        self.engine = engine
        self.key = key.flatMap { authorities.contains($0.publicKey) ? $0 : nil }
        quorum = BFTEngine.quorum(authorities.count)
        if let restoring, restoring.height == height {
            signer = restoring
            round = restoring.round
            if let key = self.key {
                for entry in restoring.history {
                    record(Vote(entry.kind, chain: chain, height: height, round: entry.round, quant: entry.quant, with: key))
                }
            }
        } else {
            signer = SignerState(height: height)
        }
        if let valid, valid.height == height, valid.quant.header.chain == chain {
            validRound = valid.round
            validQuant = valid.quant
            validProof = valid
            validity[valid.quant.hash] = true
            for vote in valid.prevotes
            where vote.kind == .prevote && vote.chain == chain && vote.height == height && vote.round == valid.round
                && vote.quant == valid.quant.hash && self.authorities.contains(vote.voter)
            {
                record(vote)
            }
        }
    }

    public var isAuthority: Bool { key != nil }
    public var proposer: PublicKey? { BFTEngine.proposer(height: height, round: round, authorities: authorities) }

    // MARK: Inputs

    /// Starts the height (there is something to decide): round 0, or the round stored before a crash.
    public mutating func start() -> [Action] {
        guard !started, decided == nil else { return [] }
        started = true
        var out = [Action]()
        startRound(round, &out)
        evaluate(&out)
        return out
    }

    /// A proposal whose signature the caller checked, with its verdict on the Quant (every rule
    /// against the parent).
    public mutating func receive(_ proposal: Proposal, valid: Bool) -> (Intake, [Action]) {
        guard proposal.chain == chain, proposal.height == height else {
            return (.refused(RuleError(.staleVote, "the proposal is for height \(proposal.height); this node is at \(height)")), [])
        }
        guard proposal.proposer == BFTEngine.proposer(height: height, round: proposal.round, authorities: authorities) else {
            return (.refused(RuleError(.badVote, "\(proposal.proposer.hex) is not the proposer of round \(proposal.round)")), [])
        }
        if let refusal = refusal(round: proposal.round) { return (refusal, []) }
        if proposal.round + Self.proposalsBehind < round { return (.duplicate, []) }
        if let held = proposals[proposal.round] { return (held.quant.hash == proposal.quant.hash ? .duplicate : .conflicting, []) }
        proposals[proposal.round] = proposal
        if validity[proposal.quant.hash] == nil { validity[proposal.quant.hash] = valid }
        return (.accepted, advance())
    }

    /// True when `proposal` would be taken: the round's proposer, the current round or the next
    /// (or one of the last few), none held for it yet. The caller judges the Quant only then:
    /// judging costs every signature in it, so an authority cannot make a node judge Quants for
    /// rounds far ahead (proposers send theirs again every `timeoutMilliseconds`).
    public func wants(_ proposal: Proposal) -> Bool {
        proposal.chain == chain && proposal.height == height && decided == nil && proposals[proposal.round] == nil
            && proposal.round <= round &+ 1 && proposal.round + Self.proposalsBehind >= round
            && proposal.proposer == BFTEngine.proposer(height: height, round: proposal.round, authorities: authorities)
    }

    /// True when a proposal for `quant` is held and was judged invalid: the caller may judge it
    /// again when a refusal can pass with time (a timestamp ahead of this node's clock).
    public func holdsInvalid(_ quant: Hash) -> Bool {
        validity[quant] == false && proposals.values.contains { $0.quant.hash == quant }
    }

    /// A held Quant judged invalid before passes now (its timestamp is no longer ahead).
    public mutating func nowValid(_ quant: Hash) -> [Action] {
        guard validity[quant] == false else { return [] }
        validity[quant] = true
        var out = [Action]()
        evaluate(&out)
        return out
    }

    /// A vote whose signature the caller checked.
    public mutating func receive(_ vote: Vote) -> (Intake, [Action]) {
        guard vote.chain == chain, vote.height == height else {
            return (.refused(RuleError(.staleVote, "the vote is for height \(vote.height); this node is at \(height)")), [])
        }
        guard authorities.contains(vote.voter) else {
            return (.refused(RuleError(.badVote, "\(vote.voter.hex) is not an authority at height \(height)")), [])
        }
        if let refusal = refusal(round: vote.round) { return (refusal, []) }
        let held = tally(vote.kind)[vote.round]?[vote.voter] ?? []
        if held.contains(where: { $0.quant == vote.quant }) { return (.duplicate, []) }
        // Votes for nil or for a Quant held here always count; of the rest (a Quant not seen yet,
        // or none at all) an authority keeps its latest `votesPerStep`. Its vote for a Quant
        // proposed later comes again: honest authorities send again what they hold.
        let stray = held.filter { !matters($0.quant) }
        if !matters(vote.quant), stray.count >= Self.votesPerStep, let oldest = stray.first {
            forget(oldest)
        }
        record(vote)
        return (held.isEmpty ? .accepted : .conflicting, advance())
    }

    /// A Quant the node built after `.build(round:)`.
    public mutating func built(_ quant: Quant, round built: UInt32) -> [Action] {
        guard built == round, step == .propose, decided == nil, proposals[round] == nil else { return [] }
        var out = [Action]()
        propose(quant, validRound: nil, &out)
        evaluate(&out)
        return out
    }

    public mutating func timeout(_ timeout: Timeout) -> [Action] {
        guard timeout.height == height, timeout.round == round, decided == nil else { return [] }
        var out = [Action]()
        switch timeout.step {
        case .propose where step == .propose: cast(.prevote, nil, &out)
        case .prevote where step == .prevote: cast(.precommit, nil, &out)
        case .precommit: startRound(round + 1, &out)
        default: return []
        }
        evaluate(&out)
        return out
    }

    /// What this node sends again every `timeoutMilliseconds`, since a peer may have missed it:
    /// - the proposal of the current round, its own or one it found valid (a slow link from the
    ///   proposer must not cost the round; the driver sends proposals again only in a round that
    ///   has lasted, since they are the largest messages);
    /// - every vote it holds of the current and the previous round, others' included (votes carry
    ///   their own signatures): what one honest authority saw, the others see soon after, so none
    ///   falls behind by a whole step — a proposer that entered its round a timeout late would
    ///   otherwise be late in every round it proposes in;
    /// - its own votes of the last `votesResent` rounds (a peer rounds behind needs them to end
    ///   its rounds), and every vote it cast for a Quant, which a later proposal may cite as its
    ///   valid round;
    /// - the quorum of prevotes behind its valid Quant, so peers that missed it can follow a
    ///   proposal citing it (else locked authorities and the rest could wait on each other forever).
    public var ownMessages: [Message] {
        guard let key = key?.publicKey else { return [] }
        var messages = [Message]()
        if let proposal = proposals[round], proposal.proposer == key || validity[proposal.quant.hash] == true {
            messages.append(.proposal(proposal))
        }
        var sent = Set<[UInt8]>()
        func add(_ vote: Vote) {
            if sent.insert(vote.signature.bytes).inserted { messages.append(.vote(vote)) }
        }
        for kind in Vote.Kind.allCases {
            for (voted, votes) in tally(kind).sorted(by: { $0.key < $1.key }) {
                if voted == round || voted + 1 == round {
                    for voter in votes.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) { votes[voter]?.forEach(add) }
                } else if let vote = votes[key]?.first, voted + Self.votesResent >= round || vote.quant != nil {
                    add(vote)
                }
            }
        }
        validProof?.prevotes.forEach(add)
        return messages
    }

    /// The Quant a proposal at `round` carries, if held.
    public func proposal(round: UInt32) -> Proposal? { proposals[round] }

    // MARK: The algorithm

    private func refusal(round: UInt32) -> Intake? {
        guard decided == nil else { return .duplicate }
        guard round <= self.round &+ Self.roundsAhead else {
            return .refused(RuleError(.staleVote, "round \(round) is more than \(Self.roundsAhead) rounds ahead of this node's \(self.round)"))
        }
        return nil
    }

    private mutating func advance() -> [Action] {
        var out = [Action]()
        // A message for the height starts it even here, where nothing waits to be committed:
        // peers have something, and the Quant they propose is what this node must check.
        if !started {
            started = true
            startRound(round, &out)
        }
        evaluate(&out)
        return out
    }

    /// Applies every rule that holds until none does.
    private mutating func evaluate(_ out: inout [Action]) {
        while decided == nil {
            if decide(&out) { return }
            if skipAhead(&out) || stepRules(&out) { continue }
            return
        }
    }

    /// A quorum precommitted a Quant held and found valid, in any round: it is decided.
    private mutating func decide(_ out: inout [Action]) -> Bool {
        for (round, proposal) in proposals.sorted(by: { $0.key < $1.key }) {
            let hash = proposal.quant.hash
            let votes = (precommits[round] ?? [:]).values.compactMap { $0.first { $0.quant == hash } }
            guard votes.count >= quorum, validity[hash] == true else { continue }
            let certificate = CommitCertificate(round: round, signers: votes.map { .init(key: $0.voter, signature: $0.signature) })
            let quant = proposal.quant.certified(by: certificate)
            decided = quant
            out.append(.decide(quant))
            return true
        }
        return false
    }

    /// f + 1 authorities in a later round: at least one honest one moved on, so this node does too.
    private mutating func skipAhead(_ out: inout [Action]) -> Bool {
        let later = Set(prevotes.keys).union(precommits.keys).filter { $0 > round }.sorted(by: >)
        for candidate in later {
            let voters = Set((prevotes[candidate] ?? [:]).keys).union((precommits[candidate] ?? [:]).keys)
            if voters.count > BFTEngine.faults(authorities.count) {
                startRound(candidate, &out)
                return true
            }
        }
        return false
    }

    private mutating func stepRules(_ out: inout [Action]) -> Bool {
        let proposal = proposals[round]
        let hash = proposal?.quant.hash
        let valid = hash.map { validity[$0] == true } ?? false
        if step == .propose, let proposal, let hash {
            if let validRound = proposal.validRound {
                if validRound < round, count(.prevote, validRound, hash) >= quorum {
                    let unlocked = signer.lockedRound.map { $0 <= validRound } ?? true
                    cast(.prevote, valid && (unlocked || signer.lockedQuant == hash) ? hash : nil, &out)
                    return true
                }
            } else {
                cast(.prevote, valid && (signer.lockedRound == nil || signer.lockedQuant == hash) ? hash : nil, &out)
                return true
            }
        }
        if step == .prevote, (prevotes[round]?.count ?? 0) >= quorum, once(0) {
            out.append(.schedule(Timeout(step: .prevote, height: height, round: round, after: engine.timeout(round: round))))
            return true
        }
        if step >= .prevote, let proposal, let hash, valid, count(.prevote, round, hash) >= quorum, once(1) {
            // The valid Quant is stored before the lock: a lock whose Quant a crash lost could
            // never be proposed again.
            validRound = round
            validQuant = proposal.quant
            let proof = ValidProof(round: round, quant: proposal.quant, prevotes: (prevotes[round] ?? [:]).values.compactMap { $0.first { $0.quant == hash } }
                .sorted { $0.voter.bytes.lexicographicallyPrecedes($1.voter.bytes) })
            validProof = proof
            out.append(.persistValid(proof))
            if step == .prevote {
                signer.lockedRound = round
                signer.lockedQuant = hash
                cast(.precommit, hash, &out)
            }
            return true
        }
        if step == .prevote, count(.prevote, round, nil) >= quorum {
            cast(.precommit, nil, &out)
            return true
        }
        if (precommits[round]?.count ?? 0) >= quorum, once(2) {
            out.append(.schedule(Timeout(step: .precommit, height: height, round: round, after: engine.timeout(round: round))))
            return true
        }
        return false
    }

    private mutating func startRound(_ next: UInt32, _ out: inout [Action]) {
        round = next
        step = .propose
        signer.round = next
        for old in proposals.keys where old + Self.proposalsBehind < next { proposals[old] = nil }
        if let key, BFTEngine.proposer(height: height, round: next, authorities: authorities) == key.publicKey {
            if let validQuant, let validRound {
                propose(validQuant, validRound: validRound, &out)
            } else {
                out.append(.build(round: next))
            }
        }
        out.append(.schedule(Timeout(step: .propose, height: height, round: next, after: engine.timeout(round: next))))
    }

    private mutating func propose(_ quant: Quant, validRound: UInt32?, _ out: inout [Action]) {
        guard let key, signer.proposedRound.map({ $0 < round }) ?? true else { return }
        signer.proposedRound = round
        out.append(.persist(signer))
        let proposal = Proposal(quant: quant, round: round, validRound: validRound, with: key)
        proposals[round] = proposal
        validity[quant.hash] = true
        out.append(.send(.proposal(proposal)))
    }

    /// Casts this node's vote of `kind` in the current round and moves to its step. A vote signed
    /// before a crash binds: in that round it is sent again unchanged, and none is signed for an
    /// earlier round.
    private mutating func cast(_ kind: Vote.Kind, _ quant: Hash?, _ out: inout [Action]) {
        step = kind == .prevote ? .prevote : .precommit
        guard let key else { return }
        let last = kind == .prevote ? signer.prevote : signer.precommit
        let choice: Hash?
        if let last, last.round >= round {
            guard last.round == round else { return }
            choice = last.quant
        } else {
            choice = quant
            if kind == .prevote { signer.prevote = .init(round: round, quant: quant) } else { signer.precommit = .init(round: round, quant: quant) }
            signer.remember(kind, round: round, quant: quant)
            out.append(.persist(signer))
        }
        let vote = Vote(kind, chain: chain, height: height, round: round, quant: choice, with: key)
        record(vote)
        out.append(.send(.vote(vote)))
    }

    private mutating func record(_ vote: Vote) {
        switch vote.kind {
        case .prevote: prevotes[vote.round, default: [:]][vote.voter, default: []].append(vote)
        case .precommit: precommits[vote.round, default: [:]][vote.voter, default: []].append(vote)
        }
    }

    private func tally(_ kind: Vote.Kind) -> [UInt32: [PublicKey: [Vote]]] { kind == .prevote ? prevotes : precommits }

    /// True for nil and for the hash of a Quant held here (proposed in a round kept, or valid).
    private func matters(_ quant: Hash?) -> Bool {
        guard let quant else { return true }
        return validQuant?.hash == quant || signer.lockedQuant == quant || proposals.values.contains { $0.quant.hash == quant }
    }

    private mutating func forget(_ vote: Vote) {
        switch vote.kind {
        case .prevote: prevotes[vote.round]?[vote.voter]?.removeAll { $0.signature == vote.signature }
        case .precommit: precommits[vote.round]?[vote.voter]?.removeAll { $0.signature == vote.signature }
        }
    }

    private func count(_ kind: Vote.Kind, _ round: UInt32, _ quant: Hash?) -> Int {
        (tally(kind)[round] ?? [:]).values.reduce(0) { $0 + ($1.contains { $0.quant == quant } ? 1 : 0) }
    }

    /// True the first time a rule fires in the current round.
    private mutating func once(_ rule: UInt8) -> Bool { fired.insert(Fired(rule: rule, round: round)).inserted }
}
