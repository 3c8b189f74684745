// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Builders for small capture files written into a per-test temporary folder, and the reference
/// packet count from tcpdump.
enum PcapTestFiles {
    /// The package root (three levels above this file).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/corpus/zeek`, relative to the package root.
    static let zeekCorpus = packageRoot.appendingPathComponent("../shared/corpus/zeek").standardized

    /// Every `.pcap`/`.pcapng` under the Zeek corpus, or an empty list where the corpus is absent.
    static func corpusTraces() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: zeekCorpus.path) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
            .sorted()
    }

    /// A fresh temporary folder, removed by the caller.
    static func makeTempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("peregrine-pcap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// One frame of a hand-made capture.
    struct Frame {
        var seconds: UInt32
        var fraction: UInt32
        var bytes: [UInt8]
        var wireLength: Int? = nil
    }

    /// A classic pcap file (little-endian): microsecond magic 0xa1b2c3d4 or nanosecond 0xa1b23c4d.
    static func pcap(linkType: UInt32 = 1, nanosecond: Bool = false, frames: [Frame]) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE(nanosecond ? UInt32(0xa1b2_3c4d) : 0xa1b2_c3d4)
        out.appendLE(UInt16(2))
        out.appendLE(UInt16(4))
        out.appendLE(UInt32(0))  // thiszone
        out.appendLE(UInt32(0))  // sigfigs
        out.appendLE(UInt32(65535))  // snaplen
        out.appendLE(linkType)
        for f in frames {
            out.appendLE(f.seconds)
            out.appendLE(f.fraction)
            out.appendLE(UInt32(f.bytes.count))
            out.appendLE(UInt32(f.wireLength ?? f.bytes.count))
            out += f.bytes
        }
        return out
    }

    /// A pcapng file: one section, the given interfaces (link types), and one Enhanced Packet Block per
    /// (interface, frame); timestamps in the default microsecond resolution.
    static func pcapng(interfaces: [UInt16], packets: [(interface: UInt32, frame: Frame)]) -> [UInt8] {
        var out: [UInt8] = []
        func block(_ type: UInt32, _ body: [UInt8]) {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            let length = UInt32(12 + padded.count)
            out.appendLE(type)
            out.appendLE(length)
            out += padded
            out.appendLE(length)
        }
        var shb: [UInt8] = []
        shb.appendLE(UInt32(0x1a2b_3c4d))
        shb.appendLE(UInt16(1))
        shb.appendLE(UInt16(0))
        shb.appendLE(UInt64.max)  // section length unknown
        block(0x0A0D_0D0A, shb)
        for linkType in interfaces {
            var idb: [UInt8] = []
            idb.appendLE(linkType)
            idb.appendLE(UInt16(0))
            idb.appendLE(UInt32(65535))
            block(1, idb)
        }
        for (interface, f) in packets {
            let micros = UInt64(f.seconds) * 1_000_000 + UInt64(f.fraction)
            var epb: [UInt8] = []
            epb.appendLE(interface)
            epb.appendLE(UInt32(truncatingIfNeeded: micros >> 32))
            epb.appendLE(UInt32(truncatingIfNeeded: micros))
            epb.appendLE(UInt32(f.bytes.count))
            epb.appendLE(UInt32(f.wireLength ?? f.bytes.count))
            epb += f.bytes
            block(6, epb)
        }
        return out
    }

    /// A minimal Ethernet + IPv4 + UDP frame (64 bytes) whose last byte is `tag`.
    static func udpFrame(tag: UInt8) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 64)
        f[12] = 0x08  // EtherType IPv4
        f[14] = 0x45  // version 4, IHL 5
        f[17] = 50  // total length 50
        f[22] = 64  // TTL
        f[23] = 17  // UDP
        f[63] = tag
        return f
    }

    /// The number of packets tcpdump reads from `path` with an optional filter: one `-tt` line per
    /// packet, counted by its leading "seconds.fraction" timestamp.
    static func tcpdumpCount(_ path: String, filter: String? = nil) throws -> Int? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tcpdump")
        process.arguments = ["-n", "-q", "-tt", "-r", path] + (filter.map { [$0] } ?? [])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").filter { line in
            guard let first = line.split(separator: " ").first else { return false }
            let parts = first.split(separator: ".")
            return parts.count == 2 && parts.allSatisfy { $0.allSatisfy(\.isNumber) }
        }.count
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
