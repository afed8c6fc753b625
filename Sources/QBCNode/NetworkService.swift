import Logging
public import QBCCore
public import QBCCrypto
import QBCStorage
public import ServiceLifecycle
import Synchronization

/// The node's part in the network: registration and discovery, relaying transactions and
/// Quants, catching up with preferred peers, and answering peers' requests. Reaches other nodes
/// only through `PeerTransport`, and time only through the environment's clock.
public actor NetworkService: Service {
    public nonisolated let key: SigningKey
    let directory: ChainDirectory
    let transport: any PeerTransport
    let bootstrap: [String]
    let environment: NodeEnvironment
    var book: PeerBook
    var advertised: String?
    /// Opens when the server is bound, or closes when the node shuts down first (a port it could
    /// not bind): nothing waits for an address that will never come.
    nonisolated let addressGate = AddressGate()
    var syncing: Set<ChainID> = []
    /// Chains asked to catch up while a catch-up of theirs ran or was scheduled: it asks every
    /// peer once more (`catchUp`).
    var catchUpAgain: Set<ChainID> = []
    /// What the last full round of sync learned of each chain's peers (`/ready`, `qbc_sync_lag`).
    var peerViews: [ChainID: PeerView] = [:]
    /// Addresses whose registration failed since it last succeeded (bootstrap peers and verified
    /// registrations only, so bounded like the peer book).
    var unreachable: Set<String> = []
    /// Chains with a catch-up scheduled by a pushed Quant, so a burst of pushes schedules one.
    var catchUpsScheduled: Set<ChainID> = []
    /// Chains a peer is known to serve beyond its last registration (it announced or accepted them since).
    var alsoServes: [PublicKey: Set<ChainID>] = [:]
    /// Chains a peer named that this node could not adopt, and when to ask again.
    var declined: [ChainID: Timestamp] = [:]
    /// One outbound queue per peer, so a dead or slow peer delays nobody.
    var links: [PublicKey: PeerLink] = [:]
    /// BFT chains' rounds, by chain.
    let drivers = Mutex<[ChainID: BFTDriver]>([:])
    /// Work for the group `run` keeps: relaying for new chains, draining new links.
    let spawns: AsyncStream<Spawn>
    let spawnSink: AsyncStream<Spawn>.Continuation

    enum Spawn: Sendable {
        case chain(ChainService)
        case link(PeerLink)
        /// Catch up with the peer that pushed a Quant not on this node's tip, after answering it.
        case catchUp(ChainService, Registration)
        /// Register with a peer that has just registered here for the first time: until this node
        /// is known there, the peer refuses its signed calls (tips, pages), which would otherwise
        /// wait for the next round of `registrationLoop`, up to 30 s. Once known there, catch up
        /// with it.
        case registerBack(Registration)
    }

    nonisolated var logger: Logger { environment.logger }
    nonisolated func now() -> Timestamp { environment.clock.now() }

    /// `bans`: peers banned before this start (from the store), still refused.
    public init(
        key: SigningKey, chains: ChainDirectory, transport: any PeerTransport, bootstrap: [String], advertise: String?,
        environment: NodeEnvironment, bans: [PublicKey: Timestamp] = [:]
    ) {
        self.key = key
        directory = chains
        self.transport = transport
        self.bootstrap = bootstrap
        advertised = advertise
        self.environment = environment
        book = PeerBook(bans: bans)
        (spawns, spawnSink) = AsyncStream.makeStream(of: Spawn.self, bufferingPolicy: .unbounded)
    }

    /// Called once the server is bound, when no address was configured.
    public func serverBound(address: String) {
        if advertised == nil { advertised = address }
        addressGate.open(advertised ?? address)
    }

    /// The address peers reach this node at, once known ("" if the node stopped before it was).
    private func address() async -> String {
        if let advertised { return advertised }
        return await addressGate.wait() ?? ""
    }

    /// This node's current signed registration.
    public func ownRegistration() async -> Registration {
        // A registration names at most `Registration.maxChains`; the oldest chains go first.
        Registration(
            key: key, address: await address(), chains: Array(directory.all.map(\.id).prefix(Registration.maxChains)),
            timestamp: now())
    }

    public func run() async throws {
        // A server that never binds (a port in use) shuts the node down: stop waiting then.
        let bound = await withGracefulShutdownHandler {
            await withTaskCancellationHandler { await self.address() } onCancel: { self.addressGate.close() }
        } onGracefulShutdown: {
            self.addressGate.close()
        }
        guard !bound.isEmpty else { return }
        // A graceful shutdown ends the spawn stream, and with it the group. (Not
        // `cancelOnGracefulShutdown()`: it runs an unstructured task, which would leave the
        // simulator's executor.)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for chain in directory.all { serve(chain, in: &group) }
                group.addTask { await self.syncLoop() }
                group.addTask { await self.registrationLoop() }
                group.addTask { for await chain in self.directory.additions { self.spawnSink.yield(.chain(chain)) } }
                // New chains and new peer links join the group as they come, until shutdown.
                for await spawn in spawns {
                    switch spawn {
                    case .chain(let chain):
                        serve(chain, in: &group)
                        group.addTask { await self.adopted(chain) }
                    case .link(let link):
                        group.addTask { await self.drain(link) }
                    case .catchUp(let chain, let peer):
                        group.addTask {
                            await self.catchUp(chain, from: [peer])
                            if await self.caughtUp(chain.id) { await self.catchUp(chain) }
                        }
                    case .registerBack(let peer):
                        group.addTask {
                            if await self.register(at: peer.address, as: await self.ownRegistration()) != nil { await self.catchUpSoon(with: peer) }
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.spawnSink.finish()
        }
    }

    /// Relays what the chain admits and announces what it seals, for as long as the node runs.
    nonisolated func serve(_ chain: ChainService, in group: inout TaskGroup<Void>) {
        group.addTask { for await batch in chain.admissions { await self.relay(.transactions(batch, chain: chain.id), chain: chain.id) } }
        group.addTask { for await quant in chain.sealed { await self.relay(.quant(quant), chain: quant.header.chain) } }
        let id = chain.id
        if let driver = BFTDriver(chain: chain, key: key, environment: environment, send: { [weak self] messages in
            await self?.relay(.consensus(messages, chain: id), chain: id, authoritiesOnly: true)
        }) {
            drivers.withLock { $0[chain.id] = driver }
            group.addTask { await driver.run() }
        }
    }

    /// BFT: proposals and votes from a peer, for the chain's rounds; how many were queued (the
    /// rest were for heights final here). One that no honest authority sends costs the sender and
    /// refuses the rest.
    @discardableResult
    public func receivedConsensus(_ messages: [BFTHeight.Message], on chain: ChainService, from sender: PublicKey) async throws(RuleError)
        -> Int
    {
        guard let driver = drivers.withLock({ $0[chain.id] }) else {
            throw RuleError(.wrongChain, "chain \(chain.rules.name) does not run BFT rounds on this node")
        }
        var queued = 0
        for message in messages {
            do { if try await driver.submit(message) == .queued { queued += 1 } } catch {
                if error.code == .badVote { await penalize(sender, reason: error.code.rawValue) }
                throw error
            }
        }
        return queued
    }

    /// Checks every chain against its peers every `syncInterval` (a second by default), and pushes
    /// waiting transactions again where a chain has stalled.
    private func syncLoop() async {
        while !Task.isCancelled {
            for chain in directory.all {
                await catchUp(chain)
                let stalled = await chain.stalled(now: now())
                if !stalled.isEmpty { relay(.transactions(stalled, chain: chain.id), chain: chain.id) }
            }
            do { try await environment.clock.sleep(for: environment.syncInterval) } catch { return }
        }
    }

    /// Registers with every known address every 30 s, and asks for chains peers serve that this
    /// node does not know yet. Apart from sync, so a dead address never delays catching up.
    private func registrationLoop() async {
        while !Task.isCancelled {
            await registerEverywhere()
            await discoverChains()
            do { try await environment.clock.sleep(for: .seconds(30)) } catch { return }
        }
    }

    // MARK: Registration and discovery

    /// Admits a peer that registered with this node; returns this node's peer list.
    public func admit(_ registration: Registration) async throws(RuleError) -> [Registration] {
        guard registration.node != key.publicKey else { throw RuleError(.invalidRegistration, "a node cannot register with itself") }
        guard !book.isBanned(registration.node, now: now()) else {
            throw RuleError(.notAuthorized, "node \(registration.node.hex) is banned for misbehaviour")
        }
        try registration.checkAdmission(now: now()) { directory.chain($0)?.membership }
        let known = book.peers[registration.node] != nil
        guard book.admit(registration) else { throw RuleError(.mempoolFull, "this node's peer book is full") }
        logger.debug("peer admitted", metadata: ["peer": "\(registration.node.hex)", "address": "\(registration.address)"])
        if !known { spawnSink.yield(.registerBack(registration)) }
        return await peerList()
    }

    /// Own registration first, then every admitted peer's, unchanged (each verifiable).
    public func peerList() async -> [Registration] {
        [await ownRegistration()] + book.registrations
    }

    public func isAdmitted(_ key: PublicKey) -> Bool { book.isAdmitted(key, now: now()) }

    public var peerCount: Int { book.registrations.count }

    public func peerStates() -> (reachable: Int, backingOff: Int, banned: Int) { book.states(now: now()) }

    /// Every admitted peer with its state and when it last answered (`GET /peers`).
    public func peerStatuses() -> [(peer: PeerBook.Peer, state: String)] { book.statuses(now: now()) }

    /// How far this node's chain is behind the most preferred tip its peers reported in the last
    /// round of sync; nil while no peer has answered yet although the node has peers to ask
    /// (configured or registered), so a node cut off since it started never calls itself current.
    public func syncLag(_ chain: ChainService) async -> UInt64? {
        switch peerViews[chain.id] {
        case nil: return bootstrap.isEmpty && book.registrations.isEmpty ? 0 : nil
        case .alone: return 0
        case .best(let best): return Self.lag(of: await chain.peerTip(), behind: best)
        }
    }

    /// Quants `ours` is behind `best`: 0 when fork choice does not prefer `best`; at least 1 when
    /// it does, even where `best` is a shorter, heavier branch.
    public static func lag(of ours: PeerTip, behind best: PeerTip) -> UInt64 {
        guard ForkChoice.prefers(candidateWork: best.cumulativeWork, candidateTip: best.hash, over: ours.cumulativeWork, currentTip: ours.hash)
        else { return 0 }
        return max(1, best.height > ours.height ? best.height - ours.height : 0)
    }

    /// Registers with the bootstrap peers and every known peer, then with any new peer their
    /// lists name, until no new address appears (bounded by the peer book's capacity).
    func registerEverywhere() async {
        let own = await ownRegistration()
        var queue = Array(Set(bootstrap + book.registrations.map(\.address))).sorted()
        var visited: Set<String> = [own.address]
        while let address = queue.first, visited.count <= PeerBook.capacity {
            queue.removeFirst()
            guard visited.insert(address).inserted else { continue }
            queue += (await register(at: address, as: own) ?? []).filter { !visited.contains($0) }
        }
    }

    /// Registers with the node at `address`; the addresses of the verifiable entries of its peer
    /// list (a peer's list must not make this node call whatever URLs it names); nil when it failed.
    private func register(at address: String, as own: Registration) async -> [String]? {
        do {
            let list = try await transport.register(own, at: address)
            if unreachable.remove(address) != nil { logger.notice("registered again", metadata: ["address": "\(address)"]) }
            return learn(list).map(\.address)
        } catch {
            if let peer = book.registrations.first(where: { $0.address == address }) { book.failed(peer.node, now: now()) }
            // Once per address until it answers again: the operator learns of a wrong --peer, a
            // peer down or a certificate not trusted, without a line every 30 s.
            if unreachable.count < 1024, unreachable.insert(address).inserted {
                logger.warning("cannot register with a peer; retrying every 30 s", metadata: ["address": "\(address)", "error": "\(error)"])
            } else {
                logger.debug("registration failed", metadata: ["address": "\(address)", "error": "\(error)"])
            }
            return nil
        }
    }

    /// Keeps the verifiable entries of a peer list: signed by their node, holding the node role
    /// here. Returns the entries kept.
    private func learn(_ list: [Registration]) -> [Registration] {
        var kept = [Registration]()
        for registration in list.prefix(PeerBook.capacity) where registration.node != key.publicKey {
            do throws(RuleError) {
                try registration.checkSignature()
                let members = registration.chains.compactMap { directory.chain($0)?.membership }
                guard members.contains(where: { $0.holds(registration.node, .node) }) else { continue }
                guard !book.isBanned(registration.node, now: now()) else { continue }
                let isNew = book.peers[registration.node] == nil
                guard book.admit(registration) else { continue }
                book.succeeded(registration.node, now: now())
                kept.append(registration)
                if isNew { catchUpSoon(with: registration) }
            } catch {
                logger.warning("ignored a forged peer-list entry", metadata: ["node": "\(registration.node.hex)"])
            }
        }
        return kept
    }

    /// A peer just met, whichever way (its list answered this node's registration, or it
    /// registered here first and this node has registered back, so the peer answers its calls),
    /// may hold a better chain: it is asked now, not at the sync loop's next round. A fresh node
    /// used to wait for that round whenever the peer's registration back arrived before the answer
    /// to its own: the peer was then known, not new, by either path.
    /// With a catch-up of the chain already scheduled (a list naming two new peers, or a push),
    /// that one asks every peer again when it ends (`catchUp`): a second new peer was dropped.
    private func catchUpSoon(with registration: Registration) {
        for chain in registration.chains.compactMap(directory.chain) where !scheduleCatchUp(chain, with: registration) {
            catchUpAgain.insert(chain.id)
        }
    }

    /// Schedules a catch-up of `chain` with `peer` (run by `run`'s group, after the caller's answer)
    /// unless one is scheduled already; true when it did.
    @discardableResult
    func scheduleCatchUp(_ chain: ChainService, with peer: Registration) -> Bool {
        guard catchUpsScheduled.insert(chain.id).inserted else { return false }
        spawnSink.yield(.catchUp(chain, peer))
        return true
    }

    // MARK: Conduct

    /// Misbehaviour by a peer (an invalid Quant or page): 10 points; at 30 it is banned, on disk too.
    func penalize(_ peer: PublicKey, reason: String) async {
        guard let until = book.penalize(peer, points: 10, now: now()) else { return }
        logger.warning("banned a peer", metadata: ["peer": "\(peer.hex)", "reason": "\(reason)", "until": "\(until)"])
        do { try await directory.store.ban(peer, until: until) } catch {
            logger.error("storing a ban failed", metadata: ["peer": "\(peer.hex)", "error": "\(error)"])
        }
    }

    func backOff(_ peer: PublicKey) { book.failed(peer, now: now()) }
}

/// A one-time value that waiters await: set once, or closed (waiters get nil).
public final class AddressGate: Sendable {
    private let state = Mutex<(value: String?, closed: Bool, waiters: [CheckedContinuation<String?, Never>])>((nil, false, []))

    func open(_ value: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<String?, Never>] in
            guard s.value == nil, !s.closed else { return [] }
            s.value = value
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<String?, Never>] in
            guard !s.closed else { return [] }
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    func wait() async -> String? {
        await withCheckedContinuation { continuation in
            let now: String?? = state.withLock { s in
                if let value = s.value { return .some(value) }
                if s.closed { return .some(nil) }
                s.waiters.append(continuation)
                return .none
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}


/// What sync knows of a chain's peers.
enum PeerView {
    /// No peer configured or registered: nothing to be behind.
    case alone
    /// The most preferred tip a peer reported in the last round in which any answered.
    case best(PeerTip)
}
