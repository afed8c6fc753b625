import ArgumentParser
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
        ]
    )
}
