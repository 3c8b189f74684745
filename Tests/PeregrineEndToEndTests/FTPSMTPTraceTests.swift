// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import Testing

/// ftp.log, smtp.log, their weirds and the `ftp`/`ftp-data`/`smtp` services against Zeek's
/// baselines.
@Suite struct FTPSMTPTraceTests {
    let http = HTTPTraceTests()

    /// ftp.log without `ts` and `uid`, and with `fuid` reduced to whether there is one (fuids are
    /// keyed hashes of the file handle and the run's seed, not Zeek's values).
    func ftpRow(_ row: [String]) -> String {
        row.enumerated().filter { ![0, 1].contains($0.offset) }
            .map { $0.offset == 18 && $0.element != "-" ? "FUID" : $0.element }.joined(separator: "\t")
    }

    @Test(arguments: ["ftp-ipv4", "ftp-ipv6"])
    func ftpLogMatchesZeek(_ name: String) throws {
        guard let (logs, dir) = try http.runCase(name) else { return }
        let ours = try #require(logs["ftp"]).map(ftpRow)
        let zeek = try http.baseline(dir + "/ftp.log").map(ftpRow)
        #expect(ours == zeek)
    }

    /// Each fuid in ftp.log is a file of files.log that came over an `ftp-data` connection.
    @Test(arguments: ["ftp-ipv4", "ftp-ipv6"])
    func transfersReachTheFilesFramework(_ name: String) throws {
        guard let (logs, _) = try http.runCase(name) else { return }
        let fuids = try #require(logs["ftp"]).map { $0[18] }.filter { $0 != "-" }
        #expect(!fuids.isEmpty)
        let files = Dictionary(try #require(logs["files"]).map { ($0[1], $0) }, uniquingKeysWith: { a, _ in a })
        let services = Dictionary(try #require(logs["conn"]).map { ($0[1], $0[7]) }, uniquingKeysWith: { a, _ in a })
        for fuid in fuids {
            let file = try #require(files[fuid], "\(fuid) not in files.log")
            #expect(file[7] == "FTP_DATA")
            #expect(services[file[2]] == "ftp-data")
        }
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
