// Usage: qbc-sdk-example NODE_URL WRITER_KEY_FILE
// e.g.   swift run qbc-sdk-example http://127.0.0.1:5000 ../../../keys-example/writer1.key
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: qbc-sdk-example NODE_URL WRITER_KEY_FILE\n".utf8))
    exit(64)
}
let client = NodeClient(baseURL: arguments[1])

do {
    // A key file as `qbc keygen` writes it (an encrypted one also takes its passphrase).
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[2])))
    let writer = try KeyFile.open(bytes, passphrase: nil)

    // Which chain: the node's default one (GET /stats), then a signed transaction for it.
    let stats = try await client.stats()
    let chain = try ChainID(hex: stats.chain)
    let payload = Array(#"{"greeting":"hello from the Swift SDK"}"#.utf8)
    let transaction = Transaction.make(chain: chain, contentType: "application/json", payload: payload, signer: writer)

    // Follow the event stream from now on, then submit: the stream sees the commit.
    let events = client.events(from: "now")
    let answer = try await client.submit(transaction)
    print("submitted \(answer.id ?? transaction.id.hex): \(answer.status)")
    for try await event in events where event.event == "quant" {
        let quant = try JSONDecoder().decode(EventQuantJSON.self, from: Data(event.data.utf8))
        if quant.transactions?.contains(transaction.id.hex) == true {
            print("committed at height \(quant.height) in Quant \(quant.hash) (event \(event.id ?? "?"))")
            break
        }
    }
} catch let error as NodeClientError {
    FileHandle.standardError.write(Data("the node: \(error)\n".utf8))
    exit(1)
}
