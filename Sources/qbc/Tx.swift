import ArgumentParser

struct Tx: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign, verify, submit and fetch transactions.",
        subcommands: [TxSign.self, TxVerify.self, TxSubmit.self, TxGet.self])
}
