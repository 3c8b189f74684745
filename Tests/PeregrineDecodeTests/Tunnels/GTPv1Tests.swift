// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import Testing

@Suite("GTPv1")
struct GTPv1Tests {
    @Test func plainGPDU() {
        let inner = ipv4Packet()
        let pkt: [UInt8] = [0x30, 0xFF, 0, UInt8(inner.count), 0, 0, 0, 1] + inner  // v1, PT
        let o = withPayload(pkt) { GTPv1.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 11, length: 28, kind: .ipv4))
        #expect(o.verdict == .valid)
    }

    @Test func optionalWordAndExtensionChain() {
        let inner = ipv6Packet()
        // E flag: seq/N-PDU/next type 0x85; ext (1 unit: 2 content bytes, next 0x40); ext (2 units, next 0).
        let pkt: [UInt8] = [0x34, 0xFF, 0, 0, 0, 0, 0, 1, 0, 7, 0, 0x85, 1, 0xAA, 0xBB, 0x40,
                            2, 1, 2, 3, 4, 5, 6, 0] + inner
        let o = withPayload(pkt) { GTPv1.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 3 + 24, length: 48, kind: .ipv6))
        for (n, o) in prefixOutcomes(pkt, { GTPv1.parse($0, offset: $1, length: $2) }).enumerated() {
            #expect(o.payload == nil && o.verdict == .violation, "prefix \(n)")
        }
        var zeroUnits = pkt
        zeroUnits[12] = 0
        #expect(withPayload(zeroUnits) { GTPv1.parse($0, offset: $1, length: $2) }.verdict == .violation)
    }

    @Test func quietAndViolatingCases() {
        let inner = ipv4Packet()
        let echo: [UInt8] = [0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]  // echo request: no inner, no confirm
        let e = withPayload(echo) { GTPv1.parse($0, offset: $1, length: $2) }
        #expect(e.payload == nil && e.verdict == .none && e.weird == nil)
        let gtpPrime: [UInt8] = [0x20, 0xFF, 0, 0, 0, 0, 0, 0] + inner  // PT = 0
        #expect(withPayload(gtpPrime) { GTPv1.parse($0, offset: $1, length: $2) }.verdict == .none)
        let v2: [UInt8] = [0x50, 0xFF, 0, 0, 0, 0, 0, 0] + inner
        #expect(withPayload(v2) { GTPv1.parse($0, offset: $1, length: $2) }.verdict == .violation)
        let notIP: [UInt8] = [0x30, 0xFF, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0x11, count: 20)
        #expect(withPayload(notIP) { GTPv1.parse($0, offset: $1, length: $2) }.verdict == .violation)
        let trailing: [UInt8] = [0x30, 0xFF, 0, 0, 0, 0, 0, 0] + inner + [0]
        #expect(withPayload(trailing) { GTPv1.parse($0, offset: $1, length: $2) }.verdict == .violation)
    }
}
