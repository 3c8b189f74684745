// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import Testing

@Suite("IP-in-IP")
struct IPInIPTests {
    @Test func payloadIsRawIPWhateverTheProtocolNumber() {
        #expect(IPInIP.isTunnel(ipProtocol: 4) && IPInIP.isTunnel(ipProtocol: 41) && !IPInIP.isTunnel(ipProtocol: 47))
        // IPv6 behind protocol 4: Zeek decodes it by its nibble, with no version-mismatch weird.
        let o = withPayload(ipv6Packet()) { IPInIP.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 3, length: 48, kind: .rawIP))
        #expect(o.weird == nil && o.verdict == .none)
    }

    @Test func outOfRangeBoundsReadAsEmpty() {
        let o = [UInt8](repeating: 0, count: 4).withUnsafeBytes { IPInIP.parse($0, offset: 9, length: 10) }
        #expect(o.payload?.length == 0)
    }
}
