// SPDX-License-Identifier: Apache-2.0
import Foundation
@testable import PeregrineCapture
import PeregrineCore
import Testing

@Suite struct PcapFileSourceCorpusTests {
    /// Every trace of Zeek's corpus gives as many packets as tcpdump reads from it.
    @Test(arguments: PcapTestFiles.corpusTraces())
    func corpusTraceMatchesTcpdump(_ relative: String) throws {
        let path = PcapTestFiles.zeekCorpus.appendingPathComponent(relative).path
        let source = try PcapFileSource(path: path)
        var lastTimestamp = Timestamp.zero
        var bytesSeen = 0
        let summary = try source.forEachFrame { frame in
            #expect(frame.bytes.count <= frame.wireLength)
            #expect(frame.linkType == 1)
            lastTimestamp = frame.timestamp
            bytesSeen += frame.bytes.count
        }
        #expect(summary.packets > 0)
        #expect(summary.capturedBytes == bytesSeen)
        #expect(summary == source.summary)
        #expect(lastTimestamp.nanoseconds > 0)
        #expect(source.isPcapng == relative.hasSuffix(".pcapng"))
        #expect(source.captureStatistics() == nil)
        let expected = try PcapTestFiles.tcpdumpCount(path)
        try #require(expected != nil, "tcpdump is not installed (scripts/install-deps.sh installs it)")
        #expect(summary.packets == expected)
    }

    @Test func corpusIsPresentOrSkipped() {
        if PcapTestFiles.corpusTraces().isEmpty {
            print("skipping corpus traces: \(PcapTestFiles.zeekCorpus.path) is absent")
        }
    }

    /// The bundled demo trace reads whole: as many packets as tcpdump sees, none cut by the snaplen.
    @Test func demoTraceMatchesTcpdump() throws {
        let path = PcapTestFiles.packageRoot.appendingPathComponent("Tests/Fixtures/Traces/demo/demo.pcap").path
        let summary = try PcapFileSource(path: path).forEachFrame { _ in }
        #expect(summary.packets > 500 && summary.truncatedPackets == 0)
        #expect(summary.capturedBytes == summary.wireBytes)
        #expect(summary.packets == (try PcapTestFiles.tcpdumpCount(path)))
        #expect(try PcapFileSource(path: path, filter: "icmp").forEachFrame { _ in }.packets
            == (try PcapTestFiles.tcpdumpCount(path, filter: "icmp")))
    }

    /// A filter selects the same subset tcpdump selects, and a strict subset of the trace.
    @Test func filterSelectsSubset() throws {
        let path = PcapTestFiles.zeekCorpus.appendingPathComponent("conn-wikipedia/wikipedia.pcap").path
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipping: \(path) is absent")
            return
        }
        let all = try PcapFileSource(path: path).forEachFrame { _ in }
        let source = try PcapFileSource(path: path, filter: "udp port 53")
        #expect(source.filter == "udp port 53")
        let dns = try source.forEachFrame { _ in }
        #expect(dns.packets > 0 && dns.packets < all.packets)
        #expect(dns.packets == (try PcapTestFiles.tcpdumpCount(path, filter: "udp port 53")))
    }

    /// A pcapng file with several interfaces of one link type; every frame carries it.
    @Test func multiInterfacePcapng() throws {
        let path = PcapTestFiles.zeekCorpus
            .appendingPathComponent("pcapng-multi-interface/pcapng-multi-interface.pcapng").path
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipping: \(path) is absent")
            return
        }
        let source = try PcapFileSource(path: path)
        #expect(source.isPcapng && source.linkType == 1)
        var linkTypes = Set<UInt32>()
        let summary = try source.forEachFrame { linkTypes.insert($0.linkType) }
        #expect(linkTypes == [1])
        #expect(summary.packets == (try PcapTestFiles.tcpdumpCount(path)))
    }
}

@Suite struct PcapFileSourceTests {
    let dir: URL
    init() throws { dir = try PcapTestFiles.makeTempDir() }

