/// One libFuzzer entry point: a name (kebab-case, used by `QBC_FUZZ_TARGET`, the corpus folders
/// and `make fuzz`) and a function that feeds arbitrary bytes to real decoders and rules.
///
/// `run` must never trap on any input: thrown errors are the expected answer to bad bytes and are
/// ignored; a crash, an overflow trap or a hang is a bug in the code under test
/// (documentation/fuzzing.md).
public struct FuzzTarget: Sendable {
    public let name: String
    public let run: @Sendable ([UInt8]) -> Void

    public init(name: String, run: @escaping @Sendable ([UInt8]) -> Void) {
        self.name = name
        self.run = run
    }
}

/// Every fuzz target, in the order `make fuzz` runs them.
public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "tx-binary", run: TransactionFuzz.binary),
        FuzzTarget(name: "tx-batch", run: TransactionFuzz.batch),
        FuzzTarget(name: "tx-json", run: TransactionFuzz.json),
        FuzzTarget(name: "quant-json", run: QuantFuzz.json),
        FuzzTarget(name: "quant-header", run: QuantFuzz.header),
        FuzzTarget(name: "bang", run: BangFuzz.run),
        FuzzTarget(name: "registration", run: NetworkFuzz.registration),
        FuzzTarget(name: "membership-change", run: GovernanceFuzz.run),
        FuzzTarget(name: "lock-envelope", run: LockFuzz.run),
        FuzzTarget(name: "key-file", run: KeyFileFuzz.run),
        FuzzTarget(name: "payload-schema", run: PayloadSchemaFuzz.run),
        FuzzTarget(name: "read-proof", run: NetworkFuzz.readProof),
        FuzzTarget(name: "spec-file", run: SpecFileFuzz.run),
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
