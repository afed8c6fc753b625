import Foundation

/// A real `qbc node` process on a loopback port it picks itself (`--port 0`), for tests.
/// Stopped (SIGKILL as a last resort) when the value goes away.
public final class NodeProcess: @unchecked Sendable {
    public let process: Process
    public let url: String
    public let port: Int
    public let chainID: String
    public let logPath: String

    /// The repository root, found from this file's path, so tests can use `keys-example/`.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func demoKey(_ name: String) -> String { "\(repositoryRoot)/keys-example/\(name).key" }

    /// Starts a node on `dataDirectory` with automatic Leaps off unless `arguments` say otherwise.
    public init(dataDirectory: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.qbcPath)
        var args = ["node", "--port", "0", "--data", dataDirectory]
        if !arguments.contains("--leap-interval-ms") { args += ["--leap-interval-ms", "0"] }
        process.arguments = args + arguments
        var env = ProcessInfo.processInfo.environment
        env["QBC_LOG_LEVEL"] = "warning"
        env.merge(environment) { _, new in new }
        process.environment = env
        // Config files name key files relative to the directory the node starts in.
        process.currentDirectoryURL = URL(fileURLWithPath: Self.repositoryRoot)
        let outPath = dataDirectory + ".stdout"
        logPath = dataDirectory + ".stderr"
        for path in [outPath, logPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: logPath) else {
            throw NodeProcessError.start("cannot create output files")
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        var found: (Int, String)?
        while found == nil {
            let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            found = Self.parse(text)
            if found != nil { break }
            guard process.isRunning, Date() < deadline else {
                if process.isRunning { process.terminate() }
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw NodeProcessError.start("node did not start: \(log.suffix(500))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        port = found?.0 ?? 0
        chainID = found?.1 ?? ""
        url = "http://127.0.0.1:\(port)"
    }

    static func parse(_ text: String) -> (Int, String)? {
        var port: Int?
        var chain: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("chain "), let id = line.split(separator: " ").last { chain = String(id) }
            if let range = line.range(of: "listening on http://127.0.0.1:") { port = Int(line[range.upperBound...]) }
        }
        guard let port, let chain else { return nil }
        return (port, chain)
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM and wait: a graceful stop.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// SIGKILL and wait: a crash at an arbitrary instant.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

public enum NodeProcessError: Error, CustomStringConvertible {
    case start(String)
    public var description: String {
        switch self { case .start(let message): message }
    }
}