    private func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func threeFrames() -> [PcapTestFiles.Frame] {
        (1...3).map { PcapTestFiles.Frame(seconds: 1_700_000_000 + UInt32($0), fraction: 5, bytes: PcapTestFiles.udpFrame(tag: UInt8($0))) }
    }

    @Test func nanosecondTimestampsFromNanosecondPcap() throws {
        let frame = PcapTestFiles.Frame(seconds: 1_234_567_890, fraction: 123_456_789, bytes: PcapTestFiles.udpFrame(tag: 9), wireLength: 1500)
        let path = try write("ns.pcap", PcapTestFiles.pcap(nanosecond: true, frames: [frame]))
        let source = try PcapFileSource(path: path)
        var stamps: [Int64] = []
        var tags: [UInt8] = []
        let summary = try source.forEachFrame { frame in
            stamps.append(frame.timestamp.nanoseconds)
            tags.append(frame.bytes[63])
            #expect(frame.wireLength == 1500 && frame.bytes.count == 64)
        }
        #expect(stamps == [1_234_567_890_123_456_789])
        #expect(tags == [9])
        #expect(summary == PcapReadSummary.with(packets: 1, captured: 64, wire: 1500, truncated: 1))
        try FileManager.default.removeItem(at: dir)
    }

    @Test func microsecondPcapScaledToNanoseconds() throws {
        let frame = PcapTestFiles.Frame(seconds: 1_234_567_890, fraction: 123_456, bytes: PcapTestFiles.udpFrame(tag: 1))
        let path = try write("us.pcap", PcapTestFiles.pcap(frames: [frame]))
        var stamps: [Int64] = []
        try PcapFileSource(path: path).forEachFrame { stamps.append($0.timestamp.nanoseconds) }
        #expect(stamps == [1_234_567_890_123_456_000])
        try FileManager.default.removeItem(at: dir)
    }

    @Test func pcapngTimestampsAndFrames() throws {
        let frames = threeFrames()
        let path = try write("t.pcapng", PcapTestFiles.pcapng(interfaces: [1, 1], packets: frames.enumerated().map { (UInt32($0.offset % 2), $0.element) }))
        let source = try PcapFileSource(path: path)
        #expect(source.isPcapng)
        var stamps: [Int64] = []
        try source.forEachFrame { stamps.append($0.timestamp.nanoseconds) }
        #expect(stamps == frames.map { Int64($0.seconds) * 1_000_000_000 + 5_000 })
        try FileManager.default.removeItem(at: dir)
    }

    @Test func truncatedMidPacketDeliversPacketsBeforeTheCut() throws {
        let full = PcapTestFiles.pcap(frames: threeFrames())
        let path = try write("cut.pcap", Array(full.dropLast(30)))
        let source = try PcapFileSource(path: path)
        var tags: [UInt8] = []
        let error = #expect(throws: PcapError.self) { try source.forEachFrame { tags.append($0.bytes[63]) } }
        #expect(tags == [1, 2])
        guard case .readFailed(let p, let delivered, let reason)? = error else {
            Issue.record("expected readFailed, got \(String(describing: error))")
            return
        }
        #expect(p == path && delivered == 2)
        #expect(reason.contains("truncated dump file"))
        #expect(error.map { !$0.description.contains("\n") && $0.description.contains(path) } == true)
        #expect(source.summary.packets == 2)
        try FileManager.default.removeItem(at: dir)
    }

