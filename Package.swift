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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "qbc",
            dependencies: [
                "QBCCrypto", "QBCCore", "QBCWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        .target(name: "QBCTestSupport", dependencies: ["QBCCrypto", "QBCCore"], swiftSettings: upcoming),
        .testTarget(
            name: "QBCCryptoTests",
            dependencies: ["QBCCrypto", "QBCTestSupport"],
            resources: [.copy("Vectors")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCCoreTests",
            dependencies: ["QBCCore", "QBCCrypto", "QBCTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "QBCWireTests",
            dependencies: ["QBCWire", "QBCCore", "QBCCrypto", "QBCTestSupport"],
            resources: [.copy("Vectors")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "qbcCLITests",
            dependencies: ["QBCCrypto", "QBCTestSupport"],
            swiftSettings: upcoming
        ),
    ]
)
