// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineEngine
import Testing

/// Trace → engine (offline) → logs, checked against what Zeek writes for the same traces.
@Suite struct TraceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let corpus = root.deletingLastPathComponent().appendingPathComponent("shared/corpus/zeek").path

    /// Runs the engine on `trace` into a fresh directory and returns each log's data rows, split into cells.
    func run(_ trace: String, configure: (inout Configuration) -> Void = { _ in }) throws -> [String: [[String]]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = Configuration()
        config.logDirectory = dir.path
        config.seed = 1
        configure(&config)
        let summary = try OfflineRun(configuration: config).run(path: trace)
        #expect(summary.readError == nil)
        var logs: [String: [[String]]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".log") {
            let text = try String(contentsOfFile: dir.appendingPathComponent(file).path, encoding: .utf8)
            logs[String(file.dropLast(4))] = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
                .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        }
        return logs
    }

    @Test func vxlanTunnelsGetDiscoverAndCloseAndTheInnerConnectionBothParents() throws {
        let trace = Self.corpus + "/vxlan/vxlan.pcap"
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: corpus not found at \(Self.corpus)")
            return
        }
        let logs = try run(trace)
        let tunnel = try #require(logs["tunnel"])
        #expect(tunnel.map { $0[7] }.sorted() == ["Tunnel::CLOSE", "Tunnel::CLOSE", "Tunnel::DISCOVER", "Tunnel::DISCOVER"])
        #expect(Set(tunnel.map { $0[6] }) == ["Tunnel::VXLAN"])
        let conn = try #require(logs["conn"])
        #expect(conn.count == 5)
        let icmp = try #require(conn.first { $0[6] == "icmp" })
        // ts uid orig_h orig_p resp_h resp_p proto service duration orig_bytes resp_bytes conn_state ...
        #expect(icmp[2] == "10.0.0.1" && icmp[3] == "8" && icmp[4] == "10.0.0.2" && icmp[5] == "0")
        #expect(icmp[11] == "OTH" && icmp[16] == "4" && icmp[17] == "336")
        let parents = Set(icmp[20].split(separator: ","))
        let tunnelUIDs = Set(tunnel.map { Substring($0[1]) })
        #expect(parents == tunnelUIDs && parents.count == 2)
        for row in conn where row[5] == "4789" { #expect(row[7] == "vxlan" && row[11] == "S0") }
    }

    @Test func rejectedConnectionsReuseTheirTuple() throws {
        let trace = Self.corpus + "/pop3-rej/pop3.pcap"
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: corpus not found at \(Self.corpus)")
            return
        }
        let conn = try #require(try run(trace)["conn"])
        let rejected = conn.filter { $0[11] == "REJ" }
        #expect(rejected.count == 6)
        #expect(rejected.allSatisfy { $0[15] == "Sr" && $0[16] == "1" && $0[18] == "1" })
        #expect(conn.filter { $0[11] == "SF" }.allSatisfy { $0[15] == "ShAdDafF" })
    }

    @Test func demoTraceGivesEveryStateItHolds() throws {
        let trace = Self.root.appendingPathComponent("Tests/Fixtures/Traces/demo/demo.pcap").path
        let logs = try run(trace) { $0.ignoreChecksums = true }
        let conn = try #require(logs["conn"])
        let states = Set(conn.map { $0[11] })
        #expect(states.isSuperset(of: ["SF", "REJ", "S0", "OTH"]))
        // Every conn has a uid, packet counts that add up, and a proto Zeek knows.
        for row in conn {
            #expect(row[1].hasPrefix("C"))
            #expect(["tcp", "udp", "icmp"].contains(row[6]))
            #expect((Int(row[16]) ?? 0) + (Int(row[18]) ?? 0) > 0)
        }
    }

    @Test func jsonOutputHasOneObjectPerConnection() throws {
        let trace = Self.root.appendingPathComponent("Tests/Fixtures/Traces/demo/demo.pcap").path
        let tsv = try #require(try run(trace) { $0.ignoreChecksums = true }["conn"])
        let json = try #require(try run(trace) { $0.ignoreChecksums = true; $0.useJSON = true }["conn"])
        #expect(json.count == tsv.count)
        #expect(json.allSatisfy { $0.count == 1 && $0[0].hasPrefix("{\"ts\":") })
    }

    @Test func aFileThatIsNotACaptureIsRefusedWithOneLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-pcap-\(UUID().uuidString)").path
        try Data("hello, this is text".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: EngineError.self) { try OfflineRun(configuration: Configuration()).run(path: path) }
        do {
            _ = try OfflineRun(configuration: Configuration()).run(path: path)
        } catch {
            #expect("\(error)".contains(path) && !"\(error)".contains("\n"))
        }
    }

    @Test func zeekStyleOptionsAreParsedAndBadOnesRefused() throws {
        var c = Configuration()
        try c.apply(option: "LogAscii::use_json=T")
        try c.apply(option: "Site::local_nets={10.0.0.0/8, 192.168.0.0/16}")
        try c.load(script: "policy/protocols/conn/vlan-logging")
        #expect(c.useJSON && c.localNetworks.count == 2 && c.vlanLogging)
        #expect(throws: EngineError.self) { try c.apply(option: "Site::local_nets={10.0.0.0/33}") }
        #expect(throws: EngineError.self) { try c.apply(option: "No::such=1") }
        #expect(throws: EngineError.self) { try c.load(script: "my-policy.zeek") }
        // An interval beyond Int64 nanoseconds is refused, not a crash.
        #expect(throws: EngineError.self) { try c.apply(option: "tcp_inactivity_timeout=1e300 days") }
        #expect(throws: EngineError.self) { try c.apply(option: "Stats::report_interval=999999999999 days") }
        try c.apply(option: "Log::default_rotation_interval=1 hr")
        #expect(c.rotationInterval == .seconds(3600))
        try c.apply(option: "Log::default_rotation_interval=0")
        #expect(c.rotationInterval == nil)
    }
}

