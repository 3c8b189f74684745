// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineTestSupport
import Testing

@testable import PeregrineAnalyzers

/// Records SMTP events as text lines.
struct SMTPRecorder: SMTPEventSink {
    var lines: [String] = []
    func s(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }

    mutating func smtpRequest(command: UnsafeRawBufferPointer, arg: UnsafeRawBufferPointer) {
        lines.append("request \(s(command)) [\(s(arg))]")
    }

    mutating func smtpReply(code: UInt16, command: StaticString, message: UnsafeRawBufferPointer, continued: Bool) {
        lines.append("reply \(code)\(continued ? "-" : " ")\(command) [\(s(message))]")
    }

    mutating func smtpBeginEntity() { lines.append("begin") }

    mutating func smtpHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        lines.append("header \(s(name))=\(s(value))")
    }

    mutating func smtpStartTLS() { lines.append("starttls") }

    mutating func smtpWeird(_ weird: Weird) { lines.append("weird \(weird.nameString)") }
}

@Suite struct SMTPParserTests {
    /// Alternates client and server bytes, each cut into the given chunking.
    func run(_ exchange: [(orig: Bool, text: String)], split: (([UInt8]) -> [ArraySlice<UInt8>])? = nil)
        -> (lines: [String], parser: SMTPParser)
    {
        var p = SMTPParser()
        var sink = SMTPRecorder()
        for (orig, text) in exchange {
            let bytes = Array(text.utf8)
            for chunk in split?(bytes) ?? [bytes[...]] {
                _ = Array(chunk).withUnsafeBytes { p.feed($0, isOriginator: orig, sink: &sink) }
            }
        }
        return (sink.lines, p)
    }

    static let session: [(orig: Bool, text: String)] = [
        (false, "220 mx ESMTP\r\n"),
        (true, "ehlo client\r\n"),
        (false, "250-mx\r\n250 PIPELINING\r\n"),
        // Pipelined envelope, then the message: folded Subject, dot-stuffed body line.
        (true, "MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n"),
        (false, "250 OK\r\n250 Accepted\r\n354 Go\r\n"),
        (true, "From: A <a@x.org>\r\nSubject: hello\r\n  world\r\n\r\n..body\r\n.\r\n"),
        (false, "250 queued\r\n"),
        (true, "STARTTLS\r\n"),
        (false, "220 Ready to start TLS\r\n"),
        (true, "\u{16}\u{03}\u{01}binary\r\n"),
    ]

    static let expected = [
        "reply 220 > [mx ESMTP]", "request EHLO [client]", "reply 250-EHLO [mx]", "reply 250 EHLO [PIPELINING]",
        "request MAIL [FROM:<a@x.org>]", "request RCPT [TO:<b@y.org>]", "request DATA []", "begin",
        "reply 250 MAIL [OK]", "reply 250 RCPT [Accepted]", "reply 354 DATA [Go]", "header FROM=A <a@x.org>",
        "header SUBJECT=hello  world", "request . []", "reply 250 . [queued]", "request STARTTLS []",
        "reply 220 STARTTLS [Ready to start TLS]", "starttls",
    ]

    @Test func sessionWithPipeliningMessageAndStartTLS() {
        let (lines, p) = run(Self.session)
        #expect(lines == Self.expected)
        #expect(p.tlsStarted)
        #expect(p.confirmed)
    }

    @Test func sessionDoesNotDependOnSegmentBoundaries() {
        for k in [1, 2, 3, 7] {
            let cut: ([UInt8]) -> [ArraySlice<UInt8>] = { b in
                stride(from: 0, to: b.count, by: k).map { b[$0..<min($0 + k, b.count)] }
            }
            #expect(run(Self.session, split: cut).lines == Self.expected)
        }
    }

    @Test func rejectedDataLeavesTheMessageAndUnknownCommandsRaiseNoRequest() {
        let (lines, _) = run([
            (false, "220 mx\r\n"), (true, "DATA\r\n"),
            (false, "503-All RCPT commands were rejected\r\n503 valid RCPT command must precede DATA\r\n"),
            (true, "Hello, Alice\r\n.\r\n"), (false, "500 unrecognized command\r\n500 unrecognized command\r\n"),
        ])
        #expect(
            lines == [
                "reply 220 > [mx]", "request DATA []", "begin", "reply 503-DATA [All RCPT commands were rejected]",
                "reply 503 DATA [valid RCPT command must precede DATA]", "reply 500 (UNKNOWN) [unrecognized command]",
                "reply 500 (UNKNOWN) [unrecognized command]",
            ])
    }

    @Test func outOfRangeReplyBeforeConfirmationStopsTheAnalyzer() {
        let (lines, p) = run([(false, "HTTP/1.0 200 OK\r\n"), (true, "HELO x\r\n")])
        #expect(lines.isEmpty)
        #expect(p.stopped)
    }
}
