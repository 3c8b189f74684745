// SPDX-License-Identifier: Apache-2.0
import CPcap
import Foundation
import PeregrineCapture
import PeregrineCore
import Testing

/// One frame as a test keeps it: copied bytes, lengths, timestamp and link type.
struct ReadFrame: Equatable, CustomStringConvertible {
    var bytes: [UInt8]
    var wireLength: Int
    var nanoseconds: Int64
    var linkType: UInt32

    var description: String { "frame(\(bytes.count)/\(wireLength) bytes @\(nanoseconds) lt \(linkType))" }
}

/// What reading a whole file gave: the frames, and whether it opened and ended cleanly.
struct ReadOutcome: Equatable {
    var opened: Bool
    var frames: [ReadFrame]
    var failed: Bool
}

/// libpcap's own reader (`pcap_next_ex`, nanosecond precision), the reference the mapped reader
/// must agree with.
enum LibpcapReference {
    static func read(_ path: String, filter: String? = nil) -> ReadOutcome {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline_with_tstamp_precision(
            path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        else { return ReadOutcome(opened: false, frames: [], failed: true) }
        defer { pcap_close(handle) }
        if let filter {
            var program = bpf_program()
            guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
                return ReadOutcome(opened: false, frames: [], failed: true)
            }
            defer { pcap_freecode(&program) }
            pcap_setfilter(handle, &program)
        }
        let dlt = pcap_datalink(handle)
        let linkType = dlt == DLT_RAW ? 101 : UInt32(dlt)
        var frames: [ReadFrame] = []
        while true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let status = pcap_next_ex(handle, &header, &data)
            guard status == 1, let header, let data else {
                return ReadOutcome(opened: true, frames: frames, failed: status != PCAP_ERROR_BREAK)
            }
            let h = header.pointee
            frames.append(
                ReadFrame(
                    bytes: Array(UnsafeBufferPointer(start: data, count: Int(h.caplen))), wireLength: Int(h.len),
                    nanoseconds: Int64(h.ts.tv_sec) * 1_000_000_000 + Int64(h.ts.tv_usec), linkType: linkType))
        }
    }
}

/// The mapped reader, through `PcapFileSource`.
enum MappedReference {
    static func read(_ path: String, filter: String? = nil) -> ReadOutcome {
        guard let source = try? PcapFileSource(path: path, filter: filter) else {
            return ReadOutcome(opened: false, frames: [], failed: true)
        }
        var frames: [ReadFrame] = []
        do {
            try source.forEachFrame { f in
                frames.append(
                    ReadFrame(
                        bytes: Array(f.bytes), wireLength: f.wireLength, nanoseconds: f.timestamp.nanoseconds,
                        linkType: f.linkType))
            }
            return ReadOutcome(opened: true, frames: frames, failed: false)
        } catch {
            return ReadOutcome(opened: true, frames: frames, failed: true)
        }
    }
}

@Suite struct MappedPcapReaderCorpusTests {
    /// Every corpus trace gives, frame by frame, what libpcap gives: bytes, lengths, timestamps.
    @Test(arguments: PcapTestFiles.corpusTraces())
    func corpusTraceMatchesLibpcap(_ relative: String) {
        let path = PcapTestFiles.zeekCorpus.appendingPathComponent(relative).path
        let expected = LibpcapReference.read(path)
        let got = MappedReference.read(path)
        #expect(expected.opened && !expected.frames.isEmpty)
        #expect(got.frames.count == expected.frames.count)
        #expect(got == expected)
    }

    /// A filter selects, per frame, what libpcap's filter selects.
    @Test func corpusFilterMatchesLibpcap() {
        let path = PcapTestFiles.zeekCorpus.appendingPathComponent("conn-wikipedia/wikipedia.pcap").path
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipping: \(path) is absent")
            return
        }
        for filter in ["tcp", "udp port 53", "host 208.80.152.2 and tcp[tcpflags] & tcp-syn != 0", "ip[8] < 64"] {
            let expected = LibpcapReference.read(path, filter: filter)
            #expect(!expected.frames.isEmpty, "\(filter)")
            #expect(MappedReference.read(path, filter: filter) == expected, "\(filter)")
        }
    }
}