/// dns.log and the DNS analyzer against Zeek's baselines.
@Suite struct DNSTraceTests {
    /// Data rows of a Zeek baseline log, `ts` and `uid` dropped (masked or seeded differently).
    func baseline(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { Array($0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init).dropFirst(2)) }
    }

    @Test(arguments: [("dns-notify", "dns_notify2.pcap"), ("dnssec-dnskey", "dnskey.pcap"), ("conn-wikipedia", "wikipedia.pcap")])
    func dnsLogMatchesZeek(_ name: String, _ trace: String) throws {
        let dir = TraceTests.corpus + "/" + name
        guard FileManager.default.fileExists(atPath: dir + "/" + trace) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let logs = try TraceTests().run(dir + "/" + trace) { $0.ignoreChecksums = true }
        let ours = try #require(logs["dns"]).map { Array($0.dropFirst(2)) }
        let zeek = try baseline(dir + "/dns.log")
        // Same multiset of rows (Zeek writes unmatched entries at connection removal, so order
        // within a run depends on table iteration).
        #expect(ours.map { $0.joined(separator: "\t") }.sorted() == zeek.map { $0.joined(separator: "\t") }.sorted())
    }

    @Test func teredoDNSConnectionIsSplitByTheDNSTimer() throws {
        let trace = TraceTests.corpus + "/teredo/Teredo.pcap"
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let conn = try #require(try TraceTests().run(trace)["conn"])
        let dns = conn.filter { $0[5] == "53" }
        #expect(dns.count == 2)
        #expect(dns.allSatisfy { $0[7] == "dns" && $0[11] == "SF" })
        #expect(Set(dns.map { $0[16] }) == ["2", "3"])
    }
}

@Suite struct NTPTraceTests {
    /// Zeek's misordered-ntp case: the server's reply comes first, so NTP swaps the roles once;
    /// ntp.log and the conn.log line (`D^`, both datagrams counted for the new originator) match.
    @Test func misorderedReplySwapsRolesAsZeekDoes() throws {
        let dir = TraceTests.corpus + "/ntp-misordered"
        guard FileManager.default.fileExists(atPath: dir + "/misordered-ntp.pcap") else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let logs = try TraceTests().run(dir + "/misordered-ntp.pcap") { $0.ignoreChecksums = true }
        let ntp = try #require(logs["ntp"]).map { Array($0.dropFirst(2)) }
        #expect(ntp == (try DNSTraceTests().baseline(dir + "/ntp.log")))
        let conn = try #require(logs["conn"]).map { Array($0.dropFirst(2)) }
        #expect(conn == (try DNSTraceTests().baseline(dir + "/conn.log")))
    }
}
