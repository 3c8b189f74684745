// SPDX-License-Identifier: Apache-2.0
import PeregrineTestSupport
import Testing

@testable import PeregrineAnalyzers

/// Records SSH events as text, so a test compares what the parser raised in order.
struct SSHEventLog: SSHEventSink {
    var lines: [String] = []

    mutating func ssh(_ event: SSHEvent) {
        func text(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }
        switch event {
        case .clientVersion(let v): lines.append("client \(text(v))")
        case .serverVersion(let v): lines.append("server \(text(v))")
        case .capabilities(let k):
            lines.append(
                "kexinit server=\(k.isServer) kex=\(text(k.kexAlgorithms)) hostkey=\(text(k.serverHostKeyAlgorithms)) "
                    + "enc=\(text(k.encryptionClientToServer)) comp=\(text(k.compressionServerToClient))")
        case .serverHostKey(let key): lines.append("host_key \(Array(key))")
        case .authAttempted(let ok): lines.append("auth \(ok)")
        case .unknownKexAlgorithm(let name): lines.append("unknown_kex \(text(name))")
        }
    }
}

/// An SSH-2 binary packet (RFC 4253 §6): length, padding length, type, payload, 4 padding bytes.
func sshPacket(_ type: UInt8, _ payload: [UInt8]) -> [UInt8] {
    let length = 1 + 1 + payload.count + 4
    return [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF),
            4, type] + payload + [0, 0, 0, 0]
}

/// An SSH `string` (uint32 length, bytes).
func sshString(_ s: [UInt8]) -> [UInt8] {
    [UInt8(s.count >> 24), UInt8((s.count >> 16) & 0xFF), UInt8((s.count >> 8) & 0xFF), UInt8(s.count & 0xFF)] + s
}

func kexInit(kex: String, hostKey: String, cipher: String, compression: String = "none") -> [UInt8] {
    var p = [UInt8](repeating: 0x11, count: 16)                 // cookie
    p += sshString(Array(kex.utf8))                             // kex_algorithms
    p += sshString(Array(hostKey.utf8))                         // server_host_key_algorithms
    p += sshString(Array(cipher.utf8)) + sshString(Array(cipher.utf8))   // encryption c→s, s→c
    p += sshString(Array("hmac-sha2-256".utf8)) + sshString(Array("hmac-sha2-256".utf8))  // mac
    p += sshString(Array(compression.utf8)) + sshString(Array(compression.utf8))          // compression
    p += sshString([]) + sshString([])                          // languages
    p += [0x00, 0, 0, 0, 0]                                     // first_kex_packet_follows, reserved
    return sshPacket(20, p)
}

/// The client's stream: banner, KEXINIT, ECDH_INIT (30), NEWKEYS (21).
let sshClientStream: [UInt8] =
    Array("SSH-2.0-OpenSSH_7.4\r\n".utf8)
    + kexInit(kex: "curve25519-sha256,ecdh-sha2-nistp256", hostKey: "ssh-ed25519", cipher: "aes128-ctr")
    + sshPacket(30, sshString([UInt8](repeating: 0xC1, count: 32)))      // Q_C
    + sshPacket(21, [])

let sshHostKeyBlob: [UInt8] = sshString(Array("ssh-ed25519".utf8)) + sshString([UInt8](repeating: 0x7E, count: 32))

/// The server's stream: a pre-banner line, banner, KEXINIT, ECDH_REPLY (31: K_S, Q_S, signature),
/// NEWKEYS.
let sshServerStream: [UInt8] =
    Array("Welcome\r\nSSH-2.0-OpenSSH_7.5\r\n".utf8)
    + kexInit(kex: "ecdh-sha2-nistp256,curve25519-sha256", hostKey: "ssh-rsa,ssh-ed25519", cipher: "aes128-ctr")
    + sshPacket(31, sshString(sshHostKeyBlob) + sshString([UInt8](repeating: 0x5E, count: 32)) + sshString([1, 2]))
    + sshPacket(21, [])

@Suite struct SSHConnectionTests {
    func run(_ chunks: [(bytes: ArraySlice<UInt8>, orig: Bool)]) -> (SSHConnection, SSHEventLog, [SSHConnection.Violation]) {
        var c = SSHConnection()
        var log = SSHEventLog()
        var violations: [SSHConnection.Violation] = []
        for chunk in chunks {
            let v = Array(chunk.bytes).withUnsafeBytes { c.deliver($0, isOriginator: chunk.orig, sink: &log) }
            if let v { violations.append(v) }
        }
        return (c, log, violations)
    }

