// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs
import Synchronization
import Testing

@Suite struct ByteRingTests {
    /// Drains everything currently in the ring as (tag, bytes) pairs.
    func drainAll(_ ring: ByteRing) -> [(UInt32, [UInt8])] {
        var out: [(UInt32, [UInt8])] = []
        ring.drain { tag, payload in out.append((tag, Array(payload))) }
        return out
    }

    @Test func recordsComeOutInOrderWithTheirTags() {
        let ring = ByteRing(capacity: 4096)
        [UInt8]([1, 2, 3]).withUnsafeBytes { ring.write(tag: 7, bytes: $0) }
        [UInt8](repeating: 9, count: 13).withUnsafeBytes { ring.write(tag: 8, bytes: $0) }
        ring.write(tag: 9, length: 0) { _ in }
        let out = drainAll(ring)
        #expect(out.map(\.0) == [7, 8, 9])
        #expect(out[1].1 == [UInt8](repeating: 9, count: 13))
        #expect(out[2].1.isEmpty)
        #expect(drainAll(ring).isEmpty)
    }

    /// Records whose sizes do not divide the buffer cross its end many times; each must come out
    /// whole (a wrap marker, never a split record). Three records and a marker fit in the ring, so
    /// the single thread never waits on itself.
    @Test(arguments: [1, 7, 8, 100, 1000])
    func wrapsKeepRecordsWhole(size: Int) {
        let ring = ByteRing(capacity: 4096)
        for round in 0..<50 {
            for i in 0..<3 {
                let value = UInt8(truncatingIfNeeded: round * 3 + i)
                ring.write(tag: UInt32(i), length: size) { $0.initializeMemory(as: UInt8.self, repeating: value) }
            }
            let out = drainAll(ring)
            #expect(out.count == 3)
            for (i, record) in out.enumerated() {
                #expect(record.0 == UInt32(i))
                #expect(record.1 == [UInt8](repeating: UInt8(truncatingIfNeeded: round * 3 + i), count: size))
            }
        }
        #expect(ring.fullWaits == 0)
    }

    @Test func drainLimitLeavesTheRestForLater() {
        let ring = ByteRing(capacity: 4096)
        for i in 0..<5 { ring.write(tag: UInt32(i), length: 4) { $0.storeBytes(of: UInt32(i), as: UInt32.self) } }
        var tags: [UInt32] = []
        #expect(ring.drain(limit: 2) { tag, _ in tags.append(tag) } == 2)
        #expect(ring.drain { tag, _ in tags.append(tag) } == 3)
        #expect(tags == [0, 1, 2, 3, 4])
    }

    @Test func drainedOnlyOnceTheConsumerPassedEveryRecord() {
        let ring = ByteRing(capacity: 4096)
        #expect(ring.isDrained)
        for i in 0..<3 { ring.write(tag: UInt32(i), length: 4) { $0.storeBytes(of: UInt32(i), as: UInt32.self) } }
        #expect(!ring.isDrained)
        #expect(ring.drain(limit: 2) { _, _ in } == 2)
        #expect(!ring.isDrained)
        #expect(ring.drain { _, _ in } == 1)
        #expect(ring.isDrained)
    }

    @Test func finishedOnlyAfterCloseAndDrain() {
        let ring = ByteRing(capacity: 4096)
        ring.write(tag: 1, length: 8) { $0.storeBytes(of: UInt64(1), as: UInt64.self) }
        #expect(!ring.isFinished)
        ring.close()
        #expect(!ring.isFinished)
        _ = drainAll(ring)
        #expect(ring.isFinished)
    }

    /// Two threads through a small ring: every record arrives once, in order, with its bytes
    /// intact, and the producer had to wait (the ring is far smaller than the data).
    @Test func twoThreadStress() {
        let ring = ByteRing(capacity: 4096)
        let count = 200_000
        let producer = JoinableThread {
            var state: UInt64 = 0x1234_5678
            for i in 0..<count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let length = 8 + Int(state >> 56) % 600  // 8 ... 607 bytes: every alignment
                ring.write(tag: UInt32(i & 0x7FFF_FFFF), length: length) { buffer in
                    buffer.storeBytes(of: UInt64(i), as: UInt64.self)
                    for j in 8..<length { buffer[j] = UInt8(truncatingIfNeeded: i &+ j) }
                }
            }
            ring.close()
        }
        var next = 0
        var bad = 0
        var rounds = 0
        while true {
            let n = ring.drain { tag, payload in
                let i = Int(payload.load(as: UInt64.self))
                if i != next || tag != UInt32(i) { bad += 1 }
                for j in 8..<payload.count where payload[j] != UInt8(truncatingIfNeeded: i &+ j) {
                    bad += 1
                    break
                }
                next += 1
            }
            if n > 0 {
                rounds = 0
            } else if ring.isFinished {
                break
            } else {
                ByteRing.backOff(&rounds)
            }
        }
        producer.join()
        #expect(next == count)
        #expect(bad == 0)
        #expect(ring.fullWaits > 0)
    }
}
