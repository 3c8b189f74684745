// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions
import Testing

@testable import PeregrinePolicy

@Suite struct AnalyzerLogTests {
    func connection(proto: UInt8) throws -> Connection {
        Connection(
            uid: ConnectionUID(word0: 1, word1: 2), originator: try #require(IPAddress("10.0.0.1")),
            originatorPort: 5353, responder: try #require(IPAddress("10.0.0.2")), responderPort: 53,
            transportProtocol: proto, time: Timestamp(nanoseconds: 1_000_000_000))
    }

    /// Runs `body` against fresh log streams in a temporary directory; returns analyzer.log's data rows.
    func withLogs(_ body: (inout LogStreams) throws -> Void) throws -> [[String]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("analyzerlog-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logs = LogStreams(
            ring: ByteRing(capacity: 1 << 16), local: LocalNetworks(), vlanColumns: false, communityIDSeed: nil)
        let writer = LogWriterThread(
            rings: [logs.ring], writers: LogWriterSet(directory: dir, schemas: logs.schemas, options: LogOptions()))
        writer.start()
        try body(&logs)
        logs.close()
        _ = writer.finish()
        guard let text = try? String(contentsOfFile: dir + "/analyzer.log", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func aViolationBeforeConfirmationDisablesSilently() throws {
        var c = try connection(proto: 17)
        var log = AnalyzerLog()
        let rows = try withLogs { logs in
            let outcome = log.violation(
                .dns, reason: "DNS_Conn_count_too_large", data: nil, connection: &c, now: c.startTime, logs: &logs)
            #expect(outcome == .disable)
        }
        #expect(rows.isEmpty)
        #expect(log.records == 0)
    }

    @Test func aConfirmedAnalyzerThatFailsIsLoggedAndLeavesTheServiceField() throws {
        var c = try connection(proto: 6)
        c.services.insert(ServiceID.ntp.rawValue)
        c.services.insert(ServiceID.http.rawValue)
        c.services.insert(ServiceID.dns.rawValue)
        var log = AnalyzerLog()
        let data = Array(repeating: UInt8(ascii: "x"), count: 50)
        let rows = try withLogs { logs in
            let outcome = data.withUnsafeBytes {
                log.violation(.http, reason: "not a http reply line", data: $0, connection: &c, now: c.startTime,
                              logs: &logs)
            }
            #expect(outcome == .disable)
        }
        #expect(c.services.members == [ServiceID.ntp.rawValue, ServiceID.dns.rawValue])
        #expect(rows == [[
            "1.000000", "protocol", "HTTP", c.uid.string(prefix: "C"), "-",
            "10.0.0.1", "5353", "10.0.0.2", "53", "tcp", "not a http reply line", String(repeating: "x", count: 40),
        ]])
    }

    @Test func violationsPastTenKilobytesAreIgnored() throws {
        var c = try connection(proto: 17)
        c.services.insert(ServiceID.dns.rawValue)
        var log = AnalyzerLog()
        var history = ConnectionHistory()
        var weirds = WeirdQueue()
        _ = c.udp.process(isOriginator: true, udpLength: 8 + 10_241, checksumValid: true, history: &history,
                          weirds: &weirds)
        let rows = try withLogs { logs in
            #expect(log.violation(.dns, reason: "r", data: nil, connection: &c, now: c.startTime, logs: &logs) == .ignored)
        }
        #expect(rows.isEmpty)
        #expect(c.services.contains(ServiceID.dns.rawValue))
    }
}
