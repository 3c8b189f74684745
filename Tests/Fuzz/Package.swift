// swift-tools-version:6.0
// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry points for Peregrine's decoders and offline worker (style.md §6). This is a
// package of its own so the root package's `swift build` and `swift test` never build fuzzers:
// each executable defines `LLVMFuzzerTestOneInput`, hands it to libFuzzer's driver from its
// main.swift, and only links when built with `-sanitize=fuzzer` (scripts/fuzz.sh builds and runs
// them).

import PackageDescription

let package = Package(
    name: "peregrine-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "peregrine", path: "../..")],
    targets: [
        .target(name: "CFuzzerDriver", path: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"], path: "FuzzSupport"),
        .executableTarget(
            name: "fuzz-decode",
            dependencies: ["FuzzSupport", .product(name: "PeregrineDecode", package: "peregrine")],
            path: "Decode"
        ),
        .executableTarget(
            name: "fuzz-tunnels",
            dependencies: ["FuzzSupport", .product(name: "PeregrineDecode", package: "peregrine")],
            path: "Tunnels"
        ),
        .executableTarget(
            name: "fuzz-fragments",
            dependencies: [
                "FuzzSupport", .product(name: "PeregrineCore", package: "peregrine"),
                .product(name: "PeregrineDecode", package: "peregrine"),
            ],
            path: "Fragments"
        ),
        .executableTarget(
            name: "fuzz-dns",
            dependencies: [
                "FuzzSupport", .product(name: "PeregrineCore", package: "peregrine"),
                .product(name: "PeregrineSessions", package: "peregrine"),
                .product(name: "PeregrineAnalyzers", package: "peregrine"),
            ],
            path: "DNSParser"
        ),
        .executableTarget(
            name: "fuzz-ntp",
            dependencies: ["FuzzSupport", .product(name: "PeregrineAnalyzers", package: "peregrine")],
            path: "NTPParser"
        ),
        .executableTarget(
            name: "fuzz-dhcp",
            dependencies: ["FuzzSupport", .product(name: "PeregrineAnalyzers", package: "peregrine")],
            path: "DHCPParser"
        ),
        .executableTarget(
            name: "fuzz-http",
            dependencies: [
                "FuzzSupport", .product(name: "PeregrineCore", package: "peregrine"),
                .product(name: "PeregrineAnalyzers", package: "peregrine"),
            ],
            path: "HTTPParser"
        ),
        .executableTarget(
            name: "fuzz-tls",
            dependencies: ["FuzzSupport", .product(name: "PeregrineAnalyzers", package: "peregrine")],
            path: "TLSConnection"
        ),
        .executableTarget(
            name: "fuzz-x509",
            dependencies: ["FuzzSupport", .product(name: "PeregrineAnalyzers", package: "peregrine")],
            path: "X509Certificate"
        ),
        .executableTarget(
            name: "fuzz-ssh",
            dependencies: ["FuzzSupport", .product(name: "PeregrineAnalyzers", package: "peregrine")],
            path: "SSHConnection"
        ),
        .executableTarget(
            name: "fuzz-ftp",
            dependencies: [
                "FuzzSupport", .product(name: "PeregrineCore", package: "peregrine"),
                .product(name: "PeregrineAnalyzers", package: "peregrine"),
            ],
            path: "FTPParser"
        ),
        .executableTarget(
            name: "fuzz-smtp",
            dependencies: [
                "FuzzSupport", .product(name: "PeregrineCore", package: "peregrine"),
                .product(name: "PeregrineAnalyzers", package: "peregrine"),
            ],
            path: "SMTPParser"
        ),
        .executableTarget(
            name: "fuzz-dnstcp",
            dependencies: ["FuzzSupport", .product(name: "PeregrineAnalyzers", package: "peregrine")],
            path: "DNSStreamFramer"
        ),
        .executableTarget(
            name: "fuzz-worker",
            dependencies: [
                "FuzzSupport", .product(name: "PeregrineEngine", package: "peregrine"),
            ],
            path: "Worker"
        ),
    ]
)
