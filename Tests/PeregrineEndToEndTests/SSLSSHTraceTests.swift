// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import Testing

/// ssl.log, x509.log and ssh.log against Zeek's baselines (rows without `ts` and `uid`; x509.log
/// has no uid, so only its `ts` is dropped).
@Suite struct SSLSSHTraceTests {
    let http = HTTPTraceTests()

    func rows(_ rows: [[String]], dropping n: Int) -> [String] {
        rows.map { $0.dropFirst(n).joined(separator: "\t") }.sorted()
    }

    @Test(arguments: ["ssl-ecdhe", "ssl-tls12", "smtp-starttls"])
    func sslAndX509LogsMatchZeek(_ name: String) throws {
        guard let (logs, dir) = try http.runCase(name) else { return }
        let ssl = try #require(logs["ssl"])
        #expect(rows(ssl, dropping: 2) == rows(try http.baseline(dir + "/ssl.log"), dropping: 2))
        let x509 = try #require(logs["x509"])
        #expect(rows(x509, dropping: 1) == rows(try http.baseline(dir + "/x509.log"), dropping: 1))
    }

    @Test(arguments: ["ssh-curve25519", "gre-sample"])
    func sshLogMatchesZeek(_ name: String) throws {
        guard let (logs, dir) = try http.runCase(name) else { return }
        let ssh = try #require(logs["ssh"])
        #expect(rows(ssh, dropping: 2) == rows(try http.baseline(dir + "/ssh.log"), dropping: 2))
    }

    @Test func confirmedConnectionsGetTheirService() throws {
        guard let (tls, _) = try http.runCase("ssl-ecdhe") else { return }
        #expect(try #require(tls["conn"]).filter { $0[5] == "443" }.allSatisfy { $0[7] == "ssl" })
        guard let (ssh, _) = try http.runCase("ssh-curve25519") else { return }
        #expect(try #require(ssh["conn"]).filter { $0[5] == "22" }.allSatisfy { $0[7] == "ssh" })
    }

    /// SMTP's STARTTLS hands the connection to SSL: smtp.log says `tls` T and conn.log lists both
    /// services, in the order they confirmed.
    @Test func startTLSHandsOverToSSL() throws {
        guard let (logs, _) = try http.runCase("smtp-starttls") else { return }
        let smtp = try #require(logs["smtp"])
        #expect(!smtp.isEmpty && smtp.allSatisfy { $0[24] == "T" })  // `tls`
        #expect(try #require(logs["conn"]).contains { $0[7] == "smtp,ssl" })
    }

    /// TLS on a port no analyzer claims (openssl s_server on 4433 in the bench capture) is found
    /// by content (`dpd_ssl_client`/`dpd_ssl_server`) and analysed.
    @Test func tlsOnAnUnregisteredPortIsFoundByContent() throws {
        let trace = TraceTests.root.deletingLastPathComponent().appendingPathComponent("shared/bench/real-mix.pcap").path
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: bench trace not found at \(trace)")
            return
        }
        let logs = try TraceTests().run(trace)
        let tls4433 = try #require(logs["conn"]).filter { $0[5] == "4433" }
        #expect(!tls4433.isEmpty && tls4433.allSatisfy { $0[7] == "ssl" })
        #expect(try #require(logs["ssl"]).contains { $0[5] == "4433" })
    }
}
