// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import Testing

@Suite struct NTPParserTests {
    /// A server reply (NTPv4, mode 4, stratum 1, clock "GPSs"), as in Zeek's misordered-ntp trace.
    static let serverReply: [UInt8] = [
        0x24,  // LI 0, VN 4, mode 4
        0x01, 0x08, 0xEC,  // stratum 1, poll 8 (256 s), precision -20
        0x00, 0x00, 0x00, 0x00,  // root delay 0
        0x00, 0x00, 0x00, 0x41,  // root dispersion 65/65536 s
        0x47, 0x50, 0x53, 0x73,  // reference id "GPSs"
        0xDB, 0xAC, 0xEB, 0xE7, 0xF6, 0xD6, 0x2A, 0x4A,  // reference time
        0xDB, 0xAC, 0xEB, 0xE8, 0x77, 0xC3, 0x4C, 0x35,  // origin time
        0xDB, 0xAC, 0xEB, 0xE8, 0x82, 0x0C, 0x1A, 0x43,  // receive time
        0xDB, 0xAC, 0xEB, 0xE8, 0x82, 0x0D, 0x19, 0x76,  // transmit time
    ]

    func parse(_ bytes: [UInt8]) -> NTPMessage? { bytes.withUnsafeBytes { NTPParser.parse($0) } }

    @Test func standardMessageFields() throws {
        let m = try #require(parse(Self.serverReply))
        #expect(m.version == 4 && m.mode == 4 && m.leap == 0)
        let s = try #require(m.standard)
        #expect(s.stratum == 1 && s.poll == 8 && s.precision == -20)
        #expect(s.rootDelay == 0 && s.rootDispersion == 0x41)
        #expect(s.referenceID == (0x47, 0x50, 0x53, 0x73))
        #expect(s.referenceTime == 0xDBAC_EBE7_F6D6_2A4A && s.transmitTime == 0xDBAC_EBE8_820D_1976)
        #expect(s.extensionCount == 0)
    }

    @Test func everyTruncationOfTheFixedPartIsRejected() {
        for n in 0..<NTPParser.standardLength {
            #expect(parse(Array(Self.serverReply[0..<n])) == nil, "length \(n)")
        }
    }

    @Test func aMACIsNotAnExtensionButLongerTailsAre() throws {
        // 20 or 24 trailing bytes: a MAC (key id + digest); no extension fields.
        #expect(try #require(parse(Self.serverReply + [UInt8](repeating: 0, count: 20))?.standard).extensionCount == 0)
        #expect(try #require(parse(Self.serverReply + [UInt8](repeating: 0, count: 24))?.standard).extensionCount == 0)
        // One RFC 5906 field of 28 bytes (18 fixed, a 4-byte value, signature length 0, padding
        // to its length), then a 20-byte MAC.
        let field: [UInt8] = [
            0x02, 0x01, 0x00, 0x1C,  // flags/code, type, length 28
            0x00, 0x00,  // association id
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // timestamp, filestamp
            0x00, 0x00, 0x00, 0x04,  // value length 4 (bytes 14-17)
            0xAA, 0xBB, 0xCC, 0xDD,  // value
            0x00, 0x00, 0x00, 0x00,  // signature length 0
            0x00, 0x00,  // padding to 28
        ]
        let withField = Self.serverReply + field + [UInt8](repeating: 0, count: 20)
        #expect(try #require(parse(withField)?.standard).extensionCount == 1)
        // A value length running past the end makes the datagram unparseable (a violation).
        var bad = withField
        bad[48 + 16] = 0xFF
        #expect(parse(bad) == nil)
    }

    @Test func controlAndPrivateModesNeedTheirDataAreas() {
        // Mode 6, count 4 but only 2 data bytes; then complete.
        let control: [UInt8] = [0x16, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x61, 0x62]
        #expect(parse(control) == nil)
        #expect(parse(control + [0x63, 0x64])?.standard == nil)
        #expect(parse(control + [0x63, 0x64])?.mode == 6)
        // Mode 7 with the authenticated bit needs a 20-byte MAC after its data.
        let priv: [UInt8] = [0x17, 0x80, 0x03, 0x2A, 0x00, 0x00]
        #expect(parse(priv) == nil)
        #expect(parse(priv + [UInt8](repeating: 0, count: 20))?.mode == 7)
    }

    @Test func theFirstWrongWayMessageSwapsRolesOnce() {
        var state: UInt32 = 0
        let reply = Self.serverReply
        let first = reply.withUnsafeBytes { NTPAnalyzer.deliver($0, isOriginator: true, state: &state) }
        guard case .message(_, let flip) = first else { Issue.record("no message"); return }
        #expect(flip)
        let again = reply.withUnsafeBytes { NTPAnalyzer.deliver($0, isOriginator: true, state: &state) }
        guard case .message(_, let flipAgain) = again else { Issue.record("no message"); return }
        #expect(!flipAgain)
        // A client request from the originator is the right way round.
        var fresh: UInt32 = 0
        var request = reply
        request[0] = 0x23  // mode 3
        let ok = request.withUnsafeBytes { NTPAnalyzer.deliver($0, isOriginator: true, state: &fresh) }
        guard case .message(_, let noFlip) = ok else { Issue.record("no message"); return }
        #expect(!noFlip)
        // A violation turns the analyzer off for the connection.
        let short: [UInt8] = [0x23, 0x00]
        #expect(short.withUnsafeBytes { NTPAnalyzer.deliver($0, isOriginator: true, state: &fresh) } == .violation)
        #expect(reply.withUnsafeBytes { NTPAnalyzer.deliver($0, isOriginator: true, state: &fresh) } == .ignored)
    }
}
