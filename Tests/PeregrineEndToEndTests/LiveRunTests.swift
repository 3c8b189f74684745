// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineEngine
import PeregrineSystem
import PeregrineTestSupport
import Testing

/// `peregrine -i`: a corpus trace replayed with tcpreplay into a veth pair while LiveRun captures
/// the other end gives the offline run's logs, apart from the timing columns (packets carry the
/// replay's clock) and the uids.
@Suite struct LiveRunTests {
    /// Data rows of each log without the timing columns (`ts`, `duration`, dns.log's `rtt`: the
    /// replay has its own clock) and `uid`, and the columns in `extra`, sorted.
    func rows(_ directory: String, ignoring extra: Set<String> = []) throws -> [String: [String]] {
        var logs: [String: [String]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".log") {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            let lines = text.split(separator: "\n")
            guard let fields = lines.first(where: { $0.hasPrefix("#fields") })?.split(separator: "\t").dropFirst()
            else { continue }
            let dropped = Set(fields.enumerated().filter { ["ts", "uid", "duration", "rtt"].contains($0.element) || extra.contains(String($0.element)) }.map(\.offset))
            logs[file] = lines.filter { !$0.hasPrefix("#") }.map { line in
                line.split(separator: "\t", omittingEmptySubsequences: false).enumerated()
                    .filter { !dropped.contains($0.offset) }.map(\.element).joined(separator: "\t")
            }.sorted()
        }
        return logs
    }

