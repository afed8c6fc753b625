import Foundation
import Logging
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import Synchronization

/// One honest node: the real chain and network services over a simulated transport and clock.
/// Its store outlives crashes (it is the disk); everything else is one incarnation, lost when the
/// node crashes and built anew when it starts again.
final class SimulatedNode: Sendable {
    let index: Int
    let key: SigningKey
    let address: String
    let durable: any BlockStore
    let clock: SimulatedClock
    private let running = Mutex<Incarnation?>(nil)
    private let epochs = Atomic<Int>(0)

    /// What a start builds and a crash throws away.
    struct Incarnation: Sendable {
        let store: CrashableStore
        let directory: ChainDirectory
        let network: NetworkService
        let task: Task<Void, Never>
    }

    init(index: Int, key: SigningKey, durable: any BlockStore, clock: SimulatedClock) {
        self.index = index
        self.key = key
        address = "http://node\(index).sim"
        self.durable = durable
        self.clock = clock
    }

    var isRunning: Bool { running.withLock { $0 != nil } }
    var incarnation: Incarnation? { running.withLock { $0 } }

    /// Opens every chain in the store and runs the node's services until it crashes.
    func start(net: SimulatedNetwork, peers: [String], recorder: Recorder, capacity: Int, random: SeededRandom) async throws {
        let epoch = epochs.add(1, ordering: .relaxed).newValue
        let store = CrashableStore(durable, scheduler: net.scheduler, random: random)
        var logger = Logger(label: "node\(index)") { [clock] label in SimulatedLogHandler(label: label, clock: clock) }
        logger.logLevel = ProcessInfo.processInfo.environment["QBC_SIM_DEBUG"] != nil ? (ProcessInfo.processInfo.environment["QBC_SIM_DEBUG"] == "trace" ? .trace : .debug) : .critical
        let environment = NodeEnvironment(
            clock: clock, sealingThreads: 0, verifierThreads: 0, logger: logger,
            observer: Recorder.Observer(node: "node\(index)", recorder: recorder))
        let directory = ChainDirectory(store: store, nodeKey: key, mempoolCapacity: capacity, environment: environment)
        for bang in try await store.bangs() { try await directory.open(bang) }
        let network = NetworkService(
            key: key, chains: directory, transport: SimulatedTransport(network: net, address: address, key: key.publicKey),
            bootstrap: peers, advertise: address, environment: environment, bans: try await store.bans(after: clock.now()))
        let leaps = LeapService(chains: directory, interval: 500, environment: environment)
        let task = Task(executorPreference: net.scheduler) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await network.run() }
                group.addTask { try? await leaps.run() }
            }
        }
        running.withLock { $0 = Incarnation(store: store, directory: directory, network: network, task: task) }
        net.attach(address, HonestEndpoint(network: network, directory: directory))
        recorder.trace("node\(index) start \(epoch)")
    }

    /// Stops at once: the store takes no more writes, the tasks are cancelled, the network forgets
    /// the node. What was committed stays in the durable store.
    func crash(net: SimulatedNetwork, recorder: Recorder) {
        guard let incarnation = running.withLock({ current -> Incarnation? in
            defer { current = nil }
            return current
        }) else { return }
        incarnation.store.crash()
        incarnation.task.cancel()
        net.attach(address, nil)
        recorder.forget("node\(index)")
        recorder.trace("node\(index) crash")
    }
}

/// Answers peers for an honest node exactly as its HTTP routes do: the network service decides
/// whether the sender may ask, and serves.
struct HonestEndpoint: SimulatedEndpoint {
    let network: NetworkService
    let directory: ChainDirectory

    private func chain(_ id: ChainID) throws -> ChainService {
        guard let chain = directory.chain(id) else { throw Unreachable(description: "no chain \(id.hex)") }
        return chain
    }

    func register(_ registration: Registration) async throws -> [Registration] { try await network.admit(registration) }

    func receive(_ push: PeerPush, from sender: PublicKey) async throws {
        switch push {
        case .transactions(let transactions, let id):
            let chain = try chain(id)
            try await network.authorize(sender, chain: chain)
            _ = try await network.receivedTransactions(transactions, on: chain)
        case .quant(let quant):
            try await network.authorize(sender, chain: try chain(quant.header.chain))
            _ = try await network.received(quant, from: sender)
        case .bang(let bang):
            try await network.authorize(sender)
            _ = try await network.receivedBang(bang, from: sender)
        case .consensus(let messages, let id):
            let chain = try chain(id)
            try await network.authorize(sender, chain: chain)
            try await network.receivedConsensus(messages.filter { $0.chain == id }, on: chain, from: sender)
        }
    }

    func tip(chain id: ChainID, from sender: PublicKey) async throws -> PeerTip {
        let chain = try chain(id)
        try await network.authorize(sender, chain: chain)
        return try await network.tip(of: chain)
    }

    func headers(chain id: ChainID, from height: UInt64, limit: Int, asker: PublicKey) async throws -> [QuantHeader] {
        let chain = try chain(id)
        try await network.authorize(asker, chain: chain)
        return try await network.headers(of: chain, from: height, limit: limit)
    }

    func quants(chain id: ChainID, from height: UInt64, limit: Int, asker: PublicKey) async throws -> [Quant] {
        let chain = try chain(id)
        try await network.authorize(asker, chain: chain)
        return try await network.quants(of: chain, from: height, limit: limit)
    }

    func bang(chain id: ChainID, from sender: PublicKey) async throws -> Bang {
        let chain = try chain(id)
        try await network.authorize(sender, chain: chain)
        return chain.bang
    }
}

/// Prints a node's log lines with the simulated time, for debugging a seed (`QBC_SIM_DEBUG=1`).
struct SimulatedLogHandler: LogHandler {
    let label: String
    let clock: SimulatedClock
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("\(clock.scheduler.now - Simulation.epoch) \(label) \(event.level) \(event.message) \(fields)")
    }
}
