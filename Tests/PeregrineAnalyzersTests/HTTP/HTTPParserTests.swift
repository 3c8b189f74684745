// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineTestSupport
import Testing

@testable import PeregrineAnalyzers

/// Records events as text lines, so a test can compare whole event sequences.
struct EventRecorder: HTTPEventSink {
    var lines: [String] = []
    var body: [UInt8] = []
    var weirds: [String] = []

    mutating func http(_ event: HTTPEvent, isOriginator: Bool) {
        let side = isOriginator ? "orig" : "resp"
        func s(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }
        switch event {
        case .request(let m, let u, let v): lines.append("\(side) request \(s(m)) \(s(u)) \(s(v))")
        case .reply(let v, let c, let r): lines.append("\(side) reply \(s(v)) \(c) \(s(r))")
        case .header(let n, let v, let d): lines.append("\(side) header[\(d)] \(s(n))=\(s(v))")
        case .beginEntity(let d): lines.append("\(side) begin \(d)")
        case .entityData(let data, _):
            body.append(contentsOf: data)
            // Data may come in any number of pieces; record it once per run of pieces.
            if lines.last != "\(side) data" { lines.append("\(side) data") }
        case .entitySize(let n): lines.append("\(side) size \(n)")
        case .entityGap(let n, let o): lines.append("\(side) gap \(n)@\(o)")
        case .endEntity: lines.append("\(side) end")
        case .messageDone(let n): lines.append("\(side) done \(n)")
        case .upgrade: lines.append("\(side) upgrade")
        }
    }

    mutating func httpWeird(_ weird: Weird) { weirds.append(weird.nameString) }
}

/// Feeds `text` to a fresh parser in the given chunks and ends the stream.
func parse(_ bytes: [UInt8], isOriginator: Bool, chunks: [ArraySlice<UInt8>]? = nil, finish: Bool = true,
           expecting requests: [HTTPParser.RequestFlags] = []) -> EventRecorder {
    var p = HTTPParser(isOriginator: isOriginator)
    p.expect(requests)
    var r = EventRecorder()
    for chunk in chunks ?? [bytes[...]] {
        Array(chunk).withUnsafeBytes { p.feed($0, sink: &r) }
    }
    if finish { p.finish(sink: &r) }
    return r
}

@Suite struct HTTPParserTests {
    static let pipelined = Array(
        ("GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /c\r\n").utf8)

