// swift-tools-version:6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "QBC",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "qbc", targets: ["qbc"]),
        .library(name: "QBCCrypto", targets: ["QBCCrypto"]),
        .library(name: "QBCCore", targets: ["QBCCore"]),
        // The Swift SDK: typed calls for every route, signing, locks and the event stream
        // (documentation/examples/swift-sdk).
        .library(name: "QBCWire", targets: ["QBCWire"]),
        .library(name: "QBCClient", targets: ["QBCClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "QBCCrypto", dependencies: ["CSodium"], swiftSettings: upcoming),
        .target(name: "QBCCore", dependencies: ["QBCCrypto"], swiftSettings: upcoming),
        .target(name: "QBCWire", dependencies: ["QBCCore", "QBCCrypto"], swiftSettings: upcoming),
        .target(name: "QBCStorage", dependencies: ["QBCCore", "QBCCrypto"], swiftSettings: upcoming),
        .target(
            name: "QBCSQLiteStore",
            dependencies: [
                "QBCStorage", "QBCCore", "QBCCrypto", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "QBCNode",
            dependencies: [
                "QBCCore", "QBCCrypto", "QBCStorage",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        // Running and measuring nodes from outside: the local node launcher and the raw libsodium
        // baseline, for `qbc bench` and the tests; in no shipped library.
        .target(name: "QBCHarness", dependencies: ["CSodium"], swiftSettings: upcoming),
        .target(
            name: "QBCSimulation",
            dependencies: [
                "QBCNode", "QBCStorage", "QBCSQLiteStore", "QBCCore", "QBCCrypto",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "QBCClient",
            dependencies: [
                "QBCWire", "QBCCore", "QBCCrypto",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: upcoming
        ),
        // The explorer's page, scripts and style, compiled into the binary (no files to ship).
        .target(
            name: "QBCExplorer",
            resources: ["index.html", "app.css", "app.js", "dom.js", "overview.js", "chain.js", "records.js"].map { .embedInCode("UI/\($0)") },
            swiftSettings: upcoming
        ),
        .target(
            name: "QBCServer",
            dependencies: [
                "QBCNode", "QBCWire", "QBCClient", "QBCStorage", "QBCSQLiteStore", "QBCCore", "QBCCrypto", "QBCExplorer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "qbc",
            dependencies: [
                "QBCCrypto", "QBCCore", "QBCWire", "QBCClient", "QBCServer", "QBCNode", "QBCSimulation", "QBCHarness", "QBCSQLiteStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        // libFuzzer targets (documentation/fuzzing.md): pure decoders and rules only, no server.
        .target(name: "QBCFuzzTargets", dependencies: ["QBCCore", "QBCCrypto", "QBCWire"], swiftSettings: upcoming),
        .executableTarget(name: "qbc-fuzz", dependencies: ["QBCFuzzTargets"], swiftSettings: upcoming),
        .target(
            name: "QBCTestSupport",
            dependencies: [
                "QBCCrypto", "QBCCore", "QBCStorage", "QBCClient", "QBCHarness", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCCryptoTests",
            dependencies: ["QBCCrypto", "QBCTestSupport"],
            resources: [.copy("Vectors")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCCoreTests",
            dependencies: ["QBCCore", "QBCCrypto", "QBCTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCWireTests",
            dependencies: ["QBCWire", "QBCCore", "QBCCrypto", "QBCTestSupport"],
            resources: [.copy("Vectors")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCStorageTests",
            dependencies: [
                "QBCStorage", "QBCSQLiteStore", "QBCCore", "QBCCrypto", "QBCTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCNodeTests",
            dependencies: ["QBCNode", "QBCStorage", "QBCSQLiteStore", "QBCCore", "QBCCrypto", "QBCTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCSimulationTests",
            dependencies: ["QBCSimulation", "QBCTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCServerTests",
            dependencies: [
                "QBCClient", "QBCWire", "QBCCore", "QBCCrypto", "QBCTestSupport", "QBCHarness", "QBCNode", "QBCServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "qbcCLITests",
            dependencies: ["QBCCrypto", "QBCClient", "QBCWire", "QBCHarness", "QBCTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCFuzzTests",
            dependencies: ["QBCFuzzTargets", "QBCCore", "QBCCrypto", "QBCWire"],
            swiftSettings: upcoming
        ),
    ]
)
