import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks; build with -c release. Each prints raw libsodium figures from the same run.",
        subcommands: [BenchCompare.self, BenchCrypto.self, BenchNode.self, BenchSync.self, BenchBroadcast.self, BenchAuthority.self, BenchBFT.self, BenchChains.self, BenchLocks.self, BenchFlood.self, BenchEvents.self, BenchAnonymous.self])
}
