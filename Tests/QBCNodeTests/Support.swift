import Logging
import QBCCrypto
import QBCNode
import QBCSQLiteStore
import QBCStorage
import QBCTestSupport

/// The environment of a chain service in a test: the machine's clock, quiet logs.
func testEnvironment(workers: Int = 2) -> NodeEnvironment {
    var logger = Logger(label: "qbc.test")
    logger.logLevel = .critical
    return NodeEnvironment(sealingThreads: workers, verifierThreads: workers, logger: logger)
}

/// A chain service on a real SQLite store in `dir`, holding `chain`'s Bang.
func openService(_ chain: ChainBuilder, in dir: TemporaryDirectory, capacity: Int = 1000, workers: Int = 2) async throws
    -> (ChainService, SQLiteBlockStore)
{
    let store = try SQLiteBlockStore(directory: dir.path)
    try await store.create(chain.bang)
    let service = try await ChainService(
        bang: chain.bang, store: store, sealer: chain.node, mempoolCapacity: capacity, environment: testEnvironment(workers: workers))
    return (service, store)
}
