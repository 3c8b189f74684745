// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import PeregrineTestSupport
import Testing

/// Issue 6's rotation check: the binary run with the service's command line
/// (`systemd/peregrine.service`: `peregrine --config FILE`), the file naming a veth, two workers and
/// a 1 s rotation, captures a replay; every record of the offline run is found across the rotated,
/// compressed files, none twice, and nothing is left in `current/`.
@Suite struct LiveRotationTests {
    @Test func theServiceRotatesAndKeepsEveryRecord() throws {
        let helper = LiveRunTests()
        guard let first = LiveRunTests.liveTrace("http-pipelining/pipelined-requests.pcap"),
            let second = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap"),
            let binary = PeregrineBinary.path
        else { return }
        let offline = try helper.temporaryDirectory(), live = try helper.temporaryDirectory()
        let unpacked = try helper.temporaryDirectory()
        defer { for d in [offline, live, unpacked] { try? FileManager.default.removeItem(atPath: d) } }
        var config = Configuration()
        config.ignoreChecksums = true
        // File ids come from each run's own seed.
        let fileIDs: Set<String> = ["fuid", "orig_fuids", "resp_fuids"]
        var expected: [String: [String]] = [:]
        for (i, trace) in [first, second].enumerated() {
            config.logDirectory = offline + "/\(i)"
            _ = try OfflineRun(configuration: config).run(path: trace)
            expected.merge(try helper.rows(offline + "/\(i)", ignoring: fileIDs)) { $0 + $1 }
        }

        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        // The unit's ExecStart, with a configuration file of the template's shape.
        let file = unpacked + "/peregrine.yaml"
        try """
            capture:
              interfaces: [\(veth.captureInterface)]
              workers: 2
              checksums: ignore
            logs:
              directory: \(live)
              rotation_interval: 1s
              compression: gzip
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try PeregrineBinary.start(["ip", "netns", "exec", veth.captureNamespace, binary, "--config", file])
        Thread.sleep(forTimeInterval: 1.5)
        try veth.replay([first])
        // The first replay's connections reach conn.log 5 s after they close (tcp_close_delay);
        // several rotation times pass before the second replay.
        Thread.sleep(forTimeInterval: 7)
        try veth.replay([second])
        Thread.sleep(forTimeInterval: 1.5)
        let result = run.stop(SIGTERM)
        #expect(result.status == 0, "\(result.output)")

        #expect(try FileManager.default.contentsOfDirectory(atPath: live + "/current").isEmpty)
        var archived: [String] = []
        for day in try FileManager.default.contentsOfDirectory(atPath: live) where day != "current" {
            archived += try FileManager.default.contentsOfDirectory(atPath: live + "/" + day).map { live + "/" + day + "/" + $0 }
        }
        #expect(archived.allSatisfy { $0.hasSuffix(".log.gz") })
        // Rotated at least twice: conn.log's lines sit in at least two files, and the archives
        // cover at least two rotation intervals.
        let names = archived.map { ($0 as NSString).lastPathComponent }
        #expect(names.filter { $0.hasPrefix("conn.") }.count >= 2)
        #expect(Set(names.map { $0.split(separator: ".")[1] }).count >= 2)
        // Each archive unpacked to its own folder as <stream>.log, and read like a log directory.
        var got: [String: [String]] = [:]
        for (i, file) in archived.enumerated() {
            let stream = (file as NSString).lastPathComponent.split(separator: ".")[0]
            let folder = unpacked + "/\(i)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let gunzip = try PeregrineBinary.run(["sh", "-c", "gzip -dc '\(file)' > '\(folder)/\(stream).log'"])
            #expect(gunzip.status == 0)
            got.merge(try helper.rows(folder, ignoring: fileIDs)) { $0 + $1 }
        }
        #expect(Set(got.keys) == Set(expected.keys))
        for (file, lines) in expected {
            #expect(got[file]?.sorted() == lines.sorted(), "\(file)")
        }
    }
}
