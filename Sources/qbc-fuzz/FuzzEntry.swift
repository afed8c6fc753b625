// The libFuzzer entry point (documentation/fuzzing.md). Built with `make fuzz-build`, which
// passes `--sanitize=fuzzer` (libFuzzer then supplies `main`) and `-DQBC_FUZZING`. A plain
// `swift build` compiles the `#else` branch: a stub that says how to build the real thing, so
// the package builds everywhere without libFuzzer.

#if QBC_FUZZING
import Foundation
import QBCFuzzTargets

/// The target named by `QBC_FUZZ_TARGET`, looked up once (globals are initialised lazily, once).
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["QBC_FUZZ_TARGET"] ?? ""
    if let target = FuzzTargets.named(name) { return target }
    let names = FuzzTargets.all.map(\.name).joined(separator: " ")
    FileHandle.standardError.write(Data("qbc-fuzz: set QBC_FUZZ_TARGET to one of: \(names)\n".utf8))
    exit(2)
}()

/// Called by libFuzzer once before any input: an unknown target name stops here, with the list,
/// instead of inside the first run, where libFuzzer would report the exit as a crash.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    _ = selectedTarget
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget.run(bytes)
    return 0
}
#else
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct FuzzEntry {
    static func main() {
        print("qbc-fuzz only runs as a libFuzzer build: use `make fuzz` (or `make fuzz-build`), see documentation/fuzzing.md")
        exit(2)
    }
}
#endif