    @Test func pipelinedRequestsGiveTheSameEventsAtEverySplit() {
        let whole = parse(Self.pipelined, isOriginator: true)
        #expect(whole.lines == [
            "orig request GET /a 1.1", "orig begin 0", "orig header[0] HOST=example.com",
            "orig header[0] USER-AGENT=t", "orig end", "orig done 0",
            "orig request POST /b 1.1", "orig begin 0", "orig header[0] HOST=example.com",
            "orig header[0] CONTENT-LENGTH=5", "orig data", "orig end", "orig done 5",
            "orig request GET /c 0.9", "orig begin 0", "orig end", "orig done 0",
        ])
        #expect(whole.body == Array("hello".utf8))
        for chunks in SplitFeeder.chunks(of: Self.pipelined) {
            let r = parse(Self.pipelined, isOriginator: true, chunks: chunks)
            #expect(r.lines == whole.lines)
            #expect(r.body == whole.body)
        }
    }

    static let chunkedReply = Array(
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Long: a\r\n b\r\n\r\n"
            + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
            + "HTTP/1.1 204\r\n\r\n").utf8)

    @Test func chunkedBodiesAreDecodedAndFoldedHeadersJoined() {
        let whole = parse(Self.chunkedReply, isOriginator: false, expecting: [[], []])
        #expect(whole.lines == [
            "resp reply 1.1 200 OK", "resp begin 0", "resp header[0] TRANSFER-ENCODING=chunked",
            "resp header[0] X-LONG=a b", "resp data", "resp end", "resp done 11",
            "resp reply 1.1 204 <empty>", "resp begin 0", "resp end", "resp done 0",
        ])
        #expect(whole.body == Array("hello world".utf8))
        for chunks in SplitFeeder.chunks(of: Self.chunkedReply) {
            let r = parse(Self.chunkedReply, isOriginator: false, chunks: chunks, expecting: [[], []])
            #expect(r.lines == whole.lines)
            #expect(r.body == whole.body)
        }
    }

    @Test func repliesToHeadAndNotModifiedHaveNoBodyAndOthersReadToTheEnd() {
        let text = Array(
            ("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + "HTTP/1.1 304 Not Modified\r\n\r\n"
                + "HTTP/1.0 200 OK\r\n\r\nuntil the end").utf8)
        let r = parse(text, isOriginator: false, expecting: [.head, [], []])
        #expect(r.lines.filter { $0.contains("done") } == ["resp done 0", "resp done 0", "resp done 13"])
    }

    @Test func continueThenFinalReplyAndUpgradeStopsParsing() {
        let text = Array(
            ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u{1}\u{2}binary").utf8)
        let r = parse(text, isOriginator: false, expecting: [[], []])
        #expect(r.lines.filter { $0.contains("reply") || $0.contains("upgrade") } == [
            "resp reply 1.1 100 Continue", "resp reply 1.1 200 OK", "resp reply 1.1 101 Switching Protocols",
            "resp upgrade",
        ])
        #expect(r.body.isEmpty)
    }

    @Test func connectSuccessEndsHTTP() {
        let text = Array("HTTP/1.1 200 Connection established\r\n\r\n\u{16}\u{3}\u{1}".utf8)
        let r = parse(text, isOriginator: false, expecting: [.connect])
        #expect(r.lines.last == "resp upgrade")
        #expect(r.body.isEmpty)
    }

    static let multipartBody =
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
        + "Content-Type: text/plain\r\n\r\nline1\r\nline2\r\n--XyZ\r\n\r\nv\r\n--XyZ--\r\n"
    static let multipart = Array(
        ("POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
            + "Content-Length: \(multipartBody.utf8.count)\r\n\r\n" + multipartBody).utf8)

    @Test func multipartPartsAreEntitiesAndTheBodyCountsOnce() {
        let whole = parse(Self.multipart, isOriginator: true)
        #expect(whole.lines == [
            "orig request POST /up 1.1", "orig begin 0",
            "orig header[0] CONTENT-TYPE=multipart/form-data; boundary=XyZ",
            "orig header[0] CONTENT-LENGTH=\(Self.multipartBody.utf8.count)",
            "orig begin 1", "orig header[1] CONTENT-DISPOSITION=form-data; name=\"f\"; filename=\"a.txt\"",
            "orig header[1] CONTENT-TYPE=text/plain", "orig data", "orig end", "orig begin 2", "orig data",
            "orig end", "orig end", "orig done \(Self.multipartBody.utf8.count)",
        ])
        #expect(whole.body == Array("line1\r\nline2v".utf8))
        for chunks in SplitFeeder.chunks(of: Self.multipart) {
            let r = parse(Self.multipart, isOriginator: true, chunks: chunks)
            #expect(r.lines == whole.lines)
            #expect(r.body == whole.body)
        }
    }

    @Test func gzipBodiesAreDecompressedBeforeCounting() {
        // "hello hello hello\n" gzip-compressed (gzip -9 -n).
        let gz: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57,
            0xc8, 0x40, 0x90, 0x5c, 0x00, 0x3b, 0x7c, 0x8a, 0xdf, 0x12, 0x00, 0x00, 0x00,
        ]
        var text = Array("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: \(gz.count)\r\n\r\n".utf8)
        text += gz
        let whole = parse(text, isOriginator: false, expecting: [[]])
        #expect(whole.body == Array("hello hello hello\n".utf8))
        #expect(whole.lines.last == "resp done 18")
        #expect(whole.weirds.isEmpty)
        for chunks in SplitFeeder.chunks(of: text) {
            #expect(parse(text, isOriginator: false, chunks: chunks, expecting: [[]]).body == whole.body)
        }
    }

    @Test func hostileInputGivesWeirdsNotCrashes() {
        let notHTTP = parse(Array("\u{16}\u{3}\u{1}\u{0}binary\r\n".utf8), isOriginator: true)
        #expect(notHTTP.weirds == ["bad_HTTP_request"])
        #expect(notHTTP.lines.isEmpty)
        let badChunk = parse(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n".utf8),
                             isOriginator: false, expecting: [[]])
        #expect(badChunk.weirds == ["HTTP_bad_chunk_size"])
        #expect(badChunk.lines.last == "resp done 0")
        var long = Array("GET /".utf8) + Array(repeating: UInt8(ascii: "a"), count: 40_000)
        long += Array(" HTTP/1.1\r\n\r\n".utf8)
        let r = parse(long, isOriginator: true)
        #expect(r.weirds.contains("contentline_size_exceeded"))
    }

    @Test func gapInsideAKnownLengthBodyIsReportedAndTheMessageEnds() {
        var p = HTTPParser(isOriginator: false)
        p.expect([[]])
        var r = EventRecorder()
        Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8).withUnsafeBytes { p.feed($0, sink: &r) }
        p.gap(length: 4, sink: &r)
        Array("xyz".utf8).withUnsafeBytes { p.feed($0, sink: &r) }
        #expect(r.lines.suffix(4) == ["resp gap 4@3", "resp data", "resp end", "resp done 10"])
        #expect(!p.isIgnoring)
    }
}
