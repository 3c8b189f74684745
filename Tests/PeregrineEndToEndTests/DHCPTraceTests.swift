// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineAnalyzers
import PeregrineEngine
import Testing

/// dhcp.log: one line per transaction, across the broadcast and unicast connections it uses.
@Suite struct DHCPTraceTests {
    @Test func informMatchesZeek() throws {
        let dir = TraceTests.corpus + "/dhcp-inform"
        guard FileManager.default.fileExists(atPath: dir + "/dhcp_inform.pcap") else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let logs = try TraceTests().run(dir + "/dhcp_inform.pcap") { $0.ignoreChecksums = true }
        let ours = try #require(logs["dhcp"]).map { Array($0.dropFirst(2)) }
        #expect(ours == (try DNSTraceTests().baseline(dir + "/dhcp.log")))
        #expect(try #require(logs["conn"]).map { $0[7] } == ["dhcp"])
    }

    /// A DORA exchange: DISCOVER and REQUEST broadcast by the client, OFFER broadcast by the
    /// server, ACK sent unicast (Zeek flips that connection: 67/udp is a likely server port).
    /// Then the same transaction id again 20 s later (the first transaction expired after 10 s
    /// with 5 s of quiet, so it is a new line), and an INFORM without a client id.
    @Test func doraIsOneLineAcrossThreeConnections() throws {
        let client: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
        let server: [UInt8] = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE]
        let zero: [UInt8] = [0, 0, 0, 0], all: [UInt8] = [255, 255, 255, 255]
        let serverIP: [UInt8] = [10, 0, 0, 1], leased: [UInt8] = [10, 0, 0, 50], other: [UInt8] = [10, 0, 0, 60]
        let xid: UInt32 = 0x1234_5678
        let frames: [(Double, [UInt8])] = [
            (0.0, Self.frame(client, zero, 68, all, 67, Self.dhcp(op: 1, xid: xid, chaddr: client, options: [
                53: [1], 61: [1] + client, 12: Array("laptop".utf8),
            ]))),
            (0.1, Self.frame(server, serverIP, 67, all, 68, Self.dhcp(op: 2, xid: xid, yiaddr: leased, chaddr: client, options: [
                53: [2], 51: [0, 0, 0x0E, 0x10], 15: Array("example.org".utf8) + [0],
            ]))),
            (0.2, Self.frame(client, zero, 68, all, 67, Self.dhcp(op: 1, xid: xid, chaddr: client, options: [
                53: [3], 61: [1] + client, 50: leased,
            ]))),
            (0.3, Self.frame(server, serverIP, 67, leased, 68, Self.dhcp(op: 2, xid: xid, yiaddr: leased, chaddr: client, options: [
                53: [5], 51: [0, 0, 0x0E, 0x10],
            ]))),
            (20.0, Self.frame(client, zero, 68, all, 67, Self.dhcp(op: 1, xid: xid, chaddr: client, options: [53: [1]]))),
            (21.0, Self.frame(client, other, 68, serverIP, 67, Self.dhcp(op: 1, xid: 7, chaddr: client, options: [
                53: [8], 56: Array("hello".utf8),
            ]))),
        ]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dora-\(UUID().uuidString).pcap").path
        try Data(Self.pcap(frames)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let logs = try TraceTests().run(path) { $0.ignoreChecksums = true }
        let conn = try #require(logs["conn"])
        func uid(_ origin: String, _ originPort: String, _ target: String) -> String? {
            conn.first { $0[2] == origin && $0[3] == originPort && $0[4] == target }?[1]
        }
        let broadcast = try #require(uid("0.0.0.0", "68", "255.255.255.255"))
        let offer = try #require(uid("10.0.0.1", "67", "255.255.255.255"))
        let ack = try #require(uid("10.0.0.50", "68", "10.0.0.1"))
        #expect(conn.allSatisfy { $0[7] == "dhcp" })
        let dhcp = try #require(logs["dhcp"])
        #expect(dhcp.count == 3)
        let dora = dhcp[0]
        #expect(dora[1] == [broadcast, offer, ack].joined(separator: ","))
        // client_addr from the assigned address (the client only sent from 0.0.0.0); the server
        // from the broadcast OFFER's originator and the unicast ACK's responder.
        #expect(Array(dora[2...14]) == [
            "10.0.0.50", "10.0.0.1", "02:11:22:33:44:55", "laptop", "-", "example.org", "10.0.0.50", "10.0.0.50",
            "3600.000000", "-", "-", "DISCOVER,OFFER,REQUEST,ACK", "0.300000",
        ])
        #expect(dhcp[1][1] == broadcast && dhcp[1][13] == "DISCOVER" && dhcp[1][14] == "0.000000")
        // No client id: the mac is the client's chaddr; the message option is the client's.
        let inform = dhcp[2]
        #expect(Array(inform[2...14]) == [
            "10.0.0.60", "-", "02:11:22:33:44:55", "-", "-", "-", "-", "-", "-", "hello", "-", "INFORM", "0.000000",
        ])
    }

    @Test func parserFollowsZeeksGrammar() throws {
        let chaddr: [UInt8] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
        func parse(_ bytes: [UInt8]) -> Result<DHCPMessage, DHCPParser.Failure> {
            bytes.withUnsafeBytes { DHCPParser.parse($0) }
        }
        let good = Self.dhcp(op: 1, xid: 9, chaddr: chaddr, options: [53: [3], 15: [0x61], 81: [0, 0, 0, 0x68, 0x6F]])
        let m = try parse(good).get()
        #expect(m.messageType == 3 && m.transactionID == 9 && m.clientHardwareAddress == "02:11:22:33:44:55")
        // Option 15 keeps bytes up to its last non-NUL one, unless that is the first (Zeek's rule).
        #expect(m.domainName == [])
        #expect(m.clientFQDN == Array("ho".utf8))
        // chaddr bytes 6 and 7 set: eight bytes, as fmt_mac writes them.
        let long = Self.dhcp(op: 1, xid: 9, chaddr: chaddr + [0x66, 0x77], options: [53: [1]])
        #expect(try parse(long).get().clientHardwareAddress == "02:11:22:33:44:55:66:77")
        var badCookie = good
        badCookie[236] = 0
        #expect(parse(badCookie) == .failure(.badCookie))
        #expect(parse(Array(good.dropLast())) == .failure(.truncated))  // no End option
        #expect(parse(Array(good.prefix(200))) == .failure(.truncated))
        let shortLease = Self.dhcp(op: 2, xid: 9, chaddr: chaddr, options: [53: [5], 51: [1, 2]])
        #expect(parse(shortLease) == .failure(.badOptionLength(51)))
        let untyped = Self.dhcp(op: 1, xid: 9, chaddr: chaddr, options: [12: [0x61]])
        #expect(try parse(untyped).get().messageType == 0)
        #expect(DHCPMessage.typeName(0) == "unknown-message-type-0")
    }

    // MARK: - Building frames

    /// A DHCP message: the 236-byte BOOTP header, the cookie, `options` in ascending code order, End.
    static func dhcp(op: UInt8, xid: UInt32, yiaddr: [UInt8] = [0, 0, 0, 0], chaddr: [UInt8], options: [UInt8: [UInt8]]) -> [UInt8] {
        var m: [UInt8] = [op, 1, 6, 0]
        m += withUnsafeBytes(of: xid.bigEndian, Array.init)
        m += [0, 0, 0, 0] + [0, 0, 0, 0] + yiaddr + [0, 0, 0, 0] + [0, 0, 0, 0]
        m += chaddr + [UInt8](repeating: 0, count: 16 - chaddr.count)
        m += [UInt8](repeating: 0, count: 64 + 128)
        m += [99, 130, 83, 99]
        for code in options.keys.sorted() {
            let value = options[code]!
            m += [code, UInt8(value.count)] + value
        }
        return m + [255]
    }

    /// Ethernet + IPv4 + UDP (checksums left zero: the run ignores them).
    static func frame(_ mac: [UInt8], _ source: [UInt8], _ sourcePort: UInt16, _ destination: [UInt8], _ destinationPort: UInt16, _ payload: [UInt8]) -> [UInt8] {
        let destinationMAC: [UInt8] = destination == [255, 255, 255, 255] ? [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] : [0x02, 0, 0, 0, 0, 9]
        var f = destinationMAC + mac + [0x08, 0x00]
        let total = UInt16(20 + 8 + payload.count)
        f += [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0, 0, 64, 17, 0, 0] + source + destination
        let udpLength = UInt16(8 + payload.count)
        f += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xFF)]
        f += [UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
        return f + payload
    }

    /// A classic little-endian pcap of Ethernet frames at 1,400,000,000 + the given seconds.
    static func pcap(_ frames: [(Double, [UInt8])]) -> [UInt8] {
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        var out = le32(0xA1B2_C3D4) + [2, 0, 4, 0] + le32(0) + le32(0) + le32(65_535) + le32(1)
        for (time, bytes) in frames {
            let micros = UInt32((time * 1_000_000).rounded())
            out += le32(1_400_000_000 + micros / 1_000_000) + le32(micros % 1_000_000)
            out += le32(UInt32(bytes.count)) + le32(UInt32(bytes.count)) + bytes
        }
        return out
    }
}