@Suite struct MappedPcapReaderTests {
    let dir: URL
    init() throws { dir = try PcapTestFiles.makeTempDir() }

    private func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func frames(_ n: Int, size: Int = 64) -> [PcapTestFiles.Frame] {
        (1...n).map { i in
            var bytes = PcapTestFiles.udpFrame(tag: UInt8(i))
            bytes += [UInt8](repeating: UInt8(i), count: max(0, size - 64))
            return PcapTestFiles.Frame(seconds: 1_600_000_000 + UInt32(i), fraction: UInt32(i * 1013), bytes: bytes,
                                       wireLength: bytes.count + i % 3)
        }
    }

    /// Both byte orders, micro- and nanosecond magic, format 2.4 and the older ones whose length
    /// fields are swapped: the same frames as libpcap.
    @Test(arguments: [false, true], [false, true])
    func classicVariantsMatchLibpcap(bigEndian: Bool, nanosecond: Bool) throws {
        let file = SyntheticCapture.classic(bigEndian: bigEndian, nanosecond: nanosecond, frames: frames(5))
        let path = try write("c.pcap", file)
        let expected = LibpcapReference.read(path)
        #expect(expected.frames.count == 5 && !expected.failed)
        #expect(MappedReference.read(path) == expected)
        if nanosecond {
            #expect(expected.frames[0].nanoseconds == 1_600_000_001_000_001_013)
        } else {
            #expect(expected.frames[0].nanoseconds == 1_600_000_001_001_013_000)
        }
        try FileManager.default.removeItem(at: dir)
    }

    @Test(arguments: [UInt16(0), 1, 2, 3])
    func classicOldVersionsSwapLengthsLikeLibpcap(minor: UInt16) throws {
        var file = SyntheticCapture.classic(bigEndian: false, nanosecond: false, frames: frames(3))
        file[6] = UInt8(minor)
        let path = try write("old.pcap", file)
        let expected = LibpcapReference.read(path)
        #expect(expected.opened)
        #expect(MappedReference.read(path) == expected)
        try FileManager.default.removeItem(at: dir)
    }

    /// A record longer than the file's snapshot length is cut to it, as libpcap does.
    @Test func classicRecordLongerThanSnapshotIsCut() throws {
        var file = SyntheticCapture.classic(bigEndian: false, nanosecond: false, frames: frames(3, size: 200))
        file[16] = 100  // snaplen 100 (little-endian u32 at offset 16)
        file[17] = 0
        let path = try write("snap.pcap", file)
        let expected = LibpcapReference.read(path)
        let got = MappedReference.read(path)
        #expect(expected.frames.map(\.bytes.count) == [100, 100, 100])
        #expect(got == expected)
        #expect(try PcapFileSource(path: path).snapshotLength == 100)
        try FileManager.default.removeItem(at: dir)
    }

    /// pcapng in both byte orders, with several sections, nanosecond and binary resolutions, a time
    /// offset, a Simple Packet Block, the obsolete Packet Block and blocks to skip.
    @Test(arguments: [false, true])
    func pcapngVariantsMatchLibpcap(bigEndian: Bool) throws {
        let f = frames(6, size: 90)
        var w = SyntheticCapture.Pcapng(bigEndian: bigEndian)
        w.section()
        w.interface(linkType: 1, snapshotLength: 0, resolution: 9)  // nanoseconds
        w.interface(linkType: 1, snapshotLength: 0, resolution: 0x80 | 20, offsetSeconds: 1000)  // 2^-20 s
        w.enhanced(interface: 0, units: UInt64(f[0].seconds) * 1_000_000_000 + 123_456_789, frame: f[0])
        w.block(type: 5, body: [1, 2, 3, 4, 5, 6, 7, 8])  // Interface Statistics: skipped
        w.enhanced(interface: 1, units: UInt64(f[1].seconds) << 20 | 777_777, frame: f[1])
        w.block(type: 0x0BAD_0BAD, body: [UInt8](repeating: 0xEE, count: 12))  // unknown: skipped
        w.simple(frame: f[2])
        w.obsolete(interface: 0, units: UInt64(f[3].seconds) * 1_000_000_000, frame: f[3])
        w.section()  // a new section forgets the interfaces
        // libpcap 1.10 wants every interface's snapshot length to be the first one's.
        w.interface(linkType: 1, snapshotLength: 0, resolution: nil)  // microseconds
        w.enhanced(interface: 0, units: UInt64(f[4].seconds) * 1_000_000 + 5, frame: f[4])
        w.enhanced(interface: 0, units: UInt64(f[5].seconds) * 1_000_000 + 6, frame: f[5])
        let path = try write("v.pcapng", w.bytes)
        let expected = LibpcapReference.read(path)
        #expect(expected.frames.count == 6 && !expected.failed)
        let got = MappedReference.read(path)
        #expect(got == expected)
        try #require(got.frames.count == 6)
        #expect(got.frames.first?.nanoseconds == Int64(f[0].seconds) * 1_000_000_000 + 123_456_789)
        #expect(got.frames[1].nanoseconds == (Int64(f[1].seconds) + 1000) * 1_000_000_000 + 777_777 * 1_000_000_000 / (1 << 20))
        try FileManager.default.removeItem(at: dir)
    }

