import Foundation
import QBCCore
import QBCCrypto
import QBCNode
import QBCSQLiteStore
import QBCStorage

/// A deterministic simulation of a QBC network: whole nodes (the real chain and network services)
/// in one process, over a simulated network and clock, with clients, crashes, partitions and a
/// byzantine peer, all drawn from one seed. `run` replays a seed exactly.
public enum Simulation {
    /// The virtual clock's start: any fixed instant.
    static let epoch: UInt64 = 1_800_000_000_000
    static let mempoolCapacity = 5_000

    /// Runs `seed` to the end on the calling thread (it blocks) and reports.
    public static func run(seed: UInt64, config: SimulationConfig) -> SimulationReport {
        let scheduler = SimulationScheduler(start: epoch)
        let recorder = Recorder(clock: { scheduler.now - epoch }, tailLength: config.traceLines, finalCommits: config.engine == BFTEngine.name)
        let end = epoch + config.activeMilliseconds + config.quietMilliseconds
        let world = World(seed: seed, config: config, scheduler: scheduler, recorder: recorder)
        let root = Task(executorPreference: scheduler) { await world.play() }
        // A margin past the end lets the last checks and the wind-down finish.
        scheduler.run(until: end + 60_000)
        root.cancel()
        if scheduler.foreignJobs > 0 { recorder.violated("determinism: \(scheduler.foreignJobs) jobs came from outside the simulation's thread") }
        if !world.finished { recorder.violated("liveness: the run did not reach its checks by the end of simulated time") }
        let snapshot = recorder.snapshot
        return SimulationReport(
            seed: seed, config: config, violation: snapshot.violation, traceDigest: Hex.encode(snapshot.digest),
            traceTail: snapshot.tail, stats: snapshot.counters.merging(["trace lines": snapshot.lines]) { a, _ in a },
            simulatedMilliseconds: scheduler.now - epoch, jobs: scheduler.jobsRun)
    }
}

/// Everything one run holds: keys, the chain, the nodes, the network, the byzantine peer.
final class World: @unchecked Sendable {
    let config: SimulationConfig
    let scheduler: SimulationScheduler
    let recorder: Recorder
    let net: SimulatedNetwork
    let admin: SigningKey
    let writers: [SigningKey]
    /// A writer granted its role by governance during the run, and revoked later.
    let newcomer: SigningKey
    let bang: Bang
    let nodes: [SimulatedNode]
    let byzantine: [ByzantinePeer]
    var random: SeededRandom
    var finished = false
    let activeEnd: UInt64

    init(seed: UInt64, config: SimulationConfig, scheduler: SimulationScheduler, recorder: Recorder) {
        self.config = config
        self.scheduler = scheduler
        self.recorder = recorder
        var random = SeededRandom(seed: seed)
        func key() -> SigningKey {
            var seed = random.bytes(32)
            // 32 bytes always make a key.
            guard let key = try? SigningKey(seed: SecretBytes(consuming: &seed)) else { preconditionFailure("a 32-byte seed makes a key") }
            return key
        }
        admin = key()
        writers = [key(), key()]
        newcomer = key()
        let nodeKeys = (0..<max(1, config.nodes)).map { _ in key() }
        let byzantineKeys = [key(), key()]
        let authorities = config.engine != ProofOfWorkEngine.name
        let bft = config.engine == BFTEngine.name
        var members: [PublicKey: Role] = [admin.publicKey: .admin]
        for writer in writers { members[writer.publicKey] = .writer }
        for node in nodeKeys { members[node.publicKey] = authorities ? [.node, .authority] : .node }
        if config.faults.contains(.byzantine) {
            // Under BFT only the crafty one is an authority: one of n = nodes + 1, at most f.
            for (index, byzantine) in byzantineKeys.enumerated() {
                members[byzantine.publicKey] = authorities && (!bft || index == 1) ? [.node, .authority] : .node
            }
        }
        bang = Bang(rules: World.rules(name: "sim", engine: config.engine, members: members), timestamp: Timestamp(milliseconds: Simulation.epoch), creator: admin)
        net = SimulatedNetwork(scheduler: scheduler, faults: config.faults, random: random.fork(), recorder: recorder)
        var nodes = [SimulatedNode]()
        for (index, nodeKey) in nodeKeys.enumerated() {
            let skew = config.faults.contains(.skew) ? Int64(random.next() % 601) - 300 : 0
            let durable: any BlockStore
            switch config.store {
            case .memory:
                durable = MemoryBlockStore()
            case .sqlite(let directory):
                do { durable = try SQLiteBlockStore(directory: "\(directory)/node\(index)", blocking: true) } catch {
                    recorder.violated("setup: \(error)")
                    durable = MemoryBlockStore()
                }
            }
            nodes.append(SimulatedNode(index: index, key: nodeKey, durable: durable, clock: SimulatedClock(scheduler: scheduler, skew: skew)))
        }
        self.nodes = nodes
        var byzantine = [ByzantinePeer]()
        if config.faults.contains(.byzantine) {
            for (key, style) in zip(byzantineKeys, [ByzantinePeer.Style.loud, .crafty]) {
                byzantine.append(ByzantinePeer(key: key, style: style, bang: bang, random: random.fork(), recorder: recorder))
            }
        }
        self.byzantine = byzantine
        activeEnd = Simulation.epoch + config.activeMilliseconds
        self.random = random
    }

