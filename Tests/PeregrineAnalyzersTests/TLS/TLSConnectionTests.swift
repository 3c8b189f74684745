// SPDX-License-Identifier: Apache-2.0
import PeregrineTestSupport
import Testing

@testable import PeregrineAnalyzers

/// Records the events as text, so a test compares what the parser raised in order.
struct EventLog: TLSEventSink {
    var lines: [String] = []

    mutating func tls(_ event: TLSEvent) {
        switch event {
        case .clientHello(let v, let sid): lines.append("client_hello \(v) sid=\(sid.count)")
        case .serverHello(let v, let c, _, let retry): lines.append("server_hello \(v) \(c) hrr=\(retry)")
        case .helloExtension(let isClient, let type, _): lines.append("ext \(isClient) \(type)")
        case .serverName(_, let name, let n): lines.append("sni \(String(decoding: name, as: UTF8.self)) \(n)")
        case .alpn(let isClient, let p): lines.append("alpn \(isClient) \(String(decoding: p, as: UTF8.self))")
        case .serverSupportedVersion(let v): lines.append("supported_version \(v)")
        case .serverKeyShare(let g): lines.append("key_share \(g)")
        case .handshakeMessage(let isClient, let type, let length): lines.append("msg \(isClient) \(type) \(length)")
        case .certificate(let isClient, let i, let der): lines.append("cert \(isClient) \(i) \(Array(der))")
        case .ecdhServerCurve(let c): lines.append("curve \(c)")
        case .changeCipherSpec(let isClient): lines.append("ccs \(isClient)")
        case .alert(let isClient, let l, let d): lines.append("alert \(isClient) \(l) \(d)")
        case .heartbeat(let isClient): lines.append("heartbeat \(isClient)")
        case .plaintextData: break
        case .established: lines.append("established")
        }
    }
}

/// Wraps handshake messages in one record of content type 22, version 3.3.
func record(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
    [type, 0x03, 0x03, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
}

func handshake(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
    [type, UInt8(body.count >> 16), UInt8((body.count >> 8) & 0xFF), UInt8(body.count & 0xFF)] + body
}

let clientHello: [UInt8] = handshake(1, [
    0x03, 0x03,                                   // client_version TLS 1.2
] + [UInt8](repeating: 0xAA, count: 32) + [       // random
    0x00,                                         // session id: empty
    0x00, 0x04, 0xC0, 0x2F, 0x00, 0x9C,           // two cipher suites
    0x01, 0x00,                                   // compression: null
    0x00, 0x1E,                                   // extensions: 30 bytes
    0x00, 0x00, 0x00, 0x0E,                       // server_name, 14 bytes
    0x00, 0x0C, 0x00, 0x00, 0x09,                 //   list 12, host_name, 9 bytes
] + Array("zeek.test".utf8) + [
    0x00, 0x10, 0x00, 0x08,                       // ALPN, 8 bytes
    0x00, 0x06, 0x02, 0x68, 0x32, 0x02, 0x68, 0x31, //   "h2", "h1"
])

let serverFlight: [UInt8] = handshake(2, [
    0x03, 0x03,                                   // server_version TLS 1.2
] + [UInt8](repeating: 0xBB, count: 32) + [
    0x00,                                         // session id: empty
    0xC0, 0x2F,                                   // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    0x00,                                         // compression
    0x00, 0x09,                                   // extensions: 9 bytes
    0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 0x68, 0x32, // ALPN: "h2"
]) + handshake(11, [
    0x00, 0x00, 0x0A,                             // certificate list: 10 bytes
    0x00, 0x00, 0x03, 0x30, 0x01, 0x00,           //   cert 0: 3 bytes
    0x00, 0x00, 0x01, 0x05,                       //   cert 1: 1 byte
]) + handshake(12, [
    0x03, 0x00, 0x17,                             // named_curve secp256r1
    0x01, 0x04,                                   // point (truncated; not parsed)
]) + handshake(14, [])

/// A TLS 1.2 handshake: client hello, server flight, CCS both ways, then encrypted records.
let conversation: [(Bool, [UInt8])] = [
    (true, record(22, clientHello)),
    (false, record(22, serverFlight)),
    (true, record(22, handshake(16, [0x01, 0x02])) + record(20, [0x01]) + record(22, [0x99, 0x98])),
    (false, record(20, [0x01]) + record(22, [0x77, 0x76, 0x75])),
    (true, record(23, [0x55])),
]

@Suite struct TLSConnectionTests {
    static let expected = [
        "ext true 0", "sni zeek.test 1", "ext true 16", "alpn true h2", "client_hello 771 sid=0",
        "msg true 1 \(clientHello.count - 4)",
        "ext false 16", "alpn false h2", "server_hello 771 49199 hrr=false", "msg false 2 49",
        "cert false 0 [48, 1, 0]", "cert false 1 [5]", "msg false 11 13", "curve 23", "msg false 12 5",
        "msg false 14 0",
        "msg true 16 2", "ccs true",
        "ccs false", "established",
    ]

    @Test func wholeRecords() {
        var tls = TLSConnection()
        var log = EventLog()
        for (isClient, bytes) in conversation {
            #expect(bytes.withUnsafeBytes { tls.deliver($0, isOriginator: isClient, sink: &log) } == nil)
        }
        #expect(log.lines == Self.expected)
        #expect(tls.established)
    }

    /// Every split of every delivery gives the same events (records and messages spanning calls).
    @Test func everySplitPoint() {
        for (n, (_, bytes)) in conversation.enumerated() {
            for chunks in SplitFeeder.chunks(of: bytes).prefix(200) {
                var tls = TLSConnection()
                var log = EventLog()
                for (m, (isClient, other)) in conversation.enumerated() {
                    if m == n {
                        for c in chunks {
                            _ = Array(c).withUnsafeBytes { tls.deliver($0, isOriginator: isClient, sink: &log) }
                        }
                    } else {
                        _ = other.withUnsafeBytes { tls.deliver($0, isOriginator: isClient, sink: &log) }
                    }
                }
                #expect(log.lines == Self.expected)
            }
        }
    }

    @Test func notTLSIsAViolation() {
        var tls = TLSConnection()
        var log = EventLog()
        let http = Array("GET / HTTP/1.1\r\n".utf8)
        #expect(http.withUnsafeBytes { tls.deliver($0, isOriginator: true, sink: &log) } == .notTLS)
        #expect(tls.stopped)
    }

    @Test func malformedClientHelloIsAViolation() {
        var tls = TLSConnection()
        var log = EventLog()
        // cipher_suites length 3 (odd): Zeek's &check fails.
        let bad = record(22, handshake(1, [0x03, 0x03] + [UInt8](repeating: 0, count: 32) + [0x00, 0x00, 0x03, 1, 2, 3]))
        #expect(bad.withUnsafeBytes { tls.deliver($0, isOriginator: true, sink: &log) } == .malformedHandshake)
    }

    @Test func oversizedHandshakeIsAViolation() {
        var tls = TLSConnection()
        var log = EventLog()
        let huge = record(22, [11, 0x10, 0x00, 0x00])  // claims 1 MiB
        #expect(huge.withUnsafeBytes { tls.deliver($0, isOriginator: false, sink: &log) } == .handshakeTooLong)
    }
}
