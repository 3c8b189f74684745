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
        .executable(name: "peregrine", targets: ["peregrine"]),
        // Libraries for the fuzz package in Tests/Fuzz (its own package, so `swift build` and
        // `swift test` here never build the fuzzers; scripts/fuzz.sh does).
        .library(name: "PeregrineCore", targets: ["PeregrineCore"]),
        .library(name: "PeregrineDecode", targets: ["PeregrineDecode"]),
        .library(name: "PeregrineSessions", targets: ["PeregrineSessions"]),
        .library(name: "PeregrineAnalyzers", targets: ["PeregrineAnalyzers"]),
        .library(name: "PeregrineEngine", targets: ["PeregrineEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "CPeregrineLinux"),
        // libbpf behind plain C types: <bpf/libbpf.h> cannot meet libpcap's headers in one Swift module
        // (both define `struct bpf_insn`); the header says more.
        .target(name: "CPeregrineBPF", linkerSettings: [.linkedLibrary("bpf")]),
        .systemLibrary(name: "CNuma", pkgConfig: "numa", providers: [.apt(["libnuma-dev"])]),
        // AF_XDP sockets through libxdp's <xdp/xsk.h> (which includes libbpf's headers) behind plain C
        // types, with the ring loops batched; the header says more.
        .target(name: "CPeregrineXDP", linkerSettings: [.linkedLibrary("xdp"), .linkedLibrary("bpf")]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "PeregrineCore"),
        .target(name: "PeregrineSystem", dependencies: ["CPeregrineLinux", "CPcap", "CNuma"]),
        // The checksum's bulk loop in C, compiled for AVX2 and baseline x86-64 and picked at load
        // time: Swift cannot select instructions per CPU, and the loop is the largest single cost
        // per packet (scripts/bench.sh, callgrind). The one exception to Decode importing only Core.
        .target(name: "CPeregrineChecksum"),
        .target(name: "PeregrineDecode", dependencies: ["PeregrineCore", "CPeregrineChecksum"], exclude: ["Tunnels/README.md"]),
        .target(
            name: "PeregrineCapture",
            dependencies: [
                "PeregrineCore", "PeregrineSystem", "CPeregrineLinux", "CPcap", "CPeregrineBPF", "CPeregrineXDP",
            ]),
        .target(name: "PeregrineSessions", dependencies: ["PeregrineCore", "PeregrineDecode"]),
        .target(
            name: "PeregrineAnalyzers",
            dependencies: [
                "PeregrineCore", "PeregrineSessions", "CZlib",
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            exclude: [
                "DNS/README.md", "HTTP/README.md", "Files/README.md", "TLS/README.md", "SSH/README.md",
                "FTP/README.md", "SMTP/README.md", "DPD/README.md", "DHCP/README.md",
            ]),
        .target(name: "PeregrineLogs", dependencies: ["PeregrineCore", "CZlib", "CZstd"]),
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
                "PeregrineCore", "PeregrineSystem", "PeregrineDecode", "PeregrineCapture", "PeregrineSessions",
                "PeregrineAnalyzers", "PeregrineLogs", "PeregrinePolicy",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The configuration file: YAML (Yams) → SensorSettings, every problem with file and line.
        .target(
            name: "PeregrineConfig",
            dependencies: [
                "PeregrineCore", "PeregrineSystem", "PeregrineCapture", "PeregrineLogs", "PeregrinePolicy",
                "PeregrineEngine", .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "peregrine",
            dependencies: [
                "PeregrineConfig", "PeregrineEngine", "PeregrineSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "CPeregrineTestBPF", path: "Tests/CPeregrineTestBPF"),
        .target(
            name: "PeregrineTestSupport", dependencies: ["PeregrineCore", "CPeregrineLinux"],
            path: "Tests/PeregrineTestSupport"),
        .testTarget(name: "PeregrineCoreTests", dependencies: ["PeregrineCore"]),
        .testTarget(name: "PeregrineDecodeTests", dependencies: ["PeregrineDecode", "PeregrineTestSupport"]),
        .testTarget(name: "PeregrineSystemTests", dependencies: ["PeregrineSystem", "CPeregrineLinux", "PeregrineTestSupport"]),
        // CPcap: the tests read every trace through libpcap too, as the reference for the mapped reader.
        .testTarget(
            name: "PeregrineCaptureTests",
            dependencies: [
                "PeregrineCapture", "PeregrineCore", "PeregrineSystem", "CPeregrineLinux", "CPcap",
                "CPeregrineTestBPF", "PeregrineTestSupport", "PeregrineDecode",
            ]
        ),
        .testTarget(name: "PeregrineSessionsTests", dependencies: ["PeregrineSessions", "PeregrineTestSupport"]),
        .testTarget(
            name: "PeregrineAnalyzersTests",
            dependencies: ["PeregrineAnalyzers", "PeregrineCore", "PeregrineSessions", "PeregrineTestSupport"]),
        .testTarget(name: "PeregrineLogsTests", dependencies: ["PeregrineLogs", "PeregrineCore"]),
        .testTarget(
            name: "PeregrinePolicyTests", dependencies: ["PeregrinePolicy", "PeregrineAnalyzers", "PeregrineSessions"]),
        .testTarget(
            name: "PeregrineConfigTests",
            dependencies: [
                "PeregrineConfig", "PeregrineEngine", "PeregrineCapture", "PeregrineCore", "PeregrineLogs",
                "PeregrineSystem",
            ]),
        .testTarget(
            name: "PeregrineEndToEndTests",
            dependencies: ["PeregrineEngine", "PeregrineTestSupport", "PeregrineCapture", "PeregrineDecode", "PeregrineSystem"]
        ),
    ]
)

// Shared settings for every target (NIO's closing loop): upcoming features and the debug-only
// internal-checks define of style.md §4.8.
for target in package.targets where target.type != .system && !target.name.hasPrefix("CPeregrine") {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.define("PEREGRINE_INTERNAL_CHECKS", .when(configuration: .debug)))
    // The worker, the analyzers' pools and the policy objects are classes whose state the packet
    // path mutates; Swift checks each such access at run time (swift_beginAccess), which callgrind
    // measured at ~170 instructions per packet conn-only and ~550 with the analyzers on
    // real-mix.pcap. The checks guard against overlapping accesses that the worker's
    // single-threaded loop does not make: the one re-entry, reassembly calling the analyzers back,
    // touches no state the reassembler holds (Worker+Streams.swift). Release builds drop them;
    // debug builds, which the tests run, keep them and trap on an overlap.
    if target.type != .test {
        settings.append(.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)))
    }
    target.swiftSettings = settings
}
