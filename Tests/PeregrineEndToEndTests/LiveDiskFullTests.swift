// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import PeregrineTestSupport
import Testing

/// Issue 6's full disk: a live run whose log directory is an 8 KiB tmpfs captures a replay whose
/// logs need about twice that. Capture goes on (every packet processed), every record of the offline
/// run is either in a file or counted as lost, and what reached the disk is whole lines under a header.
@Suite struct LiveDiskFullTests {
    @Test func aFullLogDiskLosesRecordsCountedAndNeverCapture() throws {
        let helper = LiveRunTests()
        guard let trace = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap") else { return }
        let offline = try helper.temporaryDirectory(), live = try helper.temporaryDirectory()
        try #require(mount("tmpfs", live, "tmpfs", 0, "size=8k") == 0, "mounting a tmpfs needs root")
        defer {
            umount2(live, Int32(MNT_DETACH))
            for d in [offline, live] { try? FileManager.default.removeItem(atPath: d) }
        }
        var config = Configuration()
        config.ignoreChecksums = true
        config.logDirectory = offline
        _ = try OfflineRun(configuration: config).run(path: trace)
        let expected = try helper.rows(offline).values.reduce(0) { $0 + $1.count }

        config.logDirectory = live
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)
        let (summary, error) = capture.finish()
        #expect(error == nil)
        let s = try #require(summary)
        #expect(s.packets == UInt64(sent), "capture went on while the disk was full")
        #expect(s.lostLogRecords > 0)
        #expect(s.logWriteError?.contains("No space left on device") == true, "\(s.logWriteError ?? "-")")

        var written = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: live) {
            let text = try String(contentsOfFile: live + "/" + file, encoding: .utf8)
            guard !text.isEmpty else { continue }
            #expect(text.hasPrefix("#separator \\x09\n"), "\(file) starts with its header")
            #expect(text.hasSuffix("\n"), "\(file) ends with a whole line")
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let columns = lines.first { $0.hasPrefix("#fields") }.map { $0.split(separator: "\t").count - 1 }
            for line in lines where !line.hasPrefix("#") {
                #expect(line.split(separator: "\t", omittingEmptySubsequences: false).count == columns)
                if file != "reporter.log" { written += 1 }
            }
        }
        #expect(written > 0, "the disk took some records before it filled")
        #expect(written + Int(s.lostLogRecords) == expected, "every record is on disk or counted as lost")
    }
}
