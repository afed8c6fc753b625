import ArgumentParser

@main
struct QBC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qbc",
        abstract: "QBC: a permissioned blockchain node and its command-line client.",
        version: "0.1.0",
        subcommands: [
            NodeCommand.self, Register.self, Keygen.self, Key.self, Tx.self, LeapCommand.self, ChainCommand.self, StatsCommand.self,
            BangCommand.self, ForkCommand.self, MemberCommand.self, LockCommand.self, UnlockCommand.self, Bench.self, SimCommand.self,
        ]
    )
}
