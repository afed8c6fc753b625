import ArgumentParser
import Foundation
import QBCClient
import QBCCrypto
import QBCWire

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print a chain's events (quant, disconnected, final) as JSON lines, resuming across disconnects.",
        discussion: """
            Each line is {"id", "event", "data"}; give the last id to --from to resume after it. --from 0 replays \
            the whole history; without --from the stream starts now. documentation/events.md.
            """)

    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The chain (id or name); default the node's first chain.") var chain: String?
    @Option(name: .long, help: "Resume after this event id (N or N:H); 0 for the whole history.") var from: String?
    @Option(name: .long, help: "Only transactions signed by this public key (hex).") var sender: String?
    @Option(name: .long, help: "Only transactions of this content type.") var contentType: String?
    @OptionGroup var read: ReaderOptions
    @Option(name: .long, help: "Stop after this many events.") var maxEvents: Int?

    func validate() throws {
        if let maxEvents, maxEvents < 1 { throw ValidationError("--max-events must be at least 1, got \(maxEvents)") }
    }

    func run() async throws {
        let client = try node.client(chain: chain)
        let readerKey = try read.load()
        var cursor = from
        var printed = 0
        var failures = 0
        while true {
            do {
                for try await event in client.events(from: cursor, sender: sender, contentType: contentType, reader: readerKey, anonymous: read.anonymous) {
                    failures = 0
                    if event.event == "cutoff" {
                        // The node asks to resume from a cursor: do so.
                        let resume = try? JSONDecoder().decode(EventCutoffJSON.self, from: Data(event.data.utf8)).resume
                        cursor = resume ?? cursor
                        FileHandle.standardError.write(Data("cut off by the node; resuming after \(cursor ?? "now")\n".utf8))
                        break
                    }
                    Self.printLine(event)
                    if let id = event.id { cursor = id }
                    printed += 1
                    if let maxEvents, printed >= maxEvents { return }
                }
            } catch let error as NodeClientError where error.status != nil {
                throw CLIError(error)
            } catch {
                failures += 1
                guard failures <= 5 else { throw CLIError("the event stream keeps failing: \(error)", kind: .unreachable) }
                FileHandle.standardError.write(Data("stream interrupted (\(error)); reconnecting after \(cursor ?? "now")\n".utf8))
                try await Task.sleep(for: .seconds(1))
            }
            // A stream that ended (node restarting, cutoff): resume where it stopped.
            if cursor == nil { cursor = "now" }
        }
    }

    static func printLine(_ event: ServerEvent) {
        let id = event.id.map { "\"\($0)\"" } ?? "null"
        // Unbuffered: a script reading the lines sees each event as it comes.
        FileHandle.standardOutput.write(Data("{\"id\":\(id),\"event\":\"\(event.event)\",\"data\":\(event.data)}\n".utf8))
    }
}
