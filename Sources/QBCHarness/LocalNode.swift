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
    public convenience init(
        executable: String, dataDirectory: String, arguments: [String] = [], environment: [String: String] = [:],
        directory: String? = nil, startTimeout: TimeInterval = 60
    ) throws {
        let starting = try Starting(executable, dataDirectory, arguments, environment, directory, startTimeout)
        while try !starting.isListening() { Thread.sleep(forTimeInterval: 0.02) }
        try self.init(starting)
    }

    /// The same, waiting without holding a thread: Swift's cooperative pool has one thread per
    /// core, and tests that start nodes in parallel used to hold all of it while the nodes started.
    public static func start(
        executable: String, dataDirectory: String, arguments: [String] = [], environment: [String: String] = [:],
        directory: String? = nil, startTimeout: TimeInterval = 60
    ) async throws -> LocalNode {
        let starting = try Starting(executable, dataDirectory, arguments, environment, directory, startTimeout)
        while try !starting.isListening() { try await Task.sleep(for: .milliseconds(20)) }
        return try LocalNode(starting)
    }

    private init(_ starting: Starting) throws {
        guard let found = starting.found else { throw LocalNodeError("node did not start") }
        process = starting.process
        logPath = starting.logPath
        port = found.port
        chainID = found.chain
        url = "\(found.scheme)://127.0.0.1:\(port)"
    }

    /// A node process until it prints its listening line.
    private final class Starting {
        let process: ChildProcess
        let outPath: String
        let logPath: String
        let deadline: Date
        var found: (port: Int, chain: String, scheme: String)?

        init(
            _ executable: String, _ dataDirectory: String, _ arguments: [String], _ environment: [String: String],
            _ directory: String?, _ timeout: TimeInterval
        ) throws {
            var env = ProcessInfo.processInfo.environment
            env.merge(environment) { _, new in new }
            outPath = dataDirectory + ".stdout"
            logPath = dataDirectory + ".stderr"
            // The listening line is read from a fresh stdout; the log of a restarted node goes on.
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
            process = try ChildProcess(
                executable: executable, arguments: ["node", "--port", "0", "--data", dataDirectory] + arguments,
                environment: env, directory: directory, stdout: outPath, stderr: logPath, append: true)
            deadline = Date().addingTimeInterval(timeout)
        }

        /// True once the node listens; throws, after killing it, when it exited or the time is up.
        func isListening() throws -> Bool {
            found = LocalNode.parse((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "")
            if found != nil { return true }
            guard process.isRunning, Date() < deadline else {
                if process.isRunning {
                    process.signal(SIGKILL)
                    process.waitUntilExit()
                }
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw LocalNodeError("node did not start: \(log.suffix(500))")
            }
            return false
        }
    }

    static func parse(_ text: String) -> (port: Int, chain: String, scheme: String)? {
        var port: Int?
        var chain: String?
        var scheme = "http"
        for line in text.split(separator: "\n") {
            if line.hasPrefix("chain "), let id = line.split(separator: " ").last { chain = String(id) }
            // Whatever host it listens on (a node in a network namespace of a test listens on all).
            for candidate in ["http", "https"] {
                guard let range = line.range(of: "listening on \(candidate)://"), let colon = line.lastIndex(of: ":"),
                    colon >= range.upperBound
                else { continue }
                port = Int(line[line.index(after: colon)...])
                scheme = candidate
            }
        }
        guard let port, let chain else { return nil }
        return (port, chain, scheme)
    }

    public var isRunning: Bool { process.isRunning }

    /// Resident memory of the node in bytes (Linux `/proc`), or nil.
    public var residentBytes: Int? { statusBytes("VmRSS:") }

    /// Resident memory of the node's own (anonymous) pages in bytes, or nil: `residentBytes` also
    /// counts the pages of the database its readers map (D83), which are the kernel's page cache.
    public var anonymousBytes: Int? { statusBytes("RssAnon:") }

    /// The most resident memory the node has held since it started, in bytes, or nil.
    public var peakResidentBytes: Int? { statusBytes("VmHWM:") }

    /// CPU time the node's threads have run, in nanoseconds (the first field of each thread's
    /// `/proc/PID/task/TID/schedstat`), or nil. Finer than `/proc/PID/stat`, which counts 10 ms ticks.
    public var cpuNanoseconds: Int? {
        let tasks = "/proc/\(process.pid)/task"
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: tasks) else { return nil }
        return threads.reduce(0) { sum, thread in
            let text = (try? String(contentsOfFile: "\(tasks)/\(thread)/schedstat", encoding: .utf8)) ?? ""
            return sum + (text.split(separator: " ").first.flatMap { Int($0) } ?? 0)
        }
    }

    private func statusBytes(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
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
