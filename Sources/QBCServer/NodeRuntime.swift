import Foundation
import Logging
import QBCCore
public import QBCCrypto
public import QBCNode
import QBCSQLiteStore
public import QBCStorage
import QBCWire

/// The opened node: its key, its store (holding the data folder's lock) and its chains.
public final class NodeRuntime: Sendable {
    public let settings: NodeSettings
    public let nodeKey: SigningKey
    public let store: any BlockStore
    public let directory: ChainDirectory
    public let environment: NodeEnvironment

    /// Every chain served, in the order they were opened.
    public var chains: [ChainService] { directory.all }

    /// The chain the seed's routes (`/inject`, `/leap`, …) act on: the first one created here.
    public var defaultChain: ChainService {
        // `open` always opens at least one chain before the runtime exists.
        guard let first = directory.all.first else { preconditionFailure("a node runtime serves at least one chain") }
        return first
    }

    init(settings: NodeSettings, nodeKey: SigningKey, store: any BlockStore, directory: ChainDirectory, environment: NodeEnvironment) {
        self.settings = settings
        self.nodeKey = nodeKey
        self.store = store
        self.directory = directory
        self.environment = environment
    }

    /// Opens the data folder, the node key and every stored chain; creates the configured chain
    /// on the first start. `passphrase` opens encrypted key files.
    public static func open(settings: NodeSettings, passphrase: SecretBytes?, clock: any NodeClock, logger: Logger) async throws
        -> NodeRuntime
    {
        var creators = Set<PublicKey>()
        for text in settings.chainCreators {
            guard let key = try? PublicKey(hex: text) else { throw SettingsError("network.chainCreators: \(text) is not a public key (64 hex digits)") }
            creators.insert(key)
        }
        // The chain's spec is checked whole (members, engine, limits, the creator's key file) before
        // the data folder is touched: a bad member key used to be reported after node.key was made.
        // A stand-in key takes the node key's place; the real one may not exist yet.
        _ = try makeBang(settings.chain, nodeKey: SigningKey(), passphrase: passphrase, now: clock.now())
        let store = try SQLiteBlockStore(directory: settings.dataDirectory)
        let nodeKey = try KeyLoader.nodeKey(settings: settings, passphrase: passphrase, logger: logger)
        var bangs = try await store.bangs()
        if bangs.isEmpty {
            let bang = try makeBang(settings.chain, nodeKey: nodeKey, passphrase: passphrase, now: clock.now())
            try await store.create(bang)
            logger.info("created chain", metadata: ["chain": "\(bang.id.hex)", "name": "\(bang.rules.name)"])
            bangs = [bang]
        }
        // Versions before 0.2 could leave a committed transaction in the stored mempool (admission
        // racing a peer's commit), which made every later Leap fail: repair at every start, and say so when there was any.
        let stale = try await store.removeCommittedFromMempool()
        if stale > 0 {
            logger.warning("removed committed transactions left in the stored mempool by an earlier version", metadata: ["count": "\(stale)"])
        }
        var environment = NodeEnvironment(
            clock: clock, sealingThreads: settings.verifierTasks, verifierThreads: settings.verifierTasks, logger: logger)
        environment.syncInterval = .milliseconds(Int64(settings.syncIntervalMilliseconds))
        environment.mempoolBudget = MempoolBudget(limit: settings.mempoolBytes)
        let directory = ChainDirectory(
            store: store, nodeKey: nodeKey, mempoolCapacity: settings.mempoolCapacity, environment: environment, creators: creators)
        // Parents before forks is not needed: a stored fork was checked when it was adopted.
        for bang in bangs {
            do throws(RuleError) { try bang.check() } catch {
                throw SettingsError("stored Bang of chain \(bang.rules.name) is invalid: \(error.message)")
            }
            try await directory.open(bang)
        }
        return NodeRuntime(settings: settings, nodeKey: nodeKey, store: store, directory: directory, environment: environment)
    }

    static func makeBang(_ spec: ChainSpec, nodeKey: SigningKey, passphrase: SecretBytes?, now: Timestamp) throws -> Bang {
        let creator: SigningKey
        let rules: ChainRules
        if let path = spec.creatorKey {
            creator = try KeyLoader.load(path: path, passphrase: passphrase)
            rules = try spec.rules()
        } else {
            // Development default: this node creates the chain and holds every operator role.
            creator = nodeKey
            rules = try spec.rules(adding: [(nodeKey.publicKey, [.admin, .writer, .node, .authority])])
        }
        let bang = Bang(rules: rules, timestamp: spec.timestamp.map(Timestamp.init(milliseconds:)) ?? now, creator: creator)
        do throws(RuleError) { try bang.check() } catch { throw SettingsError("chain \(spec.name): \(error.message)") }
        return bang
    }

    /// A chain by id (hex) or name.
    public func chain(_ reference: String) -> ChainService? { directory.chain(named: reference) }
}

/// Reads key files for the node.
enum KeyLoader {
    static func load(path: String, passphrase: SecretBytes?) throws -> SigningKey {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingsError("cannot read key file \(path)") }
        do { return try KeyFile.open(Array(data), passphrase: passphrase) } catch {
            throw SettingsError("key file \(path): \(error)")
        }
    }

    /// The configured node key, or `DATA/node.key`, created (plaintext, 0600) on first start.
    static func nodeKey(settings: NodeSettings, passphrase: SecretBytes?, logger: Logger) throws -> SigningKey {
        if let path = settings.nodeKey { return try load(path: path, passphrase: passphrase) }
        let path = (settings.dataDirectory as NSString).appendingPathComponent("node.key")
        if FileManager.default.fileExists(atPath: path) { return try load(path: path, passphrase: nil) }
        let key = SigningKey()
        let bytes = KeyFile.plaintext(key)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw SettingsError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw SettingsError("cannot write \(path)") }
        logger.warning("created a plaintext node key for development; configure node.key for real use",
                       metadata: ["path": "\(path)", "publicKey": "\(key.publicKey.hex)"])
        return key
    }
}
