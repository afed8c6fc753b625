import QBCCrypto
import QBCNode
import QBCStorage
import QBCTestSupport

/// A chain service on a real SQLite store in `dir`, holding `chain`'s Bang.
func openService(_ chain: ChainBuilder, in dir: TemporaryDirectory, capacity: Int = 1000, workers: Int = 2) throws
    -> (ChainService, SQLiteBlockStore)
{
    let store = try SQLiteBlockStore(directory: dir.path)
    try store.create(chain.bang)
    let service = try ChainService(
        bang: chain.bang, store: store, sealer: chain.node, mempoolCapacity: capacity, verifierTasks: workers)
    return (service, store)
}
