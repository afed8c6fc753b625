import Foundation
import QBCFuzzTargets
import Testing

/// Runs every seed and every saved crash of every fuzz target through the same entry function
/// the fuzzer calls, so a fixed crash stays fixed and the seeds keep decoding
/// (documentation/fuzzing.md). A crash here is a crash in QBC: the test process dies with it.
@Suite struct FuzzCorpusTests {
    /// The repository root: this file is at Tests/QBCFuzzTests/ inside it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The regular files of `folder` (relative to the root), sorted; nil when it does not exist.
    static func files(in folder: String) -> [URL]? {
        let url = root.appendingPathComponent(folder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return nil }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { url.appendingPathComponent($0) }
    }

    @Test func fixturesBuild() {
        #expect(FuzzFixtures.shared != nil, "the fuzz fixtures (keys, chains, payload rules) must build, or every target does nothing")
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func corpusAndRegressions(name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        guard let seeds = Self.files(in: "Fuzz/Corpus/\(name)"), !seeds.isEmpty else {
            Issue.record("fuzz target \(name) has no seeds in Fuzz/Corpus/\(name): add some (Tests/QBCFuzzTests/CorpusWriter.swift)")
            return
        }
        for file in seeds + (Self.files(in: "Fuzz/Regressions/\(name)") ?? []) {
            target.run(Array(try Data(contentsOf: file)))
        }
    }

    @Test func everyCorpusFolderIsATarget() throws {
        let names = Set(FuzzTargets.all.map(\.name))
        for folder in ["Fuzz/Corpus", "Fuzz/Regressions"] {
            for url in Self.files(in: folder) ?? [] {
                #expect(names.contains(url.lastPathComponent), "\(folder)/\(url.lastPathComponent) matches no fuzz target")
            }
        }
    }
}
