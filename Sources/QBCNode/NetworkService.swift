import Logging
public import QBCCore
public import QBCCrypto
import QBCStorage
public import ServiceLifecycle

/// The node's part in the network: registration and discovery, relaying transactions and
/// Quants, and catching up with heavier peers. Reaches other nodes only through `PeerTransport`.
public actor NetworkService: Service {
    public nonisolated let key: SigningKey
    let directory: ChainDirectory
    let transport: any PeerTransport
    let bootstrap: [String]
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    var book = PeerBook()
    var advertised: String?
    private var addressWaiters: [CheckedContinuation<String, Never>] = []
    var syncing: Set<ChainID> = []
    /// Chains a peer is known to serve beyond its last registration (it announced or accepted them since).
    var alsoServes: [PublicKey: Set<ChainID>] = [:]
    /// Chains a peer named that this node could not adopt, and when to ask again.
    var declined: [ChainID: Timestamp] = [:]

    public init(
        key: SigningKey, chains: ChainDirectory, transport: any PeerTransport, bootstrap: [String],
        advertise: String?, clock: @escaping @Sendable () -> Timestamp, logger: Logger
    ) {
        self.key = key
        directory = chains
        self.transport = transport
        self.bootstrap = bootstrap
        advertised = advertise
        self.clock = clock
        self.logger = logger
    }

    /// Called once the HTTP server is bound, when no address was configured.
    public func serverBound(address: String) {
        if advertised == nil { advertised = address }
        for waiter in addressWaiters { waiter.resume(returning: advertised ?? address) }
        addressWaiters = []
    }

    private func address() async -> String {
        if let advertised { return advertised }
        return await withCheckedContinuation { addressWaiters.append($0) }
    }

    /// This node's current signed registration.
    public func ownRegistration() async -> Registration {
        // A registration names at most `Registration.maxChains`; the oldest chains go first.
        Registration(
            key: key, address: await address(), chains: Array(directory.all.map(\.id).prefix(Registration.maxChains)),
            timestamp: clock())
    }

    public func run() async throws {
        _ = await address()
        await withTaskGroup(of: Void.self) { group in
            for chain in directory.all { serve(chain, in: &group) }
            group.addTask { await self.maintain() }
            // New chains join the group as they are adopted, until shutdown.
            for await chain in directory.additions.cancelOnGracefulShutdown() {
                serve(chain, in: &group)
                group.addTask { await self.adopted(chain) }
            }
            group.cancelAll()
        }
    }

    /// Relays what the chain admits and announces what it seals, for as long as the node runs.
    nonisolated func serve(_ chain: ChainService, in group: inout TaskGroup<Void>) {
        group.addTask { for await batch in chain.admissions { await self.relay(batch, chain: chain.id) } }
        group.addTask { for await quant in chain.sealed { await self.announce(quant) } }
    }

    /// Registers with every known address every 30 s and checks for heavier chains every second.
    private func maintain() async {
        var round = 0
        while !Task.isCancelled {
            if round % 30 == 0 { await registerEverywhere() }
            for chain in directory.all { await catchUp(chain) }
            if round % 30 == 0 { await discoverChains() }
            round += 1
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: Registration and discovery

    /// Admits a peer that registered with this node; returns this node's peer list.
    public func admit(_ registration: Registration) async throws(RuleError) -> [Registration] {
        guard registration.node != key.publicKey else { throw RuleError(.invalidRegistration, "a node cannot register with itself") }
        try registration.checkAdmission(now: clock()) { directory.chain($0)?.membership }
        guard book.admit(registration) else { throw RuleError(.mempoolFull, "this node's peer book is full") }
        logger.info("peer admitted", metadata: ["peer": "\(registration.node.hex)", "address": "\(registration.address)"])
        return await peerList()
    }

    /// Own registration first, then every admitted peer's, unchanged (each verifiable).
    public func peerList() async -> [Registration] {
        [await ownRegistration()] + book.registrations
    }

    public func isAdmitted(_ key: PublicKey) -> Bool { book.isAdmitted(key, now: clock()) }

    public var peerCount: Int { book.registrations.count }

    /// Registers with the bootstrap peers and every known peer, then with any new peer their
    /// lists name, until no new address appears (bounded by the peer book's capacity).
    func registerEverywhere() async {
        let own = await ownRegistration()
        var queue = Array(Set(bootstrap + book.registrations.map(\.address))).sorted()
        var visited: Set<String> = [own.address]
        while let address = queue.first, visited.count <= PeerBook.capacity {
            queue.removeFirst()
            guard visited.insert(address).inserted else { continue }
            do {
                let list = try await transport.register(own, at: address)
                learn(list)
                queue += list.map(\.address).filter { !visited.contains($0) }
            } catch {
                if let peer = book.registrations.first(where: { $0.address == address }) { book.failed(peer.node, now: clock()) }
                logger.debug("registration failed", metadata: ["address": "\(address)", "error": "\(error)"])
            }
        }
    }

    /// Keeps the verifiable entries of a peer list: signed by their node, holding the node role here.
    private func learn(_ list: [Registration]) {
        for registration in list where registration.node != key.publicKey {
            do throws(RuleError) {
                try registration.checkSignature()
                let members = registration.chains.compactMap { directory.chain($0)?.membership }
                guard members.contains(where: { $0.holds(registration.node, .node) }) else { continue }
                book.admit(registration)
                book.succeeded(registration.node)
            } catch {
                logger.warning("ignored a forged peer-list entry", metadata: ["node": "\(registration.node.hex)"])
            }
        }
    }

    // MARK: Relaying

    /// Reachable peers that serve `chain` and hold the node role in it now (a member removed by
    /// governance gets nothing more).
    func peers(serving chain: ChainID) -> [Registration] {
        guard let membership = directory.chain(chain)?.membership else { return [] }
        return book.reachable(now: clock()).filter { peer in
            (peer.chains.contains(chain) || alsoServes[peer.node]?.contains(chain) == true) && membership.holds(peer.node, .node)
        }
    }

    /// Calls are concurrent with timeouts in the transport; a slow or dead peer delays nobody and backs off.
    private func relay(_ batch: [Transaction], chain: ChainID) async {
        backOff(await transport.pushTransactions(batch, chain: chain, to: peers(serving: chain)))
    }

    private func announce(_ quant: Quant) async {
        backOff(await transport.pushQuant(quant, to: peers(serving: quant.header.chain)))
    }

    func backOff(_ failed: [PublicKey]) {
        let now = clock()
        for key in failed { book.failed(key, now: now) }
    }
}