    /// Sections in different byte orders, which libpcap refuses, are read section by section.
    @Test func pcapngSectionsOfBothByteOrders() throws {
        let f = frames(2)
        var little = SyntheticCapture.Pcapng(bigEndian: false)
        little.section()
        little.interface(linkType: 1, snapshotLength: 0, resolution: nil)
        little.enhanced(interface: 0, units: 1_000_000, frame: f[0])
        var big = SyntheticCapture.Pcapng(bigEndian: true)
        big.section()
        big.interface(linkType: 1, snapshotLength: 0, resolution: nil)
        big.enhanced(interface: 0, units: 2_000_000, frame: f[1])
        let path = try write("orders.pcapng", little.bytes + big.bytes)
        let got = MappedReference.read(path)
        #expect(!got.failed)
        #expect(got.frames.map(\.nanoseconds) == [1_000_000_000, 2_000_000_000])
        #expect(got.frames.map(\.bytes) == [f[0].bytes, f[1].bytes])
        try FileManager.default.removeItem(at: dir)
    }

    /// Interfaces of different link types: every frame carries its own interface's.
    @Test func pcapngMixedLinkTypes() throws {
        let f = frames(3)
        var w = SyntheticCapture.Pcapng(bigEndian: false)
        w.section()
        w.interface(linkType: 1, snapshotLength: 0, resolution: nil)
        w.interface(linkType: 101, snapshotLength: 0, resolution: nil)
        w.enhanced(interface: 0, units: 1, frame: f[0])
        w.enhanced(interface: 1, units: 2, frame: PcapTestFiles.Frame(seconds: 0, fraction: 0, bytes: Array(f[1].bytes.dropFirst(14))))
        w.enhanced(interface: 0, units: 3, frame: f[2])
        let path = try write("mixed.pcapng", w.bytes)
        let source = try PcapFileSource(path: path)
        #expect(source.linkType == 1)
        var seen: [(UInt32, UInt8)] = []
        try source.forEachFrame { seen.append(($0.linkType, $0.bytes[0])) }
        #expect(seen.map(\.0) == [1, 101, 1])
        #expect(seen[1].1 == 0x45)  // the raw-IP frame starts with its IPv4 header
        try FileManager.default.removeItem(at: dir)
    }

    /// An interface of a link type nothing decodes stops reading after the frames before it.
    @Test func pcapngUnsupportedSecondLinkTypeStops() throws {
        let f = frames(2)
        var w = SyntheticCapture.Pcapng(bigEndian: false)
        w.section()
        w.interface(linkType: 1, snapshotLength: 0, resolution: nil)
        w.interface(linkType: 147, snapshotLength: 0, resolution: nil)
        w.enhanced(interface: 0, units: 1, frame: f[0])
        w.enhanced(interface: 1, units: 2, frame: f[1])
        let path = try write("usr.pcapng", w.bytes)
        let source = try PcapFileSource(path: path)
        var delivered = 0
        let error = #expect(throws: PcapError.self) { try source.forEachFrame { _ in delivered += 1 } }
        #expect(delivered == 1)
        guard case .readFailed(let p, 1, let reason)? = error else {
            Issue.record("expected readFailed after 1 packet, got \(String(describing: error))")
            return
        }
        #expect(p == path && reason.contains("unsupported link type 147"))
        try FileManager.default.removeItem(at: dir)
    }

