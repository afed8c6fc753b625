import ArgumentParser
import QBCCore
import QBCCrypto
import QBCWire

struct TxVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a signed transaction's JSON: format, sizes and signature.",
        discussion: "The timestamp window is not checked: a node checks it at admission.")

    @Argument(help: "The transaction JSON file, or - for standard input.")
    var file: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let bytes = try Files.read(file, limit: 2 * TransactionLimits.absoluteMaxPayloadBytes)
        let tx: Transaction
        do {
            let json = try WireJSON.decode(TransactionJSON.self, from: bytes, what: "transaction")
            tx = try json.transaction(maxPayloadBytes: TransactionLimits.absoluteMaxPayloadBytes)
        } catch { throw CLIError("\(file): \(error)") }
        do throws(RuleError) {
            try TransactionRules.checkContentType(tx.contentType)
            try TransactionRules.checkSignature(tx)
        } catch {
            throw CLIError("\(file): invalid: \(error.message)")
        }
        output.emit(
            "valid: transaction \(tx.id.hex) from \(tx.sender.hex) on chain \(tx.chain.hex)",
            ["valid": true, "id": tx.id.hex, "sender": tx.sender.hex, "chain": tx.chain.hex])
    }
}