    static func rules(name: String, engine: String, members: [PublicKey: Role]) -> ChainRules {
        let consensus: Consensus = switch engine {
        case ProofOfAuthorityEngine.name: .proofOfAuthority(outOfTurnDelayMilliseconds: 1000)
        case BFTEngine.name: .bft(BFTEngine(timeoutMilliseconds: 1000, timeoutIncrementMilliseconds: 500, maxTimeoutMilliseconds: 5000))
        default: .proofOfWork(difficultyBits: 6)
        }
        return ChainRules(name: name, consensus: consensus, membership: Membership(members))
    }

    var now: UInt64 { scheduler.now }
    func pause(_ milliseconds: UInt64) async throws { try await scheduler.sleep(milliseconds: milliseconds) }
    func draw(_ bound: UInt64) -> UInt64 { bound == 0 ? 0 : random.next() % bound }
    var running: [SimulatedNode] { nodes.filter(\.isRunning) }

    /// The whole run: start, load and faults, heal, quiet, checks.
    func play() async {
        let addresses = nodes.map(\.address)
        for node in nodes {
            do {
                try await node.durable.create(bang)
                try await node.start(
                    net: net, peers: addresses.filter { $0 != node.address }, recorder: recorder, capacity: Simulation.mempoolCapacity,
                    random: random.fork())
            } catch {
                recorder.violated("setup: node\(node.index) did not start: \(error)")
                return
            }
        }
        for peer in byzantine { net.attach(peer.address, peer) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.clients() }
            group.addTask { await self.governance() }
            group.addTask { await self.faults() }
            group.addTask { await self.monitor() }
            for peer in byzantine {
                let clock = SimulatedClock(scheduler: scheduler, skew: 0)
                group.addTask { await peer.run(net: self.net, honest: addresses, clock: clock, until: self.activeEnd) }
            }
        }
        net.heal()
        for node in nodes where !node.isRunning { await restart(node) }
        recorder.trace("healed; quiet until the checks")
        try? await pause(config.quietMilliseconds)
        await check()
        finished = true
        for node in nodes { node.crash(net: net, recorder: recorder) }
    }

    func restart(_ node: SimulatedNode) async {
        do {
            try await node.start(
                net: net, peers: nodes.map(\.address).filter { $0 != node.address }, recorder: recorder, capacity: Simulation.mempoolCapacity,
                random: random.fork())
        } catch {
            recorder.violated("restart: node\(node.index) did not start again: \(error)")
        }
    }

    // MARK: Load

    /// Writers submit signed transactions to random running nodes, to every chain there is.
    func clients() async {
        let interval = UInt64(max(1, 1000 / max(0.01, config.transactionsPerSecond)))
        var sequence = 0
        var recent = [(ChainID, [Transaction])]()
        while now < activeEnd {
            do { try await pause(interval / 2 + draw(interval)) } catch { return }
            let live = running
            guard !live.isEmpty, let node = live.randomElement(using: &random), let incarnation = node.incarnation else { continue }
            let chains = incarnation.directory.all
            let chain = chains[Int(draw(UInt64(chains.count)))]
            let progress = Double(now - Simulation.epoch) / Double(max(1, config.activeMilliseconds))
            let senders = writers + (progress > 0.25 && progress < 0.8 ? [newcomer] : [])
            let sender = senders[Int(draw(UInt64(senders.count)))]
            let stamp = node.clock.now()
            let batch = (0...draw(3)).map { _ -> Transaction in
                sequence += 1
                return Transaction(
                    signing: .init(chain: chain.id, sender: sender.publicKey, nonce: Nonce(unchecked: random.bytes(16)), timestamp: stamp,
                                   contentType: "application/json", payload: Array(#"{"n":\#(sequence)}"#.utf8)),
                    with: sender)
            }
            // Now and then a client sends an earlier batch again to another node, as clients do
            // when an answer is slow: duplicates race their own commits.
            let again = random.chance(0.5) ? recent.last : recent.randomElement(using: &random)
            if let (chainID, earlier) = again, random.chance(0.3),
                let other = live.randomElement(using: &random), let target = other.incarnation?.directory.chain(chainID)
            {
                let outcomes = (try? await target.admit(earlier, now: other.clock.now())) ?? []
                for case .admitted(let id) in outcomes { recorder.admitted(id, chain: chainID) }
                recorder.trace("client again -> node\(other.index) \(outcomes.filter { if case .admitted = $0 { true } else { false } }.count)/\(earlier.count)")
            }
            recent.append((chain.id, batch))
            if recent.count > 8 { recent.removeFirst() }
            guard let outcomes = try? await chain.admit(batch, now: node.clock.now()) else { continue }
            var admitted = 0
            for case .admitted(let id) in outcomes {
                recorder.admitted(id, chain: chain.id)
                admitted += 1
            }
            recorder.count("admitted", admitted)
            recorder.trace("client -> node\(node.index) \(chain.rules.name) \(admitted)/\(batch.count)")
        }
    }

    /// An admin grants a newcomer the writer role, creates a second chain, and revokes the role.
    func governance() async {
        let steps: [(Double, () async -> Void)] = [
            (0.2, { await self.change(.grant) }),
            (0.3, { await self.createChain() }),
            (0.6, { await self.change(.revoke) }),
        ]
        for (fraction, step) in steps {
            let at = Simulation.epoch + UInt64(Double(config.activeMilliseconds) * fraction)
            if at > now { try? await pause(at - now) }
            await step()
        }
    }

    private func change(_ action: MembershipChange.Action) async {
        guard let node = running.first, let chain = node.incarnation?.directory.chain(bang.id) else { return }
        let change = MembershipChange(chain: bang.id, action: action, member: newcomer.publicKey, roles: .writer, nonce: Nonce(unchecked: random.bytes(16)))
        let proposal = MembershipProposal(change: change, approvals: [Approval(approving: change, with: admin)])
        let tx = Transaction(
            signing: .init(chain: bang.id, sender: admin.publicKey, nonce: Nonce(unchecked: random.bytes(16)), timestamp: node.clock.now(),
                           contentType: MembershipChange.contentType, payload: proposal.encoded),
            with: admin)
        let outcome = try? await chain.admit([tx], now: node.clock.now())
        if case .admitted(let id)? = outcome?.first { recorder.admitted(id, chain: bang.id) }
        recorder.trace("admin \(action) newcomer via node\(node.index): \(outcome.map { "\($0)" } ?? "failed")")
    }

    private func createChain() async {
        guard let node = running.first, let directory = node.incarnation?.directory else { return }
        let second = Bang(rules: World.rules(name: "sim-b", engine: bang.rules.consensus.engineName, members: bang.rules.membership.roles),
                          timestamp: node.clock.now(), creator: admin)
        do {
            _ = try await directory.adopt(second)
            recorder.trace("admin created chain sim-b on node\(node.index)")
        } catch {
            recorder.trace("creating sim-b on node\(node.index) failed: \(error)")
        }
    }

    // MARK: Faults

    /// Partitions and crashes, drawn from the seed, until the active period ends.
    func faults() async {
        var healAt: UInt64?
        var restartAt = [Int: UInt64]()
        while now < activeEnd {
            do { try await pause(1000 + draw(4000)) } catch { return }
            if let at = healAt, now >= at {
                net.heal()
                healAt = nil
                recorder.trace("partition healed")
            }
            for (index, at) in restartAt.sorted(by: { $0.key < $1.key }) where now >= at {
                restartAt[index] = nil
                await restart(nodes[index])
            }
            if config.faults.contains(.partitions), healAt == nil, nodes.count > 1, random.chance(0.3) {
                var groups = [String: Int]()
                let cut = 1 + Int(draw(UInt64(nodes.count - 1)))
                for (position, node) in nodes.shuffled(using: &random).enumerated() { groups[node.address] = position < cut ? 1 : 0 }
                for peer in byzantine { groups[peer.address] = Int(draw(2)) }
                net.partition(groups)
                healAt = now + 3000 + draw(20_000)
                recorder.trace("partition \(groups.filter { $0.value == 1 }.keys.sorted())")
            }
            if config.faults.contains(.crashes), random.chance(0.25), let victim = running.randomElement(using: &random) {
                victim.crash(net: net, recorder: recorder)
                restartAt[victim.index] = now + 500 + draw(15_000)
            }
        }
    }

    /// Bounds that must hold at every moment: mempools within capacity, peer books within 256.
    func monitor() async {
        while now < activeEnd {
            do { try await pause(1000) } catch { return }
            for node in running {
                guard let incarnation = node.incarnation else { continue }
                for chain in incarnation.directory.all {
                    let stats = await chain.stats()
                    if stats.mempoolSize > stats.mempoolCapacity {
                        recorder.violated("bounds: node\(node.index)'s mempool holds \(stats.mempoolSize) of \(stats.mempoolCapacity)")
                    }
                }
                let peers = await incarnation.network.peerCount
                if peers > PeerBook.capacity { recorder.violated("bounds: node\(node.index) knows \(peers) peers") }
            }
        }
    }
}