    /// Cut at every length, a file gives what libpcap gives: whether it opens, the frames before the
    /// cut, and whether reading ends in an error.
    @Test(arguments: ["pcap", "pcapng"])
    func everyTruncationMatchesLibpcap(_ kind: String) throws {
        let f = frames(3)
        let full: [UInt8]
        if kind == "pcap" {
            full = SyntheticCapture.classic(bigEndian: false, nanosecond: false, frames: f)
        } else {
            var w = SyntheticCapture.Pcapng(bigEndian: false)
            w.section()
            w.interface(linkType: 1, snapshotLength: 0, resolution: 9)
            for (i, frame) in f.enumerated() { w.enhanced(interface: 0, units: UInt64(i) * 1000, frame: frame) }
            full = w.bytes
        }
        for length in 1..<full.count {
            let path = try write("cut-\(length).\(kind)", Array(full.prefix(length)))
            let expected = LibpcapReference.read(path)
            let got = MappedReference.read(path)
            #expect(got == expected, "cut at \(length) of \(full.count)")
            try FileManager.default.removeItem(atPath: path)
        }
        try FileManager.default.removeItem(at: dir)
    }

    /// Damaged length fields are reported, never read past: the frames before the damage come out,
    /// then a one-line error naming the file.
    @Test(arguments: [
        ("record caplen huge", 24 + 64 + 16 + 8, UInt32(0x7FFF_FFFF)),
        ("record caplen past the end", 24 + 64 + 16 + 8, UInt32(200)),
    ])
    func corruptClassicRecord(_ name: String, _ at: Int, _ value: UInt32) throws {
        var file = SyntheticCapture.classic(bigEndian: false, nanosecond: false, frames: frames(3).map {
            var f = $0
            f.wireLength = nil
            return f
        })
        withUnsafeBytes(of: value.littleEndian) { file.replaceSubrange(at..<(at + 4), with: $0) }
        let path = try write("bad.pcap", file)
        let expected = LibpcapReference.read(path)
        let got = MappedReference.read(path)
        #expect(got == expected, "\(name)")
        #expect(got.frames.count == 1 && got.failed, "\(name)")
        let source = try PcapFileSource(path: path)
        let error = #expect(throws: PcapError.self) { try source.forEachFrame { _ in } }
        #expect(error.map { $0.description.contains(path) && !$0.description.contains("\n") } == true)
        try FileManager.default.removeItem(at: dir)
    }

    @Test(arguments: [
        ("block length huge", UInt32(0xFFFF_FFF0)),
        ("block length not a multiple of 4", UInt32(98)),
        ("block length below 12", UInt32(8)),
    ])
    func corruptPcapngBlock(_ name: String, _ length: UInt32) throws {
        let f = frames(3)
        var w = SyntheticCapture.Pcapng(bigEndian: false)
        w.section()
        w.interface(linkType: 1, snapshotLength: 0, resolution: nil)
        w.enhanced(interface: 0, units: 1, frame: f[0])
        let damaged = w.bytes.count
        w.enhanced(interface: 0, units: 2, frame: f[1])
        w.enhanced(interface: 0, units: 3, frame: f[2])
        var file = w.bytes
        withUnsafeBytes(of: length.littleEndian) { file.replaceSubrange((damaged + 4)..<(damaged + 8), with: $0) }
        let path = try write("bad.pcapng", file)
        let got = MappedReference.read(path)
        #expect(got.frames.count == 1 && got.failed, "\(name)")
        #expect(got.frames == Array(LibpcapReference.read(path).frames.prefix(1)), "\(name)")
        try FileManager.default.removeItem(at: dir)
    }

