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

/// Per-packet metadata stays small (style.md §4.2): these sizes are what a decode copies around.
@Suite struct PacketLayersSizeTests {
    @Test func layoutSizes() {
        #expect(MemoryLayout<LinkLayer>.size <= 80)
        #expect(MemoryLayout<IPLayer>.size <= 168)
        #expect(MemoryLayout<TransportLayer>.size <= 56)
        #expect(MemoryLayout<DecodeResult>.size <= 48)
    }
}
