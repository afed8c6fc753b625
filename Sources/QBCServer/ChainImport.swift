import Foundation
import Logging
import QBCClient
import QBCCore
import QBCCrypto
import QBCNode
import QBCSQLiteStore
import QBCStorage
import QBCWire

/// `qbc import`: loads a chain archive into a data folder while the node is stopped, checking
/// every Quant against every rule and signature through the same path as sync
/// (`ChainService.receive`). Quants the folder holds already must be the archive's; the first
/// Quant that breaks a rule stops the import, and everything before it stays committed.
public enum ChainImport {
    public struct Progress: Sendable {
        public let chain: String
        public let height: UInt64
        public let imported: Int
        public let skipped: Int
        public let transactions: Int
    }

    /// Imports `archive` into `dataDirectory`; `progress` is told every `every` Quants and at the end.
    @discardableResult
    public static func run(
        archive path: String, dataDirectory: String, every: Int = 1000, verifierThreads: Int,
        progress: @Sendable (Progress) -> Void
    ) async throws -> Progress {
        let reader = try ChainArchive.Reader(path: path)
        guard let first = try reader.next(limit: ChainArchive.maxBangBytes) else { throw ImportError("\(path) holds no Bang") }
        let bang = try Bang(decoding: first)
        do throws(RuleError) { try bang.check() } catch { throw ImportError("the archive's Bang is invalid: \(error.message)") }
        let store = try SQLiteBlockStore(directory: dataDirectory)
        let known = try await store.bangs()
        if let fork = bang.rules.fork, !known.contains(where: { $0.id == fork.parent }) {
            throw ImportError("chain \(bang.rules.name) is a fork of \(fork.parent.hex): import that chain first")
        }
        if let other = known.first(where: { $0.rules.name == bang.rules.name && $0.id != bang.id }) {
            throw ImportError("this data folder holds another chain named \(bang.rules.name) (\(other.id.hex)); chain names are unique on a node")
        }
        if !known.contains(where: { $0.id == bang.id }) { try await store.create(bang) }
        var logger = Logger(label: "qbc.import")
        logger.logLevel = .error
        let environment = NodeEnvironment(sealingThreads: 1, verifierThreads: verifierThreads, logger: logger)
        // The key only signs Quants this node seals, and an import seals none.
        let chain = try await ChainService(bang: bang, store: store, sealer: SigningKey(), mempoolCapacity: 1, environment: environment)
        var (imported, skipped, transactions, height) = (0, 0, 0, UInt64(0))
        func report() -> Progress {
            Progress(chain: bang.rules.name, height: height, imported: imported, skipped: skipped, transactions: transactions)
        }
        while let record = try reader.next(limit: ChainArchive.maxQuantBytes(bang.rules)) {
            let expected = height + 1
            let quant: Quant
            do throws(WireError) { quant = try ChainArchive.quant(record, rules: bang.rules) } catch {
                throw ImportError("the Quant at height \(expected) (record \(reader.records - 1)): \(error)")
            }
            guard quant.header.height == expected else {
                throw ImportError("record \(reader.records - 1) holds height \(quant.header.height) where \(expected) belongs: the archive is out of order")
            }
            switch try await chain.receive(quant, now: .now()) {
            case .committed:
                imported += 1
                transactions += quant.transactions.count
            case .rejected(let error):
                throw ImportError("the Quant at height \(expected) is refused (\(error.code.rawValue)): \(error.message); the \(imported) before it are imported")
            case .notOnTip(let tip):
                // Held already: it must be the very Quant this folder has at that height.
                guard tip >= expected, try await store.header(chain: bang.id, height: expected)?.hash == quant.hash else {
                    throw ImportError("the Quant at height \(expected) is not the one this data folder holds there: the folder follows another branch")
                }
                skipped += 1
            }
            height = expected
            if (imported + skipped) % every == 0 { progress(report()) }
        }
        progress(report())
        return report()
    }
}

/// An import that stopped: what and where, in one line.
public struct ImportError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
