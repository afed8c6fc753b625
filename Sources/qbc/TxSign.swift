import ArgumentParser
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

struct TxSign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a transaction and print its JSON form (ready for POST /inject).")

    @OptionGroup var key: KeyOptions

    @Option(name: .long, help: "The chain id (64 hex digits), from `qbc stats` or GET /stats.")
    var chain: String

    @OptionGroup var payload: PayloadOptions

    @Option(name: .long, help: "Write the transaction to this file instead of standard output.")
    var out: String?

    func run() async throws {
        let chainID: ChainID
        do { chainID = try ChainID(hex: chain) } catch { throw CLIError("--chain must be a chain id of 64 hex digits") }
        let bytes = try payload.payload()
        let signer = try key.load()
        let tx = Transaction.make(chain: chainID, contentType: payload.contentType, payload: bytes, signer: signer)
        let json = WireJSON.encode(TransactionJSON(tx), pretty: true) + [0x0a]
        if let out {
            try Files.write(json, to: out)
            print(tx.id.hex)
        } else {
            print(String(decoding: json, as: UTF8.self), terminator: "")
        }
    }
}
