import ArgumentParser
import Foundation
import QBCServer

@main
struct QBC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbc",
        abstract: "QBC: a permissioned blockchain node and its command-line client.",
        version: QBCVersion.current,
        subcommands: [
            NodeCommand.self, Register.self, Keygen.self, Key.self, Tx.self, LeapCommand.self, ChainCommand.self, StatsCommand.self,
            BangCommand.self, ForkCommand.self, MemberCommand.self, LockCommand.self, UnlockCommand.self, Bench.self, SimCommand.self,
            BackupCommand.self, RestoreCommand.self, ExportCommand.self, ImportCommand.self, WatchCommand.self,
            ChainsCommand.self, PeersCommand.self, ReadKeyCommand.self,
        ]
    )

    /// ArgumentParser's own entry, except that a `CLIError` exits with its kind's status
    /// (usage errors keep ArgumentParser's 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            Foundation.exit(error.kind.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}
