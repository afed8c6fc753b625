import Foundation
import QBCHarness

/// Runs the real `qbc` executable the way a user would, capturing its output.
public enum CommandRunner {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The built `qbc` binary: beside the test bundle in the build folder, or `QBC_BIN`.
    public static var qbcPath: String {
        if let explicit = ProcessInfo.processInfo.environment["QBC_BIN"] { return explicit }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("qbc").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "qbc"
    }

    /// Runs `qbc` with `arguments`, an environment without QBC_PASSPHRASE unless given, and optional stdin.
    public static func qbc(
        _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil,
        directory: String? = nil
    ) throws -> Result {
        try run(qbcPath, arguments, environment: environment, stdin: stdin, directory: directory)
    }

    /// Runs any program (e.g. `/usr/bin/env python3 …` for the PyNaCl examples) the same way.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil,
        directory: String? = nil
    ) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "QBC_PASSPHRASE")
        env.merge(environment) { _, new in new }
        // Files, not pipes: no deadlock on full pipes and no EINTR from pipe reads.
        let scratch = try TemporaryDirectory()
        let (outPath, errPath, inPath) = (scratch.file("stdout"), scratch.file("stderr"), scratch.file("stdin"))
        try Data(stdin ?? []).write(to: URL(fileURLWithPath: inPath))
        // Not Foundation's Process: see ChildProcess.
        let process = try ChildProcess(
            executable: executable, arguments: arguments, environment: env, directory: directory,
            stdin: inPath, stdout: outPath, stderr: errPath)
        let status = process.waitUntilExit()
        return Result(
            status: status,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}

extension CommandRunner {
    /// In async code, `qbc` runs on a thread of its own: waiting for a command that takes
    /// seconds (a node start, a browser, a Leap) must not hold one of the two cooperative
    /// threads every other test of the parallel suite needs meanwhile.
    public static func qbc(
        _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil, directory: String? = nil
    ) async throws -> Result {
        try await onOwnThread { Swift.Result { try qbc(arguments, environment: environment, stdin: stdin, directory: directory) } }.get()
    }

    /// Any program, the same way in async code.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil,
        directory: String? = nil
    ) async throws -> Result {
        try await onOwnThread {
            Swift.Result { try run(executable, arguments, environment: environment, stdin: stdin, directory: directory) }
        }.get()
    }
}

/// Runs blocking work (sockets, a child process) on a thread of its own. Swift's cooperative pool
/// has one thread per core, and other tests hold it for seconds while their nodes start and stop:
/// longer than the node's 10 s body pause, which once made a test's "trickle" turn into a pause on
/// a busy CI machine (decisions D54).
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// A temporary directory removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("qbc-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

extension LocalNode {
    /// SIGTERM and wait until the node has shut down, on a thread of its own: the graceful stop
    /// may take a while, and a test waiting on a cooperative thread held one of the pool's two.
    public func stop() async { await onOwnThread { self.stop() } }

    /// SIGKILL and wait, on a thread of its own.
    public func kill() async { await onOwnThread { self.kill() } }
}
