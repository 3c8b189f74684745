// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineEngine
import Testing

/// stats.log and capture_loss.log: their schedule on network time, and runs on corpus traces,
/// whole and with TCP data segments cut out.
@Suite struct StatsLogTests {
    static let wikipedia = TraceTests.corpus + "/conn-wikipedia/wikipedia.pcap"

    /// Zeek's stats.log `#fields` and `#types` lines (`policy/misc/stats.zeek`).
    static let statsHeader = [
        "#fields\tts\tpeer\tmem\tpkts_proc\tbytes_recv\tpkts_dropped\tpkts_link\tpkt_lag\tpkts_filtered\t"
            + "events_proc\tevents_queued\tactive_tcp_conns\tactive_udp_conns\tactive_icmp_conns\ttcp_conns\t"
            + "udp_conns\ticmp_conns\ttimers\tactive_timers\tfiles\tactive_files\tdns_requests\t"
            + "active_dns_requests\treassem_tcp_size\treassem_file_size\treassem_frag_size\treassem_unknown_size",
        "#types\ttime\tstring\tcount\tcount\tcount\tcount\tcount\tinterval\tcount\tcount\tcount\tcount\tcount\t"
            + "count\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount",
    ]

    /// Zeek's capture_loss.log `#fields` and `#types` lines (`policy/misc/capture-loss.zeek`).
    static let captureLossHeader = [
        "#fields\tts\tts_delta\tpeer\tgaps\tacks\tpercent_lost",
        "#types\ttime\tinterval\tstring\tcount\tcount\tdouble",
    ]

    func t(_ seconds: Int64) -> Timestamp { Timestamp(seconds: 1_000_000 + seconds, nanoseconds: 0) }

    @Test func statsFireAtTheFirstPacketThenEveryInterval() {
        var s = ReportSchedule(statsInterval: .seconds(300), lossInterval: nil, lossInitialInterval: .seconds(60))
        #expect(s.due(at: t(0)).stats)
        #expect(!s.due(at: t(299)).stats)
        #expect(s.due(at: t(300)).stats)
        #expect(!s.due(at: t(599)).stats)
        #expect(s.due(at: t(601)).stats)
        #expect(s.nextDue == t(901))
        #expect(s.due(at: t(10_000)).lossDelta == nil)
    }

    @Test func captureLossStartsAtTheFirstPacketAndMeasuresAfterTheInitialInterval() {
        var s = ReportSchedule(statsInterval: nil, lossInterval: .seconds(900), lossInitialInterval: .seconds(60))
        #expect(s.lastLoss == nil)
        let first = s.due(at: t(0))
        #expect(first.startLoss && first.lossDelta == nil && !first.stats)
        #expect(s.lastLoss == t(0))
        #expect(s.due(at: t(59)) == ReportSchedule.Due())
        #expect(s.due(at: t(61)).lossDelta == .seconds(61))
        #expect(s.due(at: t(900)).lossDelta == nil)
        #expect(s.due(at: t(961)).lossDelta == .seconds(900))
        #expect(s.lastLoss == t(961) && s.nextDue == t(1861))
    }

    @Test func offReportsNothing() {
        var s = ReportSchedule(statsInterval: nil, lossInterval: nil, lossInitialInterval: .seconds(60))
        #expect(s.due(at: t(100_000)) == ReportSchedule.Due())
        #expect(s.lastLoss == nil && s.nextDue == Timestamp(nanoseconds: .max))
    }

    @Test func optionsSetTheIntervals() throws {
        var c = Configuration()
        #expect(!c.statsLogging && !c.captureLossLogging)
        #expect(c.statsInterval == .seconds(300) && c.captureLossInterval == .seconds(900))
        try c.load(script: "misc/stats")
        try c.load(script: "policy/misc/capture-loss.zeek")
        try c.apply(option: "Stats::report_interval=30 secs")
        try c.apply(option: "CaptureLoss::watch_interval=2 min")
        try c.apply(option: "CaptureLoss::initial_watch_interval=5")
        #expect(c.statsLogging && c.captureLossLogging)
        #expect(c.statsInterval == .seconds(30) && c.captureLossInterval == .seconds(120))
        #expect(c.captureLossInitialInterval == .seconds(5))
        #expect(throws: EngineError.self) { try c.apply(option: "Stats::report_interval=0") }
    }

