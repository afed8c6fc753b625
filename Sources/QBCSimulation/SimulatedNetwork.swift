import QBCCore
import QBCCrypto
import QBCNode
import Synchronization

/// What a node (honest or not) answers on the simulated network. The network has already
/// authenticated `from`: it is the key of the node that called.
protocol SimulatedEndpoint: Sendable {
    func register(_ registration: Registration) async throws -> [Registration]
    func receive(_ push: PeerPush, from: PublicKey) async throws
    func tip(chain: ChainID, from: PublicKey) async throws -> PeerTip
    func headers(chain: ChainID, from height: UInt64, limit: Int, asker: PublicKey) async throws -> [QuantHeader]
    func quants(chain: ChainID, from height: UInt64, limit: Int, asker: PublicKey) async throws -> [Quant]
    func bang(chain: ChainID, from: PublicKey) async throws -> Bang
}

/// A call that did not get through: the peer is down or cut off, or the message was lost.
struct Unreachable: Error, CustomStringConvertible {
    let description: String
}

/// The network between simulated nodes: every call is delivered after a seeded latency, or lost,
/// or (pushes) delivered twice; a partition cuts groups apart; a stopped node answers nothing.
/// Handlers run in a task of their own, as on a server, so a caller that gives up (or crashes)
/// does not cut the callee's work short.
final class SimulatedNetwork: Sendable {
    private struct State {
        var endpoints: [String: any SimulatedEndpoint] = [:]
        /// Partition group per address; addresses in different groups cannot reach each other.
        var groups: [String: Int] = [:]
        var random: SeededRandom
    }

    let scheduler: SimulationScheduler
    let faults: Faults
    let recorder: Recorder
    private let state: Mutex<State>

    /// How long a caller waits for an answer that will not come (a lost message, a partition).
    static let timeoutMilliseconds: UInt64 = 3_000

    init(scheduler: SimulationScheduler, faults: Faults, random: SeededRandom, recorder: Recorder) {
        self.scheduler = scheduler
        self.faults = faults
        self.recorder = recorder
        state = Mutex(State(random: random))
    }

    /// Puts a running node on the network (or takes one off with nil).
    func attach(_ address: String, _ endpoint: (any SimulatedEndpoint)?) {
        state.withLock { $0.endpoints[address] = endpoint }
    }

    /// Splits the addresses into the given groups; `heal` puts everyone back together.
    func partition(_ groups: [String: Int]) { state.withLock { $0.groups = groups } }
    func heal() { state.withLock { $0.groups = [:] } }
    var isPartitioned: Bool { state.withLock { !$0.groups.isEmpty } }

    private func draw<T>(_ body: (inout SeededRandom) -> T) -> T { state.withLock { body(&$0.random) } }

    /// One-way latency: a few milliseconds, with reordering up to 80 more.
    private func latency() -> UInt64 {
        draw { random in 1 + random.next() % 4 + (faults.contains(.reordering) ? random.next() % 80 : 0) }
    }

    /// Delivers one call from `from` to `to`, with the faults this run suffers.
    func call<T: Sendable>(
        from: String, to: String, push: Bool = false, _ handler: @escaping @Sendable (any SimulatedEndpoint) async throws -> T
    ) async throws -> T {
        let (endpoint, cut) = state.withLock { s in
            (s.endpoints[to], (s.groups[from] ?? 0) != (s.groups[to] ?? 0))
        }
        if cut {
            try await scheduler.sleep(milliseconds: Self.timeoutMilliseconds)
            throw Unreachable(description: "\(to) is in another partition")
        }
        guard let endpoint, state.withLock({ $0.endpoints[from] != nil }) else {
            try await scheduler.sleep(milliseconds: 1)
            throw Unreachable(description: "\(to) is down")
        }
        let lostRequest = faults.contains(.loss) && draw { $0.chance(0.02) }
        let lostAnswer = faults.contains(.loss) && draw { $0.chance(0.02) }
        let twice = push && faults.contains(.duplication) && draw { $0.chance(0.05) }
        try await scheduler.sleep(milliseconds: latency())
        if lostRequest {
            recorder.count("lost")
            try await scheduler.sleep(milliseconds: Self.timeoutMilliseconds)
            throw Unreachable(description: "a request to \(to) was lost")
        }
        let answer = try await serve(handler, on: endpoint)
        if twice {
            recorder.count("duplicated")
            try await scheduler.sleep(milliseconds: latency())
            _ = try? await serve(handler, on: endpoint)
        }
        if lostAnswer {
            recorder.count("lost")
            try await scheduler.sleep(milliseconds: Self.timeoutMilliseconds)
            throw Unreachable(description: "the answer from \(to) was lost")
        }
        try await scheduler.sleep(milliseconds: latency())
        return answer
    }

    /// Runs the callee's handler in a task of its own on the simulation's executor.
    private func serve<T: Sendable>(_ handler: @escaping @Sendable (any SimulatedEndpoint) async throws -> T, on endpoint: any SimulatedEndpoint)
        async throws -> T
    {
        try await Task(executorPreference: scheduler) { try await handler(endpoint) }.value
    }
}

/// `PeerTransport` over the simulated network, for one node.
struct SimulatedTransport: PeerTransport {
    let network: SimulatedNetwork
    let address: String
    let key: PublicKey

    func register(_ registration: Registration, at address: String) async throws -> [Registration] {
        try await network.call(from: self.address, to: address) { try await $0.register(registration) }
    }

    func prepare(_ push: PeerPush) -> PreparedPush { PreparedPush(push: push, body: []) }

    func send(_ push: PreparedPush, to peer: Registration) async throws {
        let key = self.key
        try await network.call(from: address, to: peer.address, push: true) { try await $0.receive(push.push, from: key) }
    }

    func tip(chain: ChainID, of peer: Registration) async throws -> PeerTip {
        let key = self.key
        return try await network.call(from: address, to: peer.address) { try await $0.tip(chain: chain, from: key) }
    }

    func headers(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [QuantHeader] {
        let key = self.key
        return try await network.call(from: address, to: peer.address) {
            try await $0.headers(chain: chain, from: height, limit: limit, asker: key)
        }
    }

    func quants(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [Quant] {
        let key = self.key
        return try await network.call(from: address, to: peer.address) {
            try await $0.quants(chain: chain, from: height, limit: limit, asker: key)
        }
    }

    func bang(chain: ChainID, of peer: Registration) async throws -> Bang {
        let key = self.key
        return try await network.call(from: address, to: peer.address) { try await $0.bang(chain: chain, from: key) }
    }
}
