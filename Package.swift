// swift-tools-version:6.0
// SPDX-License-Identifier: Apache-2.0
//
// Peregrine: a network security monitor that writes Zeek's logs. The target graph follows
// ../shared/docs/style.md §2: imports only point down the table.

import PackageDescription

let package = Package(
    name: "peregrine",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "peregrine", targets: ["peregrine"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "PeregrineCore"),
        .target(name: "PeregrineDecode", dependencies: ["PeregrineCore"], exclude: ["Tunnels/README.md"]),
        .target(name: "PeregrineCapture", dependencies: ["PeregrineCore", "CPcap"]),
        .target(name: "PeregrineSessions", dependencies: ["PeregrineCore", "PeregrineDecode"]),
        .target(
            name: "PeregrineAnalyzers",
            dependencies: [
                "PeregrineCore", "PeregrineSessions",
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            exclude: ["DNS/README.md", "TLS/README.md"]),
        .target(name: "PeregrineLogs", dependencies: ["PeregrineCore"]),
        .target(
            name: "PeregrinePolicy",
            dependencies: [
                "PeregrineCore", "PeregrineSessions", "PeregrineAnalyzers", "PeregrineLogs",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "PeregrineEngine",
            dependencies: [
                "PeregrineCore", "PeregrineDecode", "PeregrineCapture", "PeregrineSessions", "PeregrineAnalyzers",
                "PeregrineLogs", "PeregrinePolicy",
            ]
        ),
        .executableTarget(
            name: "peregrine",
            dependencies: ["PeregrineEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "PeregrineTestSupport", dependencies: ["PeregrineCore"], path: "Tests/PeregrineTestSupport"),
        .testTarget(name: "PeregrineCoreTests", dependencies: ["PeregrineCore"]),
        .testTarget(name: "PeregrineDecodeTests", dependencies: ["PeregrineDecode", "PeregrineTestSupport"]),
        .testTarget(name: "PeregrineCaptureTests", dependencies: ["PeregrineCapture", "PeregrineTestSupport"]),
        .testTarget(name: "PeregrineSessionsTests", dependencies: ["PeregrineSessions", "PeregrineTestSupport"]),
        .testTarget(
            name: "PeregrineAnalyzersTests", dependencies: ["PeregrineAnalyzers", "PeregrineSessions", "PeregrineTestSupport"]),
        .testTarget(name: "PeregrineLogsTests", dependencies: ["PeregrineLogs"]),
        .testTarget(
            name: "PeregrinePolicyTests", dependencies: ["PeregrinePolicy", "PeregrineAnalyzers", "PeregrineSessions"]),
        .testTarget(
            name: "PeregrineEndToEndTests",
            dependencies: ["PeregrineEngine", "PeregrineTestSupport"]
        ),
    ]
)

// Shared settings for every target (NIO's closing loop): upcoming features and the debug-only
// internal-checks define of style.md §4.8.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.define("PEREGRINE_INTERNAL_CHECKS", .when(configuration: .debug)))
    target.swiftSettings = settings
}
