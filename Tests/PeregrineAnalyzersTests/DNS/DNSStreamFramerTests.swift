// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineTestSupport
import Testing

@Suite struct DNSStreamFramerTests {
    /// Two length-prefixed messages back to back (the bodies are opaque to the framer).
    static let stream: [UInt8] = [
        0x00, 0x05, 0x68, 0x65, 0x6C, 0x6C, 0x6F,  // length 5, "hello"
        0x00, 0x00,  // length 0: skipped, not a message
        0x00, 0x03, 0x61, 0x62, 0x63,  // length 3, "abc"
    ]

    func feed(_ framer: DNSStreamFramer, slot: UInt32, _ chunks: [ArraySlice<UInt8>], isOriginator: Bool = true)
        -> [[UInt8]]
    {
        var messages: [[UInt8]] = []
        for chunk in chunks {
            Array(chunk).withUnsafeBytes { bytes in
                framer.deliver(slot, data: bytes, isOriginator: isOriginator) { messages.append(Array($0)) }
            }
        }
        return messages
    }

    @Test func everyChunkingYieldsTheSameMessages() {
        for chunks in SplitFeeder.chunks(of: Self.stream) {
            let framer = DNSStreamFramer(capacity: 2, bufferCount: 1)
            let messages = feed(framer, slot: 1, chunks)
            #expect(messages == [Array("hello".utf8), Array("abc".utf8)], "chunks: \(chunks.map(\.count))")
            #expect(framer.buffersExhausted.value == 0)
        }
    }

    @Test func directionsAndSlotsAreIndependent() {
        let framer = DNSStreamFramer(capacity: 2, bufferCount: 2)
        // Half a message on each of three streams, then the rest of each.
        let first = Array(Self.stream[0..<4]), rest = Array(Self.stream[4..<7])
        #expect(feed(framer, slot: 1, [first[...]], isOriginator: true).isEmpty)
        #expect(feed(framer, slot: 1, [first[...]], isOriginator: false).isEmpty)
        #expect(feed(framer, slot: 2, [first[...]], isOriginator: true).isEmpty)
        #expect(feed(framer, slot: 1, [rest[...]], isOriginator: false) == [Array("hello".utf8)])
        #expect(feed(framer, slot: 1, [rest[...]], isOriginator: true) == [Array("hello".utf8)])
        // Only two buffers: the third split message was skipped and counted.
        #expect(feed(framer, slot: 2, [rest[...]], isOriginator: true).isEmpty)
        #expect(framer.buffersExhausted.value == 1)
        // The skipped message did not desynchronise its stream.
        #expect(feed(framer, slot: 2, [Self.stream[7...]], isOriginator: true) == [Array("abc".utf8)])
    }

    @Test func aGapStopsTheDirectionUntilReset() {
        let framer = DNSStreamFramer(capacity: 1)
        #expect(feed(framer, slot: 1, [Self.stream[0..<3]]).isEmpty)
        framer.gap(1, isOriginator: true)
        #expect(feed(framer, slot: 1, [Self.stream[...]]).isEmpty)
        framer.reset(1)
        #expect(feed(framer, slot: 1, [Self.stream[...]]).count == 2)
    }
}
