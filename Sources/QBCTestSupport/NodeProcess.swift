import Foundation
import QBCClient
import QBCHarness

/// A real `qbc node` for tests: automatic Leaps off unless asked, quiet logs, started in the
/// repository root so config files find `keys-example/`.
public enum NodeProcess {
    /// The repository root, found from this file's path.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func demoKey(_ name: String) -> String { "\(repositoryRoot)/keys-example/\(name).key" }

    public static func start(dataDirectory: String, arguments: [String] = [], environment: [String: String] = [:]) async throws
        -> LocalNode
    {
        var args = arguments
        if !args.contains("--leap-interval-ms") { args += ["--leap-interval-ms", "0"] }
        // QBC_TEST_LOG_LEVEL=debug keeps more of a node's log for a failing test.
        var env = ["QBC_LOG_LEVEL": ProcessInfo.processInfo.environment["QBC_TEST_LOG_LEVEL"] ?? "warning"]
        env.merge(environment) { _, new in new }
        return try await LocalNode.start(
            executable: CommandRunner.qbcPath, dataDirectory: dataDirectory, arguments: args, environment: env,
            directory: repositoryRoot)
    }
}