    func run(_ trace: String, workers: Int = 1) throws -> (logs: [String: [[String]]], headers: [String: [String]]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-stats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = Configuration()
        config.logDirectory = dir.path
        config.seed = 1
        config.workers = workers
        try config.load(script: "misc/stats")
        try config.load(script: "misc/capture-loss")
        _ = try OfflineRun(configuration: config).run(path: trace)
        var logs: [String: [[String]]] = [:], headers: [String: [String]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".log") {
            let text = try String(contentsOfFile: dir.appendingPathComponent(file).path, encoding: .utf8)
            let lines = text.split(separator: "\n")
            let name = String(file.dropLast(4))
            headers[name] = lines.filter { $0.hasPrefix("#fields") || $0.hasPrefix("#types") }.map(String.init)
            logs[name] = lines.filter { !$0.hasPrefix("#") }
                .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        }
        return (logs, headers)
    }

    /// Copies a classic Ethernet pcap, leaving out every `n`th IPv4 TCP segment that carries data.
    func cutting(_ trace: String, every n: Int) throws -> (path: String, dropped: Int) {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: trace)))
        func u32le(_ o: Int) -> Int {
            Int(data[o]) | Int(data[o + 1]) << 8 | Int(data[o + 2]) << 16 | Int(data[o + 3]) << 24
        }
        try #require(data.count >= 24 && u32le(0) == 0xA1B2_C3D4 && u32le(20) == 1)
        var out = Array(data[0..<24])
        var offset = 24, seen = 0, dropped = 0
        while offset + 16 <= data.count {
            let captured = u32le(offset + 8)
            let end = offset + 16 + captured
            guard end <= data.count else { break }
            let p = offset + 16
            var drop = false
            if captured > 54 && data[p + 12] == 0x08 && data[p + 13] == 0x00 && data[p + 23] == 6 {
                let ipHeader = Int(data[p + 14] & 0x0F) * 4
                let total = Int(data[p + 16]) << 8 | Int(data[p + 17])
                let tcpHeader = Int(data[p + 14 + ipHeader + 12] >> 4) * 4
                if total - ipHeader - tcpHeader > 0 {
                    seen += 1
                    drop = seen % n == 0
                }
            }
            if drop { dropped += 1 } else { out += data[offset..<end] }
            offset = end
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-cut-\(UUID()).pcap").path
        try Data(out).write(to: URL(fileURLWithPath: path))
        return (path, dropped)
    }

    @Test func wikipediaGivesZeeksStatsLinesAndNoLoss() throws {
        guard FileManager.default.fileExists(atPath: Self.wikipedia) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let (logs, headers) = try run(Self.wikipedia)
        #expect(headers["stats"] == Self.statsHeader)
        #expect(headers["capture_loss"] == Self.captureLossHeader)
        // Zeek's scripts.policy.misc.stats baseline for this trace: pkts_proc 1, then 135.
        let stats = try #require(logs["stats"])
        #expect(stats.map { $0[3] } == ["1", "135"])
        #expect(stats.allSatisfy { $0[1] == "zeek" && $0[5] == "-" && $0[6] == "-" && $0[7] == "-" && $0[8] == "-" })
        #expect(stats.map { Int($0[4]) ?? 0 }.reduce(0, +) > 0)
        let loss = try #require(logs["capture_loss"])
        #expect(loss.count == 1)
        #expect(loss[0][2] == "zeek" && loss[0][3] == "0" && loss[0][5] == "0.0")
        #expect((Int(loss[0][4]) ?? 0) > 0)
    }

    @Test func cuttingTCPSegmentsShowsCaptureLoss() throws {
        guard FileManager.default.fileExists(atPath: Self.wikipedia) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let cut = try cutting(Self.wikipedia, every: 5)
        defer { try? FileManager.default.removeItem(atPath: cut.path) }
        #expect(cut.dropped > 0)
        let loss = try #require(try run(cut.path).logs["capture_loss"])
        #expect(loss.count == 1)
        let gaps = try #require(UInt64(loss[0][3])), acks = try #require(UInt64(loss[0][4]))
        #expect(gaps > 0 && gaps <= UInt64(cut.dropped) && acks >= gaps)
        let percent = try #require(Double(loss[0][5]))
        #expect(abs(percent - 100 * Double(gaps) / Double(acks)) < 0.0001)
    }

    @Test func eachWorkerWritesItsOwnLines() throws {
        guard FileManager.default.fileExists(atPath: Self.wikipedia) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let stats = try #require(try run(Self.wikipedia, workers: 2).logs["stats"])
        #expect(Set(stats.map { $0[1] }) == ["worker-1", "worker-2"])
        #expect(stats.map { Int($0[3]) ?? 0 }.reduce(0, +) == 136)
    }
}
