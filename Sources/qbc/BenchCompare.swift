import ArgumentParser
import Foundation
import QBCHarness

/// Runs the benchmarks issue 18 sets targets for, one after another, and prints each figure next
/// to its target: the ratios to raw libsodium measured inside each run, so the table reads the
/// same on a noisy machine. Each benchmark runs as its own process (this binary), as it would by
/// hand; its full output goes to the folder named at the end.
struct BenchCompare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Runs node, sync, locks and poa benchmarks and prints every figure next to its target.",
        discussion: "Build with -c release. Takes about two minutes a round on two cores.")

    @Option(name: .long, help: "Transactions for the node and sync runs.")
    var transactions = 100_000

    @Option(name: .long, help: "Rounds of every benchmark (1-20); each figure is then the median, with its range.")
    var runs = 1

    func validate() throws {
        guard (1...20).contains(runs) else { throw ValidationError("--runs must be 1 to 20") }
        guard transactions > 0 else { throw ValidationError("--transactions must be positive") }
    }

    /// A figure read from a benchmark's output: the row that starts with `label`, the column
    /// given (0 = first number after the label).
    struct Figure {
        let name: String
        let arguments: [String]
        let label: String
        let column: Int
        let target: String
        let meets: (Double) -> Bool
    }

    func run() async throws {
        let n = String(transactions)
        let figures = [
            Figure(name: "admission, JSON / raw verify", arguments: ["node", "--transactions", n], label: "admitted tx/s", column: 2,
                   target: "≥ 0.70", meets: { $0 >= 0.7 }),
            Figure(name: "commit (Leap), tx/s", arguments: ["node", "--transactions", n], label: "committed tx/s", column: 0,
                   target: "≥ 100,000", meets: { $0 >= 100_000 }),
            Figure(name: "admission, binary / raw verify", arguments: ["node", "--binary", "--transactions", n], label: "admitted tx/s", column: 2,
                   target: "≥ 0.85", meets: { $0 >= 0.85 }),
            Figure(name: "sync / raw verify", arguments: ["sync", "--transactions", n], label: "synced tx/s", column: 2,
                   target: "≥ 0.80", meets: { $0 >= 0.8 }),
            Figure(name: "locked / plain, same bytes (JSON)", arguments: ["locks", "--operations", "200"], label: "JSON, same bytes", column: 2,
                   target: "≥ 0.80", meets: { $0 >= 0.8 }),
            Figure(name: "locked / plain, same bytes (binary)", arguments: ["locks", "--operations", "200"], label: "binary, same bytes", column: 2,
                   target: "≥ 0.80", meets: { $0 >= 0.8 }),
            Figure(name: "3 PoA nodes: sum of committed / raw verify", arguments: ["poa"], label: "sum over nodes", column: -1,
                   target: "≥ 0.90 (0.3 per node)", meets: { $0 >= 0.9 }),
        ]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qbc-bench-compare-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        // Rounds run every benchmark once each, so a slow phase of the machine falls on all of them.
        var values = [[Double]](repeating: [], count: figures.count)
        for round in 0..<runs {
            if runs > 1 { print("round \(round + 1) of \(runs)") }
            var outputs = [[String]: String]()
            for (index, figure) in figures.enumerated() {
                if outputs[figure.arguments] == nil {
                    outputs[figure.arguments] = try Self.run(
                        executable, ["bench"] + figure.arguments, folder: folder, index: "\(round + 1).\(outputs.count)")
                }
                if let value = outputs[figure.arguments].flatMap({ Self.number(in: $0, row: figure.label, column: figure.column) }) {
                    values[index].append(value)
                }
            }
        }
        print(Self.row("figure (ratios are to raw libsodium verify/s, same run)", runs > 1 ? "median" : "QBC", "target", "met"))
        for (figure, found) in zip(figures, values) {
            let median = Self.median(found)
            var shown = median.map(Self.format) ?? "—"
            if found.count > 1, let low = found.min(), let high = found.max() { shown += " (\(Self.format(low))–\(Self.format(high)))" }
            print(Self.row(figure.name, shown, figure.target, median.map { figure.meets($0) ? "yes" : "no" } ?? "no figure"))
        }
        print("each benchmark's full output (with its raw libsodium figures): \(folder)")
    }

    static func format(_ value: Double) -> String { value >= 100 ? BenchTable.format(value) : String(format: "%.3f", value) }

    /// The middle value (the mean of the two middle ones for an even count); nil for none.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func row(_ name: String, _ value: String, _ target: String, _ met: String) -> String {
        name.padding(toLength: 58, withPad: " ", startingAt: 0) + BenchTable.pad(value) + "  " + target.padding(toLength: 24, withPad: " ", startingAt: 0) + met
    }

    static func run(_ executable: String, _ arguments: [String], folder: String, index: String) throws -> String {
        let out = "\(folder)/\(index)-\(arguments.joined(separator: "-")).txt"
        let process = try ChildProcess(
            executable: executable, arguments: arguments, environment: ProcessInfo.processInfo.environment, stdout: out, stderr: out + ".stderr")
        let status = process.waitUntilExit()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard status == 0 else { throw CLIError("qbc \(arguments.joined(separator: " ")) failed (exit \(status)); see \(out).stderr") }
        return text
    }

    /// The `column`-th number after `row`'s label in the first line starting with it (-1: the last number).
    static func number(in output: String, row: String, column: Int) -> Double? {
        guard let line = output.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(row) }) else { return nil }
        let numbers = line.dropFirst(row.count).split(whereSeparator: { $0 == " " || $0 == "," || $0 == ":" })
            .compactMap { Double($0.replacingOccurrences(of: "_", with: "")) }
        if column < 0 { return numbers.last }
        return column < numbers.count ? numbers[column] : nil
    }
}
