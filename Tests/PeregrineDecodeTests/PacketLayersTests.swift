// SPDX-License-Identifier: Apache-2.0
import PeregrineDecode
import Testing

@Suite struct PacketLayersTests {
    @Test func dltNumbersMapToLinkTypes() {
        #expect(LinkType(dlt: 1) == .ethernet)
        #expect(LinkType(dlt: 12) == .raw)
        #expect(LinkType(dlt: 276) == .linuxSLL2)
        #expect(LinkType(dlt: 9999) == nil)
    }
}
