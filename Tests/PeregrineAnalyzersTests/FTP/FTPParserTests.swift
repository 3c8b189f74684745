// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineTestSupport
import Testing

@testable import PeregrineAnalyzers

/// Records FTP events as text lines.
struct FTPRecorder: FTPEventSink {
    var lines: [String] = []

    mutating func ftpRequest(command: UnsafeRawBufferPointer, arg: UnsafeRawBufferPointer) {
        lines.append("request \(String(decoding: command, as: UTF8.self)) [\(String(decoding: arg, as: UTF8.self))]")
    }

    mutating func ftpReply(code: UInt16, message: UnsafeRawBufferPointer, continued: Bool) {
        lines.append("reply \(code)\(continued ? "-" : " ")[\(String(decoding: message, as: UTF8.self))]")
    }

    mutating func ftpWeird(_ weird: Weird, addl: [UInt8]) {
        lines.append("weird \(weird.nameString) [\(String(decoding: addl, as: UTF8.self))]")
    }
}

@Suite struct FTPParserTests {
    /// Feeds one direction in the given chunks.
    func run(_ chunks: [ArraySlice<UInt8>], isOriginator: Bool, parser: inout FTPParser) -> [String] {
        var sink = FTPRecorder()
        for chunk in chunks {
            _ = Array(chunk).withUnsafeBytes { parser.feed($0, isOriginator: isOriginator, sink: &sink) }
        }
        return sink.lines
    }

    @Test func commandsAreUpperCasedAndSplitFromTheirArgument() {
        // "user  anonymous\r\n" (two blanks), "pasv\n" (bare LF), "RETR robots.txt\r\n"
        let bytes = Array("user  anonymous\r\npasv\nRETR robots.txt\r\n".utf8)
        for chunks in SplitFeeder.chunks(of: bytes) {
            var p = FTPParser()
            #expect(
                run(chunks, isOriginator: true, parser: &p) == [
                    "request USER [anonymous]", "request PASV []", "request RETR [robots.txt]",
                ])
            #expect(p.confirmed)
        }
    }

    @Test func multiLineReplyMarksIntermediateLinesWithCodeZero() {
        // 230- opens a multi-line reply; the text lines and a "230-" line continue it; "230 "
        // ends it.
        let bytes = Array("230-\r\n    Welcome\r\n230-\r\n230 Guest login ok.\r\n215 UNIX\r\n".utf8)
        for chunks in SplitFeeder.chunks(of: bytes) {
            var p = FTPParser()
            #expect(
                run(chunks, isOriginator: false, parser: &p) == [
                    "reply 230-[]", "reply 0-[    Welcome]", "reply 0-[230-]", "reply 230 [Guest login ok.]",
                    "reply 215 [UNIX]",
                ])
        }
    }

    @Test func nonNumericFirstReplyStopsTheAnalyzer() {
        var p = FTPParser()
        let lines = run([Array("HTTP/1.1 200 OK\r\n220 late\r\n".utf8)[...]], isOriginator: false, parser: &p)
        #expect(lines.isEmpty)
        #expect(p.violated)
    }

    @Test func invalidCommandIsAWeirdOnlyAfterConfirmation() {
        var p = FTPParser()
        // "ab" is too short for a command; before any valid command it is ignored silently.
        #expect(run([Array("ab\r\nNOOP\r\nab\r\n".utf8)[...]], isOriginator: true, parser: &p) == [
            "request NOOP []", "weird FTP_invalid_command []",
        ])
    }

    @Test func partialRequestAtCloseIsAWeird() {
        var p = FTPParser()
        _ = run([Array("QUI".utf8)[...]], isOriginator: true, parser: &p)
        var sink = FTPRecorder()
        p.finish(originatorClosed: true, sink: &sink)
        #expect(sink.lines == ["weird partial_ftp_request []"])
    }

    @Test func endpointsOfPortPasvEprtAndEpsv() {
        func parse(_ s: String, _ f: (UnsafeRawBufferPointer) -> FTPEndpoint?) -> FTPEndpoint? {
            Array(s.utf8).withUnsafeBytes { f($0) }
        }
        #expect(
            parse("141,142,220,235,131,46", FTPEndpoint.parsePort)
                == FTPEndpoint(address: IPAddress("141.142.220.235"), port: 131 * 256 + 46))
        #expect(
            parse("Entering Passive Mode (199,233,217,249,221,90)", FTPEndpoint.parsePassive)
                == FTPEndpoint(address: IPAddress("199.233.217.249"), port: 56666))
        #expect(
            parse("|2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49189|", FTPEndpoint.parseExtended)
                == FTPEndpoint(address: IPAddress("2001:470:1f11:81f:c999:d94:aa7c:2e3e"), port: 49189))
        #expect(
            parse("Entering Extended Passive Mode (|||57086|)", FTPEndpoint.parseExtendedPassive)
                == FTPEndpoint(address: nil, port: 57086))
        #expect(parse("1,2,3,256,0,21", FTPEndpoint.parsePort) == nil)
        #expect(parse("(|||70000|)", FTPEndpoint.parseExtendedPassive) == nil)
    }
}
