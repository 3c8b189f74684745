// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import Testing

/// ftp.log, smtp.log, their weirds and the `ftp`/`ftp-data`/`smtp` services against Zeek's
/// baselines.
@Suite struct FTPSMTPTraceTests {
    let http = HTTPTraceTests()

    /// ftp.log without `ts` and `uid`, and without `mime_type` and `fuid`: transfers do not
    /// reach the files framework yet (see `FTPLog`).
    func ftpRow(_ row: [String]) -> String {
        row.enumerated().filter { ![0, 1, 10, 18].contains($0.offset) }.map(\.element).joined(separator: "\t")
    }

    @Test(arguments: ["ftp-ipv4", "ftp-ipv6"])
    func ftpLogMatchesZeek(_ name: String) throws {
        guard let (logs, dir) = try http.runCase(name) else { return }
        let ours = try #require(logs["ftp"]).map(ftpRow)
        let zeek = try http.baseline(dir + "/ftp.log").map(ftpRow)
        #expect(ours == zeek)
    }

    @Test(arguments: ["ftp-ipv4", "ftp-ipv6"])
    func dataConnectionsGetServiceFTPData(_ name: String) throws {
        guard let (logs, dir) = try http.runCase(name) else { return }
        // id.orig_h, id.orig_p, id.resp_h, id.resp_p → service.
        let key = { (row: [String]) in row[2..<6].joined(separator: " ") }
        let ours = Dictionary(try #require(logs["conn"]).map { (key($0), $0[7]) }, uniquingKeysWith: { a, _ in a })
        let zeek = try http.baseline(dir + "/conn.log")
        #expect(zeek.contains { $0[7] == "ftp-data" })
        for row in zeek { #expect(ours[key(row)] == row[7], "\(key(row))") }
    }

    @Test(arguments: ["smtp-mail-transactions-invalid", "smtp-starttls"])
    func smtpLogMatchesZeek(_ name: String) throws {
        guard let (logs, dir) = try http.runCase(name) else { return }
        let row = { (r: [String]) in r.dropFirst(2).joined(separator: "\t") }
        let ours = try #require(logs["smtp"]).map(row)
        let zeek = try http.baseline(dir + "/smtp.log").map(row)
        #expect(ours == zeek)
    }

    @Test func invalidMailTransactionIsAWeird() throws {
        guard let (logs, dir) = try http.runCase("smtp-mail-transactions-invalid") else { return }
        let row = { (r: [String]) in r.dropFirst(2).joined(separator: "\t") }
        let ours = try #require(logs["weird"]).map(row)
        let zeek = try http.baseline(dir + "/weird.log").map(row)
        #expect(ours == zeek)
    }
}
