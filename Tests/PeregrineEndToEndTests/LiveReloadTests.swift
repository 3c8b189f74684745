// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import PeregrineTestSupport
import Testing

/// SIGHUP (`systemctl reload`) with `--config`: the binary reads the file again; an invalid file is
/// refused with its problems and the running configuration stays; a valid one changes the local
/// networks and the disabled logs of the running sensor and names what waits for a restart.
@Suite struct LiveReloadTests {
    @Test func aReloadAppliesLocalNetworksAndDisabledLogsAndRefusesAnInvalidFile() throws {
        let helper = LiveRunTests()
        guard let trace = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap"), let binary = PeregrineBinary.path
        else { return }
        let live = try helper.temporaryDirectory(), folder = try helper.temporaryDirectory()
        defer { for d in [live, folder] { try? FileManager.default.removeItem(atPath: d) } }
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let file = folder + "/peregrine.yaml"
        func configure(_ network: String, _ extra: String = "") throws {
            try """
                capture:
                  interfaces: [\(veth.captureInterface)]
                  workers: 1
                  checksums: ignore
                network:
                \(network)
                logs:
                  directory: \(live)
                \(extra)
                """.write(toFile: file, atomically: true, encoding: .utf8)
        }
        // The trace's hosts (141.142.0.0/16) are public: not local at the start.
        try configure("  private_address_space_is_local: false")
        let run = try PeregrineBinary.start(["ip", "netns", "exec", veth.captureNamespace, binary, "--config", file])
        Thread.sleep(forTimeInterval: 1.5)

        // A typo on line 10: refused as a whole, the valid local_nets of line 7 included.
        try configure("  local_nets: [141.142.0.0/16]\n  private_address_space_is_local: false", "  formatt: json")
        run.signal(SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        // Valid: local networks and disabled logs apply now, the worker count at the next start.
        try configure(
            "  local_nets: [141.142.0.0/16]\n  private_address_space_is_local: false",
            "  disabled: [dns]")
        try """
            \(String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "workers: 1", with: "workers: 2"))
            """.write(toFile: file, atomically: true, encoding: .utf8)
        run.signal(SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)
        let result = run.stop(SIGTERM)
        #expect(result.status == 0, "\(result.output)")

        let said = result.output.split(separator: "\n").map(String.init)
        let refusal = try #require(said.firstIndex { $0.contains("reload refused, the running configuration stays") })
        #expect(said[refusal...].joined(separator: "\n").contains("\(file):10: logs.formatt: unknown key"), "\(said)")
        let applied = try #require(said.firstIndex { $0.hasPrefix("peregrine: reload: applied") }, "\(said)")
        #expect(applied > refusal)
        #expect(
            said[applied]
                == "peregrine: reload: applied localNetworks, disabledLogs; changed but applied only at the next start: workers")
        #expect(said.filter { $0.contains("reload: applied") }.count == 1, "the refused file applied nothing")

        // Every connection of the replay, logged after the reload, has its originator local.
        let conn = try String(contentsOfFile: live + "/conn.log", encoding: .utf8).split(separator: "\n")
        let fields = try #require(conn.first { $0.hasPrefix("#fields") }).split(separator: "\t").dropFirst().map(String.init)
        let origin = try #require(fields.firstIndex(of: "id.orig_h")), local = try #require(fields.firstIndex(of: "local_orig"))
        let rows = conn.filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        let inside = rows.filter { $0[origin].hasPrefix("141.142.") }
        #expect(!inside.isEmpty)
        #expect(inside.allSatisfy { $0[local] == "T" })
        #expect(rows.filter { !$0[origin].hasPrefix("141.142.") }.allSatisfy { $0[local] == "F" })
        // The trace's DNS went unlogged once dns.log was disabled.
        #expect(!FileManager.default.fileExists(atPath: live + "/dns.log"))
    }
}
