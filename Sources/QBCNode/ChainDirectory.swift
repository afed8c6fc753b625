public import QBCCore
public import QBCCrypto
public import QBCStorage
import Synchronization

/// Every chain this node serves. Chains are added while the node runs (a Bang from a client or a
/// peer); none is ever removed. Reads take a short lock and never wait on a chain.
public final class ChainDirectory: Sendable {
    let store: any BlockStore
    let nodeKey: SigningKey
    let mempoolCapacity: Int
    let environment: NodeEnvironment
    /// Keys the operator lets create chains here, besides the admins of chains already served.
    let creators: Set<PublicKey>
    private let state = Mutex<[ChainService]>([])
    /// One adoption at a time, so the name check and the stored Bang cannot race (adoptions are rare).
    private let adopting = CommitGate()
    /// Chains adopted after start, for the network to relay and announce.
    public let additions: AsyncStream<ChainService>
    private let additionsSink: AsyncStream<ChainService>.Continuation

    /// Most chains one node serves: every chain costs an actor, a mempool and a relay task.
    public static let maxChains = 1000

    public init(
        store: any BlockStore, nodeKey: SigningKey, mempoolCapacity: Int, environment: NodeEnvironment, creators: Set<PublicKey> = []
    ) {
        self.store = store
        self.nodeKey = nodeKey
        self.mempoolCapacity = mempoolCapacity
        self.environment = environment
        self.creators = creators
        (additions, additionsSink) = AsyncStream.makeStream(of: ChainService.self, bufferingPolicy: .unbounded)
    }

    /// In the order they were opened; the first is the default chain of the seed's routes.
    public var all: [ChainService] { state.withLock { $0 } }

    public func chain(_ id: ChainID) -> ChainService? { state.withLock { $0.first { $0.id == id } } }

    /// A chain by id (hex) or name.
    public func chain(named reference: String) -> ChainService? {
        let lower = reference.lowercased()
        return state.withLock { $0.first { $0.id.hex == lower || $0.rules.name == reference } }
    }

    /// Opens a chain already in the store (at start).
    public func open(_ bang: Bang) async throws(StorageError) {
        let service = try await ChainService(
            bang: bang, store: store, sealer: nodeKey, mempoolCapacity: mempoolCapacity, environment: environment)
        state.withLock { $0.append(service) }
    }

    /// Adopts a new chain: its Bang must be valid, name this node's key with the node role, use a
    /// name no other chain here has, and for a fork, sit on a Quant this node holds, created by an
    /// admin of the parent at that height. Returns the chain and whether it is new here.
    public func adopt(_ bang: Bang) async throws(AdoptionError) -> (chain: ChainService, created: Bool) {
        // A stranger's Bang is refused before it waits for the gate or costs a signature check.
        if chain(bang.id) == nil { try creatorMayCreate(bang) }
        await adopting.enter("adoption")
        defer { adopting.leave() }
        return try await adoptAlone(bang)
    }

    private func adoptAlone(_ bang: Bang) async throws(AdoptionError) -> (chain: ChainService, created: Bool) {
        if let known = chain(bang.id) { return (known, false) }
        try creatorMayCreate(bang)
        do throws(RuleError) { try bang.check() } catch { throw .rule(error) }
        guard bang.rules.membership.holds(nodeKey.publicKey, .node) else {
            throw .rule(RuleError(.notAuthorized, "this node (\(nodeKey.publicKey.hex)) does not hold the node role in chain \(bang.rules.name); send the Bang to a node that does"))
        }
        if let fork = bang.rules.fork { try await checkForkPoint(fork, of: bang) }
        guard all.count < Self.maxChains else {
            throw .rule(RuleError(.invalidBang, "this node already serves its maximum of \(Self.maxChains) chains"))
        }
        // Valid names by the chain's rules, but `/chains/../stats` is `/stats` to curl and browsers.
        guard bang.rules.name != ".", bang.rules.name != ".." else {
            throw .rule(RuleError(.invalidBang, "this node does not adopt chains named \".\" or \"..\": clients normalise them out of URL paths"))
        }
        if let other = chain(named: bang.rules.name), other.id != bang.id {
            throw .rule(RuleError(.invalidBang, "this node already serves another chain named \(bang.rules.name) (\(other.id.hex))"))
        }
        let service: ChainService
        do {
            try await store.create(bang)
            service = try await ChainService(
                bang: bang, store: store, sealer: nodeKey, mempoolCapacity: mempoolCapacity, environment: environment)
        } catch { throw .storage(error) }
        state.withLock { $0.append(service) }
        additionsSink.yield(service)
        return (service, true)
    }

    /// Refuses a Bang whose creator may not create chains here (checked again once adopting:
    /// the chains served, and so their admins, may have changed while it waited).
    private func creatorMayCreate(_ bang: Bang) throws(AdoptionError) {
        guard mayCreate(bang.creator) else {
            throw .rule(RuleError(.notAuthorized, "\(bang.creator.hex) may not create chains on this node: its operator lists creators in network.chainCreators, and admins of the chains it serves may create more (documentation/chains.md)"))
        }
    }

    /// Who may create a chain here: a key the operator named, or an admin (at the tip) of a chain
    /// this node already serves. Anyone else could fill the node's allowance and take names.
    public func mayCreate(_ creator: PublicKey) -> Bool {
        creators.contains(creator) || all.contains { $0.membership.holds(creator, .admin) }
    }

    private func checkForkPoint(_ fork: ForkPoint, of bang: Bang) async throws(AdoptionError) {
        guard let parent = chain(fork.parent) else {
            throw .rule(RuleError(.invalidBang, "the fork's parent chain \(fork.parent.hex) is not served here, so its fork point cannot be checked"))
        }
        let hash: Hash?
        let admins: Membership
        do {
            hash = fork.height == 0 ? parent.id : try await store.header(chain: parent.id, height: fork.height)?.hash
            admins = parent.rules.membership.applying(try await store.memberEvents(chain: parent.id, atOrBelow: fork.height))
        } catch { throw .storage(error) }
        guard hash == fork.hash else {
            throw .rule(RuleError(.wrongPrevious, "the parent chain's Quant at height \(fork.height) is not \(fork.hash.hex) here"))
        }
        guard admins.holds(bang.creator, .admin) else {
            throw .rule(RuleError(.notAuthorized, "the fork's creator \(bang.creator.hex) is not an admin of \(parent.rules.name) at height \(fork.height)"))
        }
    }
}

/// Why a Bang was not adopted.
public enum AdoptionError: Error, Sendable {
    case rule(RuleError)
    case storage(StorageError)
}
