import Foundation

/// A `qbc node` child process on a loopback port it picks itself (`--port 0`): used by
/// `qbc bench` and by the tests. Killed with SIGKILL if still running when released.
public final class LocalNode: @unchecked Sendable {
    public let process: ChildProcess
    public let url: String
    public let port: Int
    public let chainID: String
    public let logPath: String

    /// Starts `executable node --port 0 --data DIR ARGUMENTS…` in `directory` and waits until it
    /// prints its listening line. Output goes to `DIR.stdout` and `DIR.stderr`.
    public init(
        executable: String, dataDirectory: String, arguments: [String] = [], environment: [String: String] = [:],
        directory: String? = nil, startTimeout: TimeInterval = 60
    ) throws {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let outPath = dataDirectory + ".stdout"
        logPath = dataDirectory + ".stderr"
        // The listening line is read from a fresh stdout; the log of a restarted node goes on.
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let process = try ChildProcess(
            executable: executable, arguments: ["node", "--port", "0", "--data", dataDirectory] + arguments,
            environment: env, directory: directory, stdout: outPath, stderr: logPath, append: true)
        self.process = process
        let deadline = Date().addingTimeInterval(startTimeout)
        var found: (port: Int, chain: String)?
        while found == nil {
            found = Self.parse((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "")
            if found != nil { break }
            guard process.isRunning, Date() < deadline else {
                if process.isRunning {
                    process.signal(SIGKILL)
                    process.waitUntilExit()
                }
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw LocalNodeError("node did not start: \(log.suffix(500))")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        port = found?.port ?? 0
        chainID = found?.chain ?? ""
        url = "http://127.0.0.1:\(port)"
    }

    static func parse(_ text: String) -> (port: Int, chain: String)? {
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

    /// Resident memory of the node in bytes (Linux `/proc`), or nil.
    public var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// SIGTERM and wait: a graceful stop.
    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        process.waitUntilExit()
    }

    /// SIGSTOP: the process stops answering without closing anything, as a hung machine does.
    public func pause() {
        guard process.isRunning else { return }
        process.signal(SIGSTOP)
    }

    /// SIGCONT after `pause()`.
    public func resume() {
        guard process.isRunning else { return }
        process.signal(SIGCONT)
    }

    /// SIGKILL and wait: a crash at an arbitrary instant.
    public func kill() {
        guard process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            process.signal(SIGCONT)
            process.signal(SIGKILL)
            process.waitUntilExit()
        }
    }
}

public struct LocalNodeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