    /// A packet block naming an interface the section never described is an error, as in libpcap.
    @Test func pcapngPacketOnUndescribedInterface() throws {
        var w = SyntheticCapture.Pcapng(bigEndian: false)
        w.section()
        w.interface(linkType: 1, snapshotLength: 0, resolution: nil)
        w.enhanced(interface: 0, units: 1, frame: frames(1)[0])
        w.enhanced(interface: 3, units: 2, frame: frames(1)[0])
        let path = try write("noidb.pcapng", w.bytes)
        let expected = LibpcapReference.read(path)
        #expect(expected.failed && expected.frames.count == 1)
        #expect(MappedReference.read(path) == expected)
        try FileManager.default.removeItem(at: dir)
    }
}

/// Builders for capture files in either byte order.
enum SyntheticCapture {
    static func classic(bigEndian: Bool, nanosecond: Bool, frames: [PcapTestFiles.Frame]) -> [UInt8] {
        var out = Writer(bigEndian: bigEndian)
        out.u32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        out.u16(2)
        out.u16(4)
        out.u32(0)
        out.u32(0)
        out.u32(65535)
        out.u32(1)
        for f in frames {
            out.u32(f.seconds)
            out.u32(f.fraction)
            out.u32(UInt32(f.bytes.count))
            out.u32(UInt32(f.wireLength ?? f.bytes.count))
            out.bytes += f.bytes
        }
        return out.bytes
    }

    struct Writer {
        var bigEndian: Bool
        var bytes: [UInt8] = []
        mutating func u16(_ v: UInt16) { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { bytes += $0 } }
        mutating func u32(_ v: UInt32) { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { bytes += $0 } }
        mutating func u64(_ v: UInt64) { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { bytes += $0 } }
    }

    /// A pcapng writer: blocks appended in order, in one byte order.
    struct Pcapng {
        var writer: Writer
        var bytes: [UInt8] { writer.bytes }

        init(bigEndian: Bool) { writer = Writer(bigEndian: bigEndian) }

        mutating func block(type: UInt32, body: [UInt8]) {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            let length = UInt32(12 + padded.count)
            writer.u32(type)
            writer.u32(length)
            writer.bytes += padded
            writer.u32(length)
        }

        private func field(_ fill: (inout Writer) -> Void) -> [UInt8] {
            var w = Writer(bigEndian: writer.bigEndian)
            fill(&w)
            return w.bytes
        }

        mutating func section() {
            block(type: 0x0A0D_0D0A, body: field { $0.u32(0x1A2B_3C4D); $0.u16(1); $0.u16(0); $0.u64(.max) })
        }

        mutating func interface(linkType: UInt16, snapshotLength: UInt32, resolution: UInt8?, offsetSeconds: Int64? = nil) {
            block(type: 1, body: field { w in
                w.u16(linkType)
                w.u16(0)
                w.u32(snapshotLength)
                if let resolution {
                    w.u16(9)
                    w.u16(1)
                    w.bytes += [resolution, 0, 0, 0]
                }
                if let offsetSeconds {
                    w.u16(14)
                    w.u16(8)
                    w.u64(UInt64(bitPattern: offsetSeconds))
                }
                w.u16(0)
                w.u16(0)
            })
        }

        mutating func enhanced(interface: UInt32, units: UInt64, frame: PcapTestFiles.Frame) {
            block(type: 6, body: field { w in
                w.u32(interface)
                w.u32(UInt32(truncatingIfNeeded: units >> 32))
                w.u32(UInt32(truncatingIfNeeded: units))
                w.u32(UInt32(frame.bytes.count))
                w.u32(UInt32(frame.wireLength ?? frame.bytes.count))
                w.bytes += frame.bytes
            })
        }

        mutating func obsolete(interface: UInt16, units: UInt64, frame: PcapTestFiles.Frame) {
            block(type: 2, body: field { w in
                w.u16(interface)
                w.u16(0)
                w.u32(UInt32(truncatingIfNeeded: units >> 32))
                w.u32(UInt32(truncatingIfNeeded: units))
                w.u32(UInt32(frame.bytes.count))
                w.u32(UInt32(frame.wireLength ?? frame.bytes.count))
                w.bytes += frame.bytes
            })
        }

        mutating func simple(frame: PcapTestFiles.Frame) {
            block(type: 3, body: field { w in
                w.u32(UInt32(frame.bytes.count))
                w.bytes += frame.bytes
            })
        }
    }
}
