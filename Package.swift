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
    ],
    targets: [
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "CPeregrineLinux"),
        .target(name: "PeregrineCore"),
        .target(name: "PeregrineSystem", dependencies: ["CPeregrineLinux", "CPcap"]),
        .target(name: "PeregrineDecode", dependencies: ["PeregrineCore"], exclude: ["Tunnels/README.md"]),
        .target(name: "PeregrineCapture", dependencies: ["PeregrineCore", "PeregrineSystem", "CPeregrineLinux", "CPcap"]),
        .target(name: "PeregrineSessions", dependencies: ["PeregrineCore", "PeregrineDecode"]),
        .target(name: "PeregrineLogs", dependencies: ["PeregrineCore"]),
        .target(
            name: "PeregrinePolicy",
            dependencies: [
                "PeregrineCore", "PeregrineSessions", "PeregrineLogs", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "PeregrineEngine",
            dependencies: [
                "PeregrineCore", "PeregrineDecode", "PeregrineCapture", "PeregrineSessions", "PeregrineLogs",
                "PeregrinePolicy",
            ]
        ),
        .executableTarget(
            name: "peregrine",
            dependencies: ["PeregrineEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "CPeregrineTestBPF", path: "Tests/CPeregrineTestBPF"),
        .target(name: "PeregrineTestSupport", dependencies: ["PeregrineCore"], path: "Tests/PeregrineTestSupport"),
        .testTarget(name: "PeregrineCoreTests", dependencies: ["PeregrineCore"]),
        .testTarget(name: "PeregrineDecodeTests", dependencies: ["PeregrineDecode", "PeregrineTestSupport"]),
        .testTarget(name: "PeregrineSystemTests", dependencies: ["PeregrineSystem", "CPeregrineLinux"]),
        .testTarget(
            name: "PeregrineCaptureTests",
            dependencies: [
                "PeregrineCapture", "PeregrineCore", "PeregrineSystem", "CPeregrineLinux",
                "CPeregrineTestBPF", "PeregrineTestSupport",
            ]
        ),
        .testTarget(name: "PeregrineSessionsTests", dependencies: ["PeregrineSessions", "PeregrineTestSupport"]),
        .testTarget(name: "PeregrineLogsTests", dependencies: ["PeregrineLogs"]),
        .testTarget(name: "PeregrinePolicyTests", dependencies: ["PeregrinePolicy"]),
        .testTarget(
            name: "PeregrineEndToEndTests",
            dependencies: ["PeregrineEngine", "PeregrineTestSupport"]
        ),
    ]
)

// Shared settings for every target (NIO's closing loop): upcoming features and the debug-only
// internal-checks define of style.md §4.8.
for target in package.targets where target.type != .system && !target.name.hasPrefix("CPeregrine") {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.define("PEREGRINE_INTERNAL_CHECKS", .when(configuration: .debug)))
    target.swiftSettings = settings
}