    /// Frames handed to other threads stay mapped: pages are given back only before the oldest
    /// frame still in use, and as reading goes on once nothing is held.
    @Test func keptFramesAreNotGivenBack() throws {
        // 40 MB of 1,400-byte frames: five release steps of 8 MB.
        let frame = PcapTestFiles.udpFrame(tag: 1) + [UInt8](repeating: 0xAB, count: 1336)
        let frames = (0..<28_000).map { PcapTestFiles.Frame(seconds: UInt32($0), fraction: 0, bytes: frame) }
        let path = try write("big.pcap", PcapTestFiles.pcap(frames: frames))
        let source = try PcapFileSource(path: path)
        let base = try #require(source.mappedBase)
        var held: UnsafeRawPointer?
        var seen = 0
        var releasedWhileHeld = 0
        try source.forEachFrame(keepingFrom: { held }) { f in
            seen += 1
            if seen == 1000 { held = f.bytes.baseAddress }
            if held != nil { releasedWhileHeld = max(releasedWhileHeld, source.releasedBytes) }
            if seen == 20_000 {
                // The held frame's page and everything after it are still mapped.
                #expect(source.releasedBytes <= held! - base)
                held = nil
            }
        }
        #expect(seen == 28_000)
        #expect(releasedWhileHeld <= 1000 * 1416)
        // Once nothing was held, reading went on giving pages back.
        #expect(source.releasedBytes > 20_000 * 1416)
        try FileManager.default.removeItem(at: dir)
    }

    @Test func bodyErrorStopsReading() throws {
        struct Stop: Error {}
        let path = try write("ok.pcap", PcapTestFiles.pcap(frames: threeFrames()))
        let source = try PcapFileSource(path: path)
        var seen = 0
        #expect(throws: Stop.self) { try source.forEachFrame { _ in seen += 1; if seen == 2 { throw Stop() } } }
        #expect(seen == 2)
        try FileManager.default.removeItem(at: dir)
    }

    @Test func badFilterNamesFilterAndFile() throws {
        let path = try write("ok.pcap", PcapTestFiles.pcap(frames: threeFrames()))
        let error = #expect(throws: PcapError.self) { try PcapFileSource(path: path, filter: "tcp port banana") }
        guard case .invalidFilter(let p, let filter, let reason)? = error else {
            Issue.record("expected invalidFilter, got \(String(describing: error))")
            return
        }
        #expect(p == path && filter == "tcp port banana" && !reason.isEmpty)
        #expect(error?.description.contains("'tcp port banana'") == true)
        try FileManager.default.removeItem(at: dir)
    }

    @Test func filterOnHandMadeFile() throws {
        var frames = threeFrames()
        frames[1].bytes[23] = 6  // make the second frame TCP
        let path = try write("mix.pcap", PcapTestFiles.pcap(frames: frames))
        var tags: [UInt8] = []
        try PcapFileSource(path: path, filter: "udp").forEachFrame { tags.append($0.bytes[63]) }
        #expect(tags == [1, 3])
        try FileManager.default.removeItem(at: dir)
    }

    /// Each bad file gives `.cannotOpen` or `.unsupportedLinkType` whose one-line description names the file.
    @Test(arguments: [
        ("missing", "No such file or directory"),
        ("directory", "is a directory"),
        ("empty", "empty file"),
        ("garbage", "unknown file format"),
        ("short-header", "truncated"),
        ("link-type", "unsupported link type 147"),
    ])
    func badFile(_ kind: String, _ expected: String) throws {
        let path: String
        switch kind {
        case "missing": path = dir.appendingPathComponent("nope.pcap").path
        case "directory": path = dir.path
        case "empty": path = try write("empty.pcap", [])
        case "garbage": path = try write("garbage.pcap", Array("this is not a capture file at all\n".utf8))
        case "short-header": path = try write("short.pcap", Array(PcapTestFiles.pcap(frames: []).prefix(10)))
        default: path = try write("usr0.pcap", PcapTestFiles.pcap(linkType: 147, frames: threeFrames()))
        }
        let error = #expect(throws: PcapError.self) { try PcapFileSource(path: path) }
        let text = error?.description ?? ""
        #expect(text.contains(path), "\(text)")
        #expect(text.contains(expected), "\(text)")
        #expect(!text.contains("\n"))
        try FileManager.default.removeItem(at: dir)
    }
}

extension PcapReadSummary {
    static func with(packets: Int, captured: Int, wire: Int, truncated: Int) -> PcapReadSummary {
        var s = PcapReadSummary()
        s.packets = packets
        s.capturedBytes = captured
        s.wireBytes = wire
        s.truncatedPackets = truncated
        return s
    }
}
