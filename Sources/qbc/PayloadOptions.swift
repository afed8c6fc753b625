import ArgumentParser
import Foundation
import QBCCore

/// `--data JSON|@file` and `--content-type`, shared by the commands that build transactions.
struct PayloadOptions: ParsableArguments {
    @Option(name: .long, help: "The payload: inline text, or @FILE for a file's exact bytes (@- for stdin).")
    var data: String

    @Option(name: .long, help: "The payload's content type; application/json payloads must be valid JSON.")
    var contentType: String = "application/json"

    @Option(name: .long, help: "Refuse payloads larger than this many bytes (the default chain limit).")
    var maxPayloadBytes: Int = TransactionLimits.standard.maxPayloadBytes

    /// The exact payload bytes, checked against the content type and the size limit.
    func payload() throws -> [UInt8] {
        let bytes: [UInt8]
        if data.hasPrefix("@") {
            bytes = try Files.read(String(data.dropFirst()), limit: TransactionLimits.absoluteMaxPayloadBytes)
        } else {
            bytes = Array(data.utf8)
        }
        guard bytes.count <= maxPayloadBytes else {
            throw CLIError("payload is \(bytes.count) bytes; the limit is \(maxPayloadBytes) (--max-payload-bytes)")
        }
        do throws(RuleError) { try TransactionRules.checkContentType(contentType) } catch {
            throw CLIError(error.message)
        }
        if contentType.lowercased().hasPrefix("application/json") {
            guard (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil else {
                throw CLIError("--data is not valid JSON; use --content-type for other data")
            }
        }
        return bytes
    }
}