    /// The corpus trace at `relative` for a live test, or nil (said on standard output) when the
    /// test cannot run here: no veth namespaces (not root) or no corpus beside the clone.
    static func liveTrace(_ relative: String) -> String? {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return nil
        }
        let trace = TraceTests.corpus + "/" + relative
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return nil
        }
        return trace
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-live-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// One and two workers on a single-queue veth, and two workers on a 4-queue veth (the sender
    /// spreads flows over the queues, as RSS does): the same logs as offline, every packet
    /// replayed counted exactly once (by the kernel and by the workers), no drop.
    @Test(arguments: [(workers: 1, queues: 1), (workers: 2, queues: 1), (workers: 2, queues: 4)])
    func liveCaptureOfAReplayGivesTheOfflineLogs(workers: Int, queues: Int) throws {
        guard let trace = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap") else { return }
        let offline = try temporaryDirectory(), live = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: offline)
            try? FileManager.default.removeItem(atPath: live)
        }
        var config = Configuration()
        config.ignoreChecksums = true
        config.seed = 7
        config.logDirectory = offline
        _ = try OfflineRun(configuration: config).run(path: trace)

        let veth = try VethNamespaces(queues: queues)
        defer { veth.tearDown() }
        let queueDirectories = try VethNamespaces.run(
            "ip", "netns", "exec", veth.captureNamespace, "ls", "/sys/class/net/\(veth.captureInterface)/queues")
        #expect(queueDirectories.split(separator: "\n").filter { $0.hasPrefix("rx-") }.count == queues)
        config.logDirectory = live
        config.workers = workers
        let capture = LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)  // sockets bound and in their fanout group
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)  // the last blocks retire (10 ms block timeout)
        let outcome = capture.finish()
        #expect(outcome.error == nil)
        let summary = try #require(outcome.summary)
        #expect(summary.packets == UInt64(sent) && summary.kernelPackets == UInt64(sent) && summary.kernelDrops == 0)
        let expected = try rows(offline), got = try rows(live)
        #expect(!expected.isEmpty && Set(got.keys) == Set(expected.keys))
        for (file, lines) in expected {
            let live = got[file] ?? []
            let onlyOffline = Set(lines).subtracting(live), onlyLive = Set(live).subtracting(lines)
            #expect(
                live.count == lines.count && onlyOffline.isEmpty && onlyLive.isEmpty,
                "\(file): \(lines.count) rows offline, \(live.count) live; offline only: \(Array(onlyOffline.prefix(3))); live only: \(Array(onlyLive.prefix(3)))")
        }
    }

    /// Live, stats.log has the capture source's columns (Zeek fills them only when reading live
    /// traffic) and its lines count every packet replayed.
    @Test func liveStatsLogHasTheCaptureColumns() throws {
        guard let trace = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap") else { return }
        let live = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: live) }
        var config = Configuration()
        config.ignoreChecksums = true
        config.seed = 7
        config.logDirectory = live
        try config.load(script: "misc/stats")
        try config.load(script: "misc/capture-loss")
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let capture = LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)
        #expect(capture.finish().error == nil)
        let text = try String(contentsOfFile: live + "/stats.log", encoding: .utf8)
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(lines.count >= 2)
        // ts peer mem pkts_proc bytes_recv pkts_dropped pkts_link pkt_lag pkts_filtered ...
        #expect(lines.allSatisfy { $0[1] == "zeek" && $0[5] == "0" && $0[7] != "-" && $0[8] == "-" })
        let processed = lines.map { UInt64($0[3]) ?? 0 }.reduce(0, +)
        let link = lines.map { UInt64($0[6]) ?? 0 }.reduce(0, +)
        #expect(processed == UInt64(sent) && link >= processed)
        #expect(FileManager.default.fileExists(atPath: live + "/capture_loss.log"))
    }

    @Test func aMissingInterfaceIsRefusedNamingIt() {
        #expect {
            _ = try LiveRun(configuration: Configuration()).run(interfaces: ["prgnosuch0"], stop: StopFlag())
        } throws: { error in
            "\(error)".contains("prgnosuch0")
        }
    }

    /// Live, stats.log and capture_loss.log follow the wall clock (the manager thread): with no
    /// traffic at all, one-second intervals still give a line a second, with Zeek's columns.
    @Test func liveReportsFollowTheWallClockWithoutTraffic() throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        let live = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: live) }
        var config = Configuration()
        config.seed = 7
        config.logDirectory = live
        try config.load(script: "misc/stats")
        try config.load(script: "misc/capture-loss")
        try config.apply(option: "Stats::report_interval=1 sec")
        try config.apply(option: "CaptureLoss::initial_watch_interval=1 sec")
        try config.apply(option: "CaptureLoss::watch_interval=1 sec")
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let capture = LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 3.3)
        // The writer writes out what it holds when its rings are idle: lines are on disk before the stop.
        let early = (try? String(contentsOfFile: live + "/stats.log", encoding: .utf8)) ?? ""
        #expect(early.split(separator: "\n").filter { !$0.hasPrefix("#") }.count >= 2)
        let outcome = capture.finish()
        #expect(outcome.error == nil && outcome.summary?.packets == 0)

        func table(_ name: String) throws -> (header: [String], rows: [[String]]) {
            let lines = try String(contentsOfFile: live + "/\(name).log", encoding: .utf8).split(separator: "\n")
            return (
                lines.filter { $0.hasPrefix("#fields") || $0.hasPrefix("#types") }.map(String.init),
                lines.filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
            )
        }
        let stats = try table("stats"), loss = try table("capture_loss")
        #expect(stats.header == StatsLogTests.statsHeader && loss.header == StatsLogTests.captureLossHeader)
        // At the start, after 1, 2 and 3 s, and at the stop; the box is shared, so allow one late tick.
        #expect(stats.rows.count >= 4, "\(stats.rows.count) stats.log lines")
        #expect(stats.rows.allSatisfy { $0.count == 27 && $0[1] == "zeek" && $0[3] == "0" && $0[5] == "0" }, "\(stats.rows)")
        let times = stats.rows.compactMap { Double($0[0]) }
        #expect(times.count == stats.rows.count && zip(times, times.dropFirst()).allSatisfy { $1 >= $0 })
        #expect((times.last ?? 0) - (times.first ?? 0) >= 2.5)
        // Counting starts at once, measurements after 1, 2 and 3 s and at the stop.
        #expect(loss.rows.count >= 3, "\(loss.rows.count) capture_loss.log lines")
        #expect(loss.rows.allSatisfy { $0[2] == "zeek" && $0[3] == "0" && $0[4] == "0" })
    }

    /// SIGHUP for external rotation: logrotate moves the files away, the writer ends them with
    /// `#close`, and new files start with the next records. Across both sets of files no row is
    /// lost or written twice: their union is the offline runs' rows. The handler's entry point,
    /// `ReopenFlag.reopen()`, is called directly.
    @Test func reopenAfterMovingTheLogsAwayLosesAndRepeatsNothing() throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        // Two traces with distinct hosts: the first's closed TCP connections reach conn.log 5 s
        // (tcp_close_delay) after the replay, before the rotation.
        let first = TraceTests.corpus + "/http-pipelining/pipelined-requests.pcap"
        let second = TraceTests.corpus + "/conn-wikipedia/wikipedia.pcap"
        guard FileManager.default.fileExists(atPath: first), FileManager.default.fileExists(atPath: second) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let offline = try temporaryDirectory(), live = try temporaryDirectory(), rotated = try temporaryDirectory()
        defer {
            for directory in [offline, live, rotated] { try? FileManager.default.removeItem(atPath: directory) }
        }
        var config = Configuration()
        config.ignoreChecksums = true
        config.seed = 7
        // File ids come from the run's seeded generator: two offline runs draw them differently
        // from one live run.
        let fileIDs: Set<String> = ["fuid", "orig_fuids", "resp_fuids"]
        var expected: [String: [String]] = [:]
        for trace in [first, second] {
            let directory = offline + "/\(expected.count)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            config.logDirectory = directory
            _ = try OfflineRun(configuration: config).run(path: trace)
            expected.merge(try rows(directory, ignoring: fileIDs)) { $0 + $1 }
        }

        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        config.logDirectory = live
        let capture = LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)
        try veth.replay([first])
        var waited = 0.0
        while !FileManager.default.fileExists(atPath: live + "/conn.log") && waited < 15 {
            Thread.sleep(forTimeInterval: 0.25)
            waited += 0.25
        }
        #expect(FileManager.default.fileExists(atPath: live + "/conn.log"))
        for file in try FileManager.default.contentsOfDirectory(atPath: live) {
            try FileManager.default.moveItem(atPath: live + "/" + file, toPath: rotated + "/" + file)
        }
        capture.reopen.reopen()
        Thread.sleep(forTimeInterval: 0.5)
        try veth.replay([second])
        Thread.sleep(forTimeInterval: 1)
        let outcome = capture.finish()
        #expect(outcome.error == nil && outcome.summary?.kernelDrops == 0)

        for directory in [rotated, live] {
            for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
                let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
                let last = text.split(separator: "\n").last ?? ""
                #expect(text.hasPrefix("#separator") && last.hasPrefix("#close\t"), "\(directory)/\(file)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: live + "/conn.log"))
        let got = try rows(rotated, ignoring: fileIDs).merging(try rows(live, ignoring: fileIDs)) { $0 + $1 }
        #expect(Set(got.keys) == Set(expected.keys))
        for (file, lines) in expected {
            #expect(got[file]?.sorted() == lines.sorted(), "\(file)")
        }
    }

    /// A LiveRun capturing on a veth pair's capture end in a thread of its own, until `finish()`.
    final class LiveCapture: @unchecked Sendable {
        let stop = StopFlag()
        let reopen = ReopenFlag()
        private var summary: LiveRun.Summary?
        private var error: String?
        private var thread: JoinableThread?

        /// Captures on `interface` (the veth's capture end by default) in the capture namespace;
        /// `notice` receives the run's notices (standard error by default).
        init(
            veth: VethNamespaces, configuration: Configuration, notifier: SystemdNotifier? = nil,
            interface: String? = nil, notice: (@Sendable (String) -> Void)? = nil
        ) {
            thread = JoinableThread { [self] in
                do {
                    summary = try veth.inCaptureNamespace {
                        try LiveRun(configuration: configuration, notice: notice).run(
                            interfaces: [interface ?? veth.captureInterface], stop: stop, reopen: reopen,
                            notifier: notifier)
                    }
                } catch {
                    self.error = "\(error)"
                }
            }
        }

        /// Stops the run and waits for it: its summary, or the error it threw.
        func finish() -> (summary: LiveRun.Summary?, error: String?) {
            stop.stop()
            thread?.join()
            thread = nil
            return (summary, error)
        }
    }
}
