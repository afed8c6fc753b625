// swift-tools-version:6.1
// A service that uses QBC through its Swift SDK (the QBCClient library): it signs and submits a
// transaction, then follows the chain's event stream until the transaction is committed.
import PackageDescription

let package = Package(
    name: "QBCSDKExample",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your own package: .package(url: "<the QBC repository>", from: "<a release>").
        .package(name: "QBC", path: "../../.."),
    ],
    targets: [
        .executableTarget(
            name: "qbc-sdk-example",
            dependencies: [
                .product(name: "QBCClient", package: "QBC"),
                .product(name: "QBCWire", package: "QBC"),
                .product(name: "QBCCore", package: "QBC"),
                .product(name: "QBCCrypto", package: "QBC"),
            ]
        ),
    ]
)
