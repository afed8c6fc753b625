import Foundation
import QBCTestSupport
import Testing

/// documentation/examples/swift-sdk: a package that depends on the QBCClient library. The suite
/// compiles its source against the library modules this build just made (seconds), so an SDK
/// change that breaks it fails here; `make test` then builds the package whole, in its own
/// build folder, as another package depending on QBC would.
@Suite struct SDKExampleTests {
    @Test func theSDKExampleCompilesAgainstTheLibrary() async throws {
        let root = NodeProcess.repositoryRoot
        let build = URL(fileURLWithPath: CommandRunner.qbcPath).deletingLastPathComponent().path
        let files = FileManager.default
        var arguments = ["swiftc", "-typecheck", "-swift-version", "6", root + "/documentation/examples/swift-sdk/Sources/qbc-sdk-example/main.swift",
                         "-I", build + "/Modules", "-Xcc", "-fmodule-map-file=" + root + "/Sources/CSodium/module.modulemap"]
        // The C modules the Swift ones were built against: their module maps and headers.
        for entry in try files.contentsOfDirectory(atPath: build) where entry.hasSuffix(".build") {
            let map = build + "/" + entry + "/module.modulemap"
            if files.fileExists(atPath: map) { arguments += ["-Xcc", "-fmodule-map-file=" + map] }
        }
        let checkouts = root + "/.build/checkouts"
        for package in (try? files.contentsOfDirectory(atPath: checkouts)) ?? [] {
            for target in (try? files.contentsOfDirectory(atPath: checkouts + "/" + package + "/Sources")) ?? [] {
                let include = checkouts + "/" + package + "/Sources/" + target + "/include"
                if files.fileExists(atPath: include) { arguments += ["-Xcc", "-I" + include] }
            }
        }
        let result = try await CommandRunner.run("/usr/bin/env", arguments)
        #expect(result.status == 0, "the example does not compile against the SDK:\n\(result.stderr.prefix(4000))")
    }
}
