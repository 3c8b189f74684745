// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineLogs
import PeregrinePolicy
import PeregrineSessions
import Synchronization

/// The offline reader's side of `--workers N`: which worker a frame goes to, and the frame
/// records it puts in that worker's ring.
///
/// **Which worker.** A frame goes to `hash % N`, where `hash` is the symmetric ``FlowKey`` hash of
/// the *outermost* IP header's address pair, with ports and protocol left out. The link layer is
/// decoded as the worker decodes it (VLAN/QinQ, MPLS, PPPoE, ...), then the IPv4 or IPv6 addresses
/// are read; nothing else. Keying on addresses alone is what keeps everything a worker must see
/// together on one worker:
/// - every fragment of a datagram (the non-first ones carry no ports) and the unfragmented packets
///   of the same flow, so reassembly and the connection agree;
/// - a tunnel (IP-in-IP, GRE, and the UDP tunnels) and every connection inside it, whose
///   `tunnel_parents` name the tunnel's uid;
/// - ICMP errors and the flow-scoped weirds of a host pair, which weird.log de-duplicates by pair.
/// The price is that all connections between the same two hosts share a worker. Frames without an
/// IP header the reader can read (ARP, truncated or bad link layers) go to worker 0, so the
/// network-scoped weirds they raise are sampled in one place, as in the one-worker run.
///
/// **Time.** Network time is the largest timestamp seen so far (architecture.md rule 4). Each
/// frame record carries that global value, not the frame's own, and whenever it passes the next
/// expiry check the reader first sends every worker a clock record, so each worker expires
/// connections at the same network times as a single worker reading the whole trace would.
///
/// **No copy.** A frame record carries the address of the frame's bytes in the file's mapping, not
/// the bytes: the reader keeps those pages mapped until every worker is past them
/// (``oldestInUse()``, which `PcapFileSource.forEachFrame(keepingFrom:_:)` asks before giving pages
/// back). Each worker publishes the address of the last frame it finished in its ``Progress``.
final class FrameDispatch {
    /// Ring record tags.
    static let frameTag: UInt32 = 0
    static let clockTag: UInt32 = 1
    /// Frame record payload: network time (Int64 ns), the frame's address (UInt64), captured length
    /// (UInt32), wire length (UInt32), link type (UInt32).
    static let frameRecord = 28

    /// What a worker has finished: the address of the last frame it processed (0 before the first).
    final class Progress: @unchecked Sendable {
        private let done = Atomic<Int>(0)
        // The atomic gets a cache line of its own: the worker writes it, the reader reads it.
        private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)

        var lastFinished: Int { done.load(ordering: .acquiring) }
        func finished(_ address: Int) { done.store(address, ordering: .releasing) }
    }

    let rings: [ByteRing]
    let progress: [Progress]
    private let seed: UInt64
    private var now = Timestamp.zero
    private var nextClock = Timestamp.zero

    init(rings: [ByteRing], seed: UInt64) {
        self.rings = rings
        self.progress = rings.map { _ in Progress() }
        self.seed = seed
    }

    /// The worker a frame belongs to.
    @inline(__always)
    func worker(for bytes: UnsafeRawBufferPointer, linkType: LinkType) -> Int {
        var link = LinkLayer()
        guard case .ok = LinkDecoder.decode(bytes, linkType: linkType, into: &link), let base = bytes.baseAddress
        else { return 0 }
        let offset = link.networkOffset
        let a: IPAddress, b: IPAddress
        switch link.etherType {
        case 0x0800 where offset + 20 <= bytes.count:
            (a, b) = (IPAddress(ipv4At: base + offset + 12), IPAddress(ipv4At: base + offset + 16))
        case 0x86DD where offset + 40 <= bytes.count:
            (a, b) = (IPAddress(ipv6At: base + offset + 8), IPAddress(ipv6At: base + offset + 24))
        default:
            return 0
        }
        let key = FlowKey(source: a, sourcePort: 0, destination: b, destinationPort: 0, transportProtocol: 0)
        return Int(key.hash(seed: seed) % UInt64(rings.count))
    }

    /// Sends one frame to its worker (after a clock record to every worker when one is due). The
    /// frame's bytes must stay mapped until ``oldestInUse()`` is past them.
    @inline(__always)
    func dispatch(bytes: UnsafeRawBufferPointer, wireLength: Int, timestamp: Timestamp, linkType: LinkType) {
        if timestamp > now { now = timestamp }
        if now >= nextClock { sendClock() }
        let time = now.nanoseconds
        let address = UInt64(UInt(bitPattern: bytes.baseAddress))
        rings[worker(for: bytes, linkType: linkType)].write(tag: Self.frameTag, length: Self.frameRecord) {
            $0.storeBytes(of: time, as: Int64.self)
            $0.storeBytes(of: address, toByteOffset: 8, as: UInt64.self)
            $0.storeBytes(of: UInt32(truncatingIfNeeded: bytes.count), toByteOffset: 16, as: UInt32.self)
            $0.storeBytes(of: UInt32(truncatingIfNeeded: wireLength), toByteOffset: 20, as: UInt32.self)
            $0.storeBytes(of: linkType.rawValue, toByteOffset: 24, as: UInt32.self)
        }
    }

    @inline(never)
    private func sendClock() {
        nextClock = now.adding(Worker.expiryInterval)
        let time = now.nanoseconds
        for ring in rings {
            ring.write(tag: Self.clockTag, length: 8) { $0.storeBytes(of: time, as: Int64.self) }
        }
    }

    /// The first frame address a worker may still read, `nil` when every worker is done with every
    /// frame sent. A worker whose ring is drained has finished all its frames; otherwise its
    /// unfinished frames lie after the last one it finished (frames are sent in file order).
    func oldestInUse() -> UnsafeRawPointer? {
        var oldest = Int.max
        for i in rings.indices where !rings[i].isDrained { oldest = min(oldest, progress[i].lastFinished) }
        guard oldest != .max else { return nil }
        // 0: that worker finished no frame yet and may read any frame sent; an address below the
        // mapping keeps all of it.
        return UnsafeRawPointer(bitPattern: max(oldest, 1))
    }

    /// A worker thread's loop: runs every record of its ring through `worker` until the reader
    /// closed the ring, then flushes the worker's connections and closes its log ring.
    static func consume(_ ring: ByteRing, progress: Progress, into worker: Worker) {
        var rounds = 0
        while true {
            var last = 0
            let n = ring.drain(limit: 256) { tag, payload in
                let time = Timestamp(nanoseconds: payload.load(as: Int64.self))
                if tag == clockTag {
                    worker.advanceClock(to: time)
                    return
                }
                let address = Int(truncatingIfNeeded: payload.load(fromByteOffset: 8, as: UInt64.self))
                let length = Int(payload.load(fromByteOffset: 16, as: UInt32.self))
                let wireLength = Int(payload.load(fromByteOffset: 20, as: UInt32.self))
                // The reader wrote a link type the worker decodes (checked before dispatching).
                let linkType = LinkType(rawValue: payload.load(fromByteOffset: 24, as: UInt32.self)) ?? .ethernet
                worker.process(
                    bytes: UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: address), count: length),
                    wireLength: wireLength, timestamp: time, linkType: linkType)
                last = address
            }
            if n > 0 {
                if last != 0 { progress.finished(last) }
                rounds = 0
                continue
            }
            if ring.isFinished { break }
            ByteRing.backOff(&rounds)
        }
        worker.finishAll()
        worker.logs.close()
    }
}