    let expectedKex = [
        "client SSH-2.0-OpenSSH_7.4",
        "kexinit server=false kex=curve25519-sha256,ecdh-sha2-nistp256 hostkey=ssh-ed25519 enc=aes128-ctr comp=none",
        "server SSH-2.0-OpenSSH_7.5",
        "kexinit server=true kex=ecdh-sha2-nistp256,curve25519-sha256 hostkey=ssh-rsa,ssh-ed25519 enc=aes128-ctr comp=none",
    ]

    @Test func keyExchangeRaisesVersionsCapabilitiesAndHostKeyAtEverySplit() {
        // The client's stream is cut every way; the server's arrives whole after it.
        for cut in SplitFeeder.chunks(of: sshClientStream) {
            let (c, log, violations) = run(cut.map { ($0, true) } + [(sshServerStream[...], false)])
            #expect(violations.isEmpty)
            #expect(log.lines == expectedKex + ["host_key \(sshHostKeyBlob)"])
            #expect(c.confirmed)
            #expect(c.kex == .ecc)
            #expect(c.client.state == .encrypted && c.server.state == .encrypted)
        }
        // And the server's, with the client's first.
        for cut in SplitFeeder.chunks(of: sshServerStream) {
            let (_, log, violations) = run([(sshClientStream[...], true)] + cut.map { ($0, false) })
            #expect(violations.isEmpty)
            #expect(log.lines == expectedKex + ["host_key \(sshHostKeyBlob)"])
        }
    }

    @Test func negotiationIsTheClientsFirstCommonAlgorithm() {
        let pick = { (c: String, s: String) -> String? in
            Array(c.utf8).withUnsafeBytes { cb in
                Array(s.utf8).withUnsafeBytes { sb in
                    SSHNames.negotiate(client: cb, server: sb).map { String(decoding: $0, as: UTF8.self) }
                }
            }
        }
        #expect(pick("a,b,c", "c,b") == "b")
        #expect(pick(",,a,,b", "b,a") == "a")  // empty names are dropped, as Zeek's name_list_to_vector
        #expect(pick("a", "b") == nil)
        #expect(pick("", "") == nil)
    }

    @Test func groupExchangeTakesTheHostKeyFromMessage33() {
        let client = Array("SSH-2.0-x\n".utf8)
            + kexInit(kex: "diffie-hellman-group-exchange-sha256", hostKey: "ssh-rsa", cipher: "aes128-cbc")
            + sshPacket(34, [0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 16, 0])   // GEX_REQUEST min/n/max
        let server = Array("SSH-2.0-y\n".utf8)
            + kexInit(kex: "diffie-hellman-group-exchange-sha256", hostKey: "ssh-rsa", cipher: "aes128-cbc")
            + sshPacket(31, sshString([0x17]) + sshString([0x02]))    // GEX_GROUP p, g: no host key
            + sshPacket(33, sshString([9, 9, 9]) + sshString([1]) + sshString([2]))  // GEX_REPLY K_S, f, sig
        let (c, log, violations) = run([(client[...], true), (server[...], false)])
        #expect(violations.isEmpty)
        #expect(c.kex == .dhGex)
        #expect(log.lines.filter { $0.hasPrefix("host_key") } == ["host_key [9, 9, 9]"])
    }

    @Test func unknownKeyExchangeIsReportedAndSkipped() {
        let client = Array("SSH-2.0-x\n".utf8) + kexInit(kex: "made-up-kex", hostKey: "ssh-rsa", cipher: "c")
        let server = Array("SSH-2.0-y\n".utf8) + kexInit(kex: "made-up-kex", hostKey: "ssh-rsa", cipher: "c")
            + sshPacket(31, sshString([1]))
        let (c, log, violations) = run([(client[...], true), (server[...], false)])
        #expect(violations.isEmpty)
        #expect(c.kex == .unknown)
        #expect(log.lines.last == "unknown_kex made-up-kex")
    }

