import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCServer
import QBCSQLiteStore
import QBCWire

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a node's database, consistent as of one moment, while the node runs.",
        discussion: """
            Uses SQLite's online backup API on DATA/qbc.sqlite of this machine; the node keeps admitting and \
            committing. Restore with `qbc restore`. The node's key is not in the copy: back node.key up \
            apart (documentation/operations.md).
            """)

    @Option(name: .long, help: "The node's data folder.") var data: String = "./data"
    @Option(name: .long, help: "The backup file to create (never replaced).") var out: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let started = ContinuousClock.now
        let bytes: Int64
        do { bytes = try SQLiteBackup.copy(directory: data, to: out) } catch { throw CLIError("\(error)") }
        output.emit("backed up \(data) to \(out): \(bytes) bytes in \(started.duration(to: .now))", ["data": data, "out": out, "bytes": Int(bytes)])
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Make a data folder from a backup, checked whole, for `qbc node --data` to start from.")

    @Option(name: .long, help: "The backup file (made by `qbc backup`).") var from: String
    @Option(name: .long, help: "The data folder to create; it must hold no database.") var data: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let chains: Int
        do { chains = try await SQLiteBackup.restore(from: from, into: data) } catch { throw CLIError("\(error)") }
        output.emit("restored \(from) into \(data): \(chains) chain\(chains == 1 ? "" : "s"); start it with qbc node --data \(data)", ["from": from, "data": data, "chains": chains])
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a chain, Bang and Quants in their binary forms, to a file (for `qbc import`).")

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The chain (id or name); default the node's first chain.") var chain: String?
    @Option(name: .long, help: "The archive to create (never replaced).") var out: String
    @OptionGroup var read: ReaderOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try node.client(chain: chain)
        let readerKey = try read.load()
        let bang = try await callNode { try await client.bang() }
        let writer: ChainArchive.Writer
        do { writer = try ChainArchive.Writer(path: out, bang: bang) } catch { throw CLIError("\(error)") }
        var next: UInt64? = 1
        var (quants, transactions) = (0, 0)
        while let from = next {
            let page = try await callNode {
                if let readerKey {
                    return try await client.provenRead("/chain?from=\(from)&limit=1000", reader: readerKey, anonymous: read.anonymous, as: ChainPageJSON.self)
                }
                return try await client.page(from: from, limit: 1000)
            }
            for json in page.quants {
                do throws(WireError) {
                    let quant = try json.quant(maxPayloadBytes: bang.rules.transactionLimits.maxPayloadBytes)
                    try writer.append(quant)
                    quants += 1
                    transactions += quant.transactions.count
                } catch { throw CLIError("the node's Quant at height \(json.header.height): \(error)") }
            }
            next = page.next
            FileHandle.standardError.write(Data("exported \(quants) of \(page.height) Quants\n".utf8))
        }
        do { try writer.close() } catch { throw CLIError("\(error)") }
        output.emit(
            "exported chain \(bang.rules.name) (\(bang.id.hex)) to \(out): \(quants) Quants, \(transactions) transactions",
            ["chain": bang.id.hex, "name": bang.rules.name, "out": out, "quants": quants, "transactions": transactions])
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a chain archive into a stopped node's data folder, checking every rule and signature.",
        discussion: """
            Each Quant goes through the checks a synced Quant gets; the first that breaks a rule stops the \
            import with its height, and the Quants before it stay imported. Quants the folder holds already \
            are skipped when they are the archive's.
            """)

    @Option(name: .customLong("in"), help: "The archive (made by `qbc export`).") var input: String
    @Option(name: .long, help: "The data folder (created if missing; no node may be running on it).") var data: String = "./data"
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let result: ChainImport.Progress
        do {
            result = try await ChainImport.run(
                archive: input, dataDirectory: data, verifierThreads: ProcessInfo.processInfo.activeProcessorCount
            ) { progress in
                FileHandle.standardError.write(Data("imported \(progress.imported), skipped \(progress.skipped), at height \(progress.height)\n".utf8))
            }
        } catch { throw CLIError("import stopped: \(error)") }
        output.emit(
            "imported chain \(result.chain) into \(data): height \(result.height), \(result.imported) Quants new, \(result.skipped) held already, \(result.transactions) transactions",
            ["chain": result.chain, "data": data, "height": Int(clamping: result.height), "imported": result.imported, "skipped": result.skipped,
             "transactions": result.transactions])
    }
}