    /// Zeek's heuristic over encrypted delivery sizes (`ProcessEncrypted`).
    @Test(arguments: [
        // client data, then SERVICE_ACCEPT 52, a failure 68, failure 68 again, success 36.
        ([52, 68, 68, 36], ["auth false", "auth true"]),
        // "none" authentication: success right after SERVICE_ACCEPT (16 bytes shorter).
        ([52, 36], ["auth true"]),
        // A banner (> 256 bytes over SERVICE_ACCEPT) is skipped once, then failure and success.
        ([52, 500, 84, 84, 36], ["auth false", "auth true"]),
        // Sizes that fit no rule decide nothing.
        ([52, 100, 120], []),
    ])
    func authenticationHeuristic(_ serverSizes: [Int], _ expected: [String]) {
        var stream: [(ArraySlice<UInt8>, Bool)] = [(sshClientStream[...], true), (sshServerStream[...], false)]
        stream.append(([UInt8](repeating: 0xEE, count: 60)[...], true))
        for n in serverSizes {
            stream.append(([UInt8](repeating: 0xEE, count: n)[...], false))
            stream.append(([UInt8](repeating: 0xEE, count: 60)[...], true))
        }
        let (_, log, violations) = run(stream)
        #expect(violations.isEmpty)
        #expect(Array(log.lines.dropFirst(5)) == expected)
    }

    @Test func serverCiphertextBeforeTheClientsIsIgnored() {
        // The server's ciphertext arriving before the client sent any does not set the
        // SERVICE_ACCEPT size: the next server delivery does.
        let (_, log, _) = run([
            (sshClientStream[...], true), (sshServerStream[...], false),
            ([UInt8](repeating: 1, count: 40)[...], false), ([UInt8](repeating: 1, count: 60)[...], true),
            ([UInt8](repeating: 1, count: 52)[...], false), ([UInt8](repeating: 1, count: 36)[...], false),
        ])
        #expect(log.lines.last == "auth true")
    }

    @Test func clientLineThatIsNotSSHIsAViolation() {
        let (c, log, violations) = run([(Array("GET / HTTP/1.1\r\n".utf8)[...], true)])
        #expect(violations == [.malformedIdentification])
        #expect(log.lines.isEmpty)
        // Nothing more is parsed.
        var sink = SSHEventLog()
        var again = c
        _ = Array("SSH-2.0-x\n".utf8).withUnsafeBytes { again.deliver($0, isOriginator: true, sink: &sink) }
        #expect(sink.lines.isEmpty)
    }

    @Test func hostilePacketLengthsAreViolationsNotCrashes() {
        let banner = Array("SSH-2.0-x\n".utf8)
        for bad: [UInt8] in [
            [0xFF, 0xFF, 0xFF, 0xFF, 4, 20],   // 4 GiB packet
            [0, 0, 0, 1, 4],                   // shorter than its own padding field
            [0, 0, 0, 8, 200, 20, 0, 0, 0, 0, 0, 0],  // padding longer than the packet
        ] {
            let (_, _, violations) = run([((banner + bad)[...], true)])
            #expect(violations == [.malformedPacket], "\(bad)")
        }
        // A KEXINIT whose name-list runs past the packet.
        let truncated = sshPacket(20, [UInt8](repeating: 0, count: 16) + [0, 0, 0x10, 0])
        let (_, _, violations) = run([((banner + truncated)[...], true)])
        #expect(violations == [.malformedMessage])
    }

    @Test func overlongIdentificationIsAViolation() {
        let line = [UInt8](repeating: UInt8(ascii: "A"), count: SSHConnection.maxLineLength + 1)
        let (_, _, violations) = run([(line[...], false)])
        #expect(violations == [.malformedIdentification])
    }

    @Test func sshOneConnectionsStopAfterTheBanners() {
        let (c, log, violations) = run([
            (Array("SSH-1.5-x\n".utf8)[...] + [0, 0, 0, 9], true), (Array("SSH-1.5-y\n".utf8)[...], false),
        ])
        #expect(violations.isEmpty)
        #expect(log.lines == ["client SSH-1.5-x", "server SSH-1.5-y"])
        #expect(c.client.state == .ignored)
    }

    @Test func gapStopsParsing() {
        var c = SSHConnection()
        var log = SSHEventLog()
        c.gap()
        _ = Array("SSH-2.0-x\n".utf8).withUnsafeBytes { c.deliver($0, isOriginator: true, sink: &log) }
        #expect(log.lines.isEmpty)
    }
}
