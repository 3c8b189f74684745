// SPDX-License-Identifier: Apache-2.0
import CPeregrineXDP
import Glibc
import PeregrineCore
import PeregrineSystem

/// One worker's AF_XDP socket: bound to one receive queue of an interface, registered in the XDP
/// program's XSKMAP, reading frames out of its UMEM in batches.
///
/// Sources are opened together by `AFXDPGroup`, which picks a layout the kernel delivers without
/// silent loss, loads and attaches the program, and keeps it attached while the group lives.
///
/// ```swift
/// let group = try AFXDPGroup(interface: "eth0", layout: .sharedQueue(sockets: 2), configuration: .init(),
///                            bpfDirectory: dir, seed: seed)
/// // on worker i's thread:
/// while running {
///     try group.sources[i].receive(max: 64, timeoutMilliseconds: 100) { frame in
///         worker.process(frame, flowHash: AFXDPSource.flowHash(of: frame))
///     }
///     worker.maintain()
/// }
/// ```
///
/// **Timestamps.** AF_XDP carries no per-frame receive time; the XDP program stamps each frame with
/// `bpf_ktime_get_ns()` in its metadata, turned into wall-clock time per batch (see `AFXDPBatch`).
///
/// **Frames and the fill ring.** The descriptors of a batch are taken off the receive ring before the
/// callback runs; their frames return to the kernel on the fill ring after it, so a frame's bytes stay
/// valid for exactly the callback.
public final class AFXDPSource {
    /// The interface captured from.
    public let interface: NetworkInterface
    /// The receive queue the socket is bound to.
    public let queue: UInt32
    /// The socket's entry in the program's XSKMAP.
    public let index: UInt32
    /// Whether the kernel granted zero-copy mode (`XDP_OPTIONS_ZEROCOPY`); `false` is copy mode.
    public let isZeroCopy: Bool
    /// The link type of every frame: Ethernet (LINKTYPE_ETHERNET, 1).
    public let linkType: UInt32 = 1

    let umem: AFXDPUMEM
    private let socket: OpaquePointer
    private let descriptors: UnsafeMutablePointer<xdp_desc>
    private let batchCapacity: Int
    private var delivered: UInt64 = 0
    private var refillWaits: UInt64 = 0
    /// `AFXDPConfiguration.idlePauseMicroseconds`, in nanoseconds.
    private let idlePauseNanoseconds: Int
    /// CLOCK_MONOTONIC (ns) when a batch last had frames.
    private var lastFramesAt = Int64.min
    /// How long after the last frame an empty ring still counts as traffic flowing (pause, not poll).
    private static let busyWindowNanoseconds: Int64 = 100_000_000

    /// Creates the socket over `umem` and binds it to (`interface`, `queue`) with
    /// `XDP_USE_NEED_WAKEUP`, zero-copy when `configuration.preferZeroCopy` and the driver allows it,
    /// copy mode otherwise. The corresponding C calls are `socket(AF_XDP)`, `setsockopt(XDP_RX_RING)`,
    /// `mmap` and `bind` (`xsk_socket__create`, `xsk_socket__create_shared`).
    init(
        umem: AFXDPUMEM, interface: NetworkInterface, queue: UInt32, index: UInt32,
        configuration: AFXDPConfiguration
    ) throws(AFXDPError) {
        let ringSize = UInt32(configuration.receiveRingSize)
        var socket: OpaquePointer? = nil
        if configuration.preferZeroCopy {
            socket = CPeregrineXDP_createSocket(umem.handle, interface.name, queue, ringSize, 1)
            // EOPNOTSUPP: the driver has no zero-copy (veth, or generic XDP); anything else is fatal.
            if socket == nil, errno != EOPNOTSUPP {
                throw .socket(call: "xsk_socket__create(XDP_ZEROCOPY)", errno: errno, interface: interface.name, queue: queue)
            }
        }
        if socket == nil {
            socket = CPeregrineXDP_createSocket(umem.handle, interface.name, queue, ringSize, 0)
        }
        guard let socket else {
            throw .socket(call: "xsk_socket__create(XDP_COPY)", errno: errno, interface: interface.name, queue: queue)
        }
        self.interface = interface
        self.queue = queue
        self.index = index
        self.umem = umem
        self.socket = socket
        self.isZeroCopy = CPeregrineXDP_isZeroCopy(socket) != 0
        self.batchCapacity = configuration.batchSize
        self.idlePauseNanoseconds = configuration.idlePauseMicroseconds * 1000
        self.descriptors = .allocate(capacity: configuration.batchSize)
        // AFXDPBatch reads descriptors by these offsets from inlined code, which cannot name the C type.
        precondition(
            MemoryLayout<xdp_desc>.stride == AFXDPBatch.descriptorStride
                && MemoryLayout<xdp_desc>.offset(of: \.addr) == 0 && MemoryLayout<xdp_desc>.offset(of: \.len) == 8,
            "struct xdp_desc layout changed")
    }

    deinit {
        CPeregrineXDP_deleteSocket(socket)
        descriptors.deallocate()
    }

    /// Puts the socket into entry `index` of the XSKMAP `map`. The corresponding C call is
    /// `bpf_map_update_elem`.
    func register(in map: CInt) throws(AFXDPError) {
        guard CPeregrineXDP_registerSocket(map, index, socket) == 0 else {
            throw .socket(call: "bpf_map_update_elem(xsks, \(index))", errno: errno, interface: interface.name, queue: queue)
        }
    }

    /// The socket's descriptor.
    public var descriptor: CInt { CPeregrineXDP_socketDescriptor(socket) }

    /// Hands up to `max` received frames (at most the configured batch size) to `body`, then gives
    /// their frames back to the kernel.
    ///
    /// When none is waiting it sleeps in `poll` up to `timeoutMilliseconds` (which also wakes the
    /// kernel when it asked for it, `XDP_USE_NEED_WAKEUP`) and looks once more; within 100 ms of the
    /// last frame it sleeps `AFXDPConfiguration.idlePauseMicroseconds` instead (`timeoutMilliseconds`
    /// 0 never waits). Returns the number of
    /// frames delivered: 0 when the wait ended empty, the moment for timers and maintenance (style.md
    /// §4.6). The frames are valid only inside `body`; each carries the time the XDP program saw it (see the
    /// type's notes). Two C calls per batch, none per frame.
    /// - Throws: `AFXDPError.system` when `poll` fails or reports an error on the socket.
    @discardableResult
    public func receive(
        max: Int, timeoutMilliseconds: Int32, _ body: (borrowing CapturedFrame) -> Void
    ) throws(AFXDPError) -> Int {
        try withBatch(max: max, timeoutMilliseconds: timeoutMilliseconds) { batch in
            for frame in batch { body(frame) }
        }
    }

    /// Like `receive(max:timeoutMilliseconds:_:)`, but hands the whole batch to `body` at once, as
    /// `AFPacketSource.withBatch` hands a ring block: the caller's loop over the frames is inlined
    /// into its own module (`AFXDPBatch`), so the live workers' per-frame path has no call through a
    /// closure (linux-capture-facts.md §6).
    /// - Throws: `AFXDPError.system` when `poll` fails or reports an error on the socket.
    @discardableResult
    public func withBatch(
        max: Int = .max, timeoutMilliseconds: Int32, _ body: (AFXDPBatch) -> Void
    ) throws(AFXDPError) -> Int {
        let limit = UInt32(Swift.min(Swift.max(max, 0), batchCapacity))
        var count = CPeregrineXDP_receive(socket, descriptors, limit)
        if count == 0 {
            if timeoutMilliseconds > 0, idlePauseNanoseconds > 0, Self.nanoseconds(CLOCK_MONOTONIC) &- lastFramesAt < Self.busyWindowNanoseconds {
                pause()
            } else {
                try wait(timeoutMilliseconds: timeoutMilliseconds)
            }
            count = CPeregrineXDP_receive(socket, descriptors, limit)
            if count == 0 { return 0 }
        }
        // The program stamps frames with CLOCK_MONOTONIC; the pair of clocks read here turns that
        // into wall-clock time (NTP steps of the wall clock are followed from the next batch on).
        let monotonicNow = Self.nanoseconds(CLOCK_MONOTONIC), realtimeNow = Self.nanoseconds(CLOCK_REALTIME)
        lastFramesAt = monotonicNow
        body(
            AFXDPBatch(
                descriptors: UnsafeRawPointer(descriptors), count: Int(count), area: UnsafeRawPointer(umem.area),
                monotonicNow: monotonicNow, realtimeNow: realtimeNow, linkType: linkType))
        // The fill ring has room for every frame of the UMEM (AFXDPConfiguration.validate), but the
        // kernel publishes how far it consumed the ring only when it flushes the receive rings, just
        // after making their frames visible (net/xdp/xsk.c, xsk_flush): a batch read in between can
        // find too little room. The wait lasts until that next store; it was measured rare (0 to 2
        // per 450,000 frames, two sockets sharing a UMEM) and is counted.
        var returned = CPeregrineXDP_refill(umem.handle, descriptors, count)
        while returned < count {
            refillWaits &+= 1
            sched_yield()
            returned += CPeregrineXDP_refill(umem.handle, descriptors + Int(returned), count - returned)
        }
        delivered &+= UInt64(count)
        return Int(count)
    }

    /// The flow hash the XDP program computed for `frame` (the same as `SymmetricFlowHash.hash` with
    /// the group's seed), read from the frame's metadata: the 4 bytes before its first byte, which the
    /// program reserved with `bpf_xdp_adjust_meta` and the kernel copied into the UMEM frame's headroom.
    /// Only for frames this type delivered, inside the `receive` callback; valid while the program's
    /// `noMetadata` counter stays 0 (a driver without metadata support would leave those bytes stale).
    public static func flowHash(of frame: borrowing CapturedFrame) -> UInt32 {
        // Not nil: AF_XDP frames point into the UMEM.
        frame.bytes.baseAddress!.loadUnaligned(fromByteOffset: -MemoryLayout<UInt32>.size, as: UInt32.self)
    }

    /// While traffic flows, an empty ring is waited out with a short sleep rather than `poll`: a
    /// worker woken by `poll` for every few frames spends most of its time waking up (measured 432-597
    /// ns per frame against 101-121 with a 200 µs sleep, linux-capture-facts.md §3.4), and the wake-ups
    /// land on the sending CPU. A driver in zero-copy mode that asked for a wake-up
    /// (`XDP_USE_NEED_WAKEUP` on the fill ring) gets one first. The corresponding C calls are
    /// `recvfrom(MSG_DONTWAIT)` and `nanosleep`.
    private func pause() {
        if CPeregrineXDP_fillNeedsWakeup(umem.handle) != 0 {
            _ = recvfrom(descriptor, nil, 0, Int32(MSG_DONTWAIT), nil, nil)
        }
        var interval = timespec(tv_sec: 0, tv_nsec: idlePauseNanoseconds)
        _ = nanosleep(&interval, nil)
    }

    /// `clock`'s time in nanoseconds. The corresponding C function is `clock_gettime`.
    private static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
    }

    /// Waits in `poll` for frames; EINTR is a wake-up like any other.
    private func wait(timeoutMilliseconds: Int32) throws(AFXDPError) {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let result = poll(&entry, 1, timeoutMilliseconds)
        if result < 0 {
            let code = errno
            if code == EINTR { return }
            throw .system(.syscall(call: "poll(AF_XDP)", errno: code, interface: interface.name))
        }
        if entry.revents & Int16(POLLERR | POLLNVAL) != 0 {
            throw .system(.syscall(call: "poll(AF_XDP) socket error", errno: EIO, interface: interface.name))
        }
    }

    /// The kernel's counters for this socket since it was bound, plus the frames delivered.
    /// The corresponding C call is `getsockopt(SOL_XDP, XDP_STATISTICS)`.
    public func statistics() throws(AFXDPError) -> AFXDPStatistics {
        var kernel = xdp_statistics()
        guard CPeregrineXDP_statistics(socket, &kernel) == 0 else {
            throw .system(.syscall(call: "getsockopt(SOL_XDP, XDP_STATISTICS)", errno: errno, interface: interface.name))
        }
        var statistics = AFXDPStatistics()
        statistics.receiveDropped = kernel.rx_dropped
        statistics.invalidDescriptors = kernel.rx_invalid_descs
        statistics.receiveRingFull = kernel.rx_ring_full
        statistics.fillRingEmpty = kernel.rx_fill_ring_empty_descs
        statistics.transmitInvalidDescriptors = kernel.tx_invalid_descs
        statistics.transmitRingEmpty = kernel.tx_ring_empty_descs
        statistics.delivered = delivered
        statistics.refillWaits = refillWaits
        return statistics
    }
}

/// The frames of one AF_XDP receive batch, borrowed until the `withBatch` callback that receives them
/// returns (their UMEM frames then go back on the fill ring).
///
/// Iterating yields `CapturedFrame`s pointing into the UMEM; nothing is copied or allocated. Unlike
/// AF_PACKET, XDP sees a frame before the stack takes a VLAN tag out, so tags are in place.
///
/// **Timestamps.** AF_XDP descriptors carry no time; the XDP program writes `bpf_ktime_get_ns()`
/// (CLOCK_MONOTONIC) into each frame's metadata (`struct peregrine_metadata`, 12 bytes before the
/// frame), which becomes wall-clock time by the offset between the two clocks read when the batch
/// is taken. A frame whose stamp is not a time of the last minute before the batch (the program had
/// no metadata room, counted as `no_metadata`, and the headroom holds stale bytes) gets the batch's
/// wall-clock time instead.
@frozen
public struct AFXDPBatch: Sequence {
    /// `sizeof(struct xdp_desc)`: `addr` (u64) at 0, `len` (u32) at 8, `options` (u32) at 12
    /// (`<linux/if_xdp.h>`); checked against the C type when a source opens.
    @usableFromInline static let descriptorStride = 16
    @usableFromInline let descriptors: UnsafeRawPointer
    /// The number of frames in the batch.
    public let count: Int
    @usableFromInline let area: UnsafeRawPointer
    /// CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds, read when the batch was taken.
    @usableFromInline let monotonicNow: Int64
    @usableFromInline let realtimeNow: Int64
    @usableFromInline let linkType: UInt32

    @usableFromInline
    init(
        descriptors: UnsafeRawPointer, count: Int, area: UnsafeRawPointer, monotonicNow: Int64, realtimeNow: Int64,
        linkType: UInt32
    ) {
        self.descriptors = descriptors
        self.count = count
        self.area = area
        self.monotonicNow = monotonicNow
        self.realtimeNow = realtimeNow
        self.linkType = linkType
    }

    /// An iterator over the batch's frames, in ring order.
    @inlinable
    public func makeIterator() -> Iterator {
        Iterator(batch: self, index: 0)
    }

    /// The exact number of frames, `count`.
    @inlinable
    public var underestimatedCount: Int { count }

    /// Walks the batch's descriptors.
    @frozen
    public struct Iterator: IteratorProtocol {
        @usableFromInline let batch: AFXDPBatch
        @usableFromInline var index: Int

        @inlinable
        init(batch: AFXDPBatch, index: Int) {
            self.batch = batch
            self.index = index
        }

        // Inlinable so the engine's per-packet loop (another module) does not call out for each frame
        // (linux-capture-facts.md §6: cross-module calls with loops are not inlined otherwise).
        /// The next frame; `nil` after the last.
        @inlinable
        public mutating func next() -> CapturedFrame? {
            guard index < batch.count else { return nil }
            // The stride is a literal here: a `static let` read from inlined code goes through its
            // lazy initialiser's accessor.
            let descriptor = batch.descriptors + index &* 16
            index &+= 1
            let address = descriptor.loadUnaligned(as: UInt64.self)
            let length = Int(descriptor.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let data = batch.area + Int(truncatingIfNeeded: address)
            // struct peregrine_metadata: the program's CLOCK_MONOTONIC stamp at data - 12.
            let stamp = Int64(bitPattern: data.loadUnaligned(fromByteOffset: -12, as: UInt64.self))
            let age = batch.monotonicNow &- stamp
            let time = age >= 0 && age < 60_000_000_000 ? batch.realtimeNow &- age : batch.realtimeNow
            return CapturedFrame(
                bytes: UnsafeRawBufferPointer(start: data, count: length), wireLength: length,
                timestamp: Timestamp(nanoseconds: time), linkType: batch.linkType)
        }
    }
}

/// Counts for one AF_XDP socket since it was bound (`struct xdp_statistics`; the kernel never resets
/// them).
public struct AFXDPStatistics: Equatable, Sendable {
    /// Frames the kernel dropped before the receive ring: no free frame on the fill ring, or a frame
    /// longer than `frameSize - kernelHeadroom` (`rx_dropped`).
    public var receiveDropped: UInt64 = 0
    /// Descriptors on the fill ring with an invalid address (`rx_invalid_descs`): a bug, never traffic.
    public var invalidDescriptors: UInt64 = 0
    /// Frames dropped because the receive ring was full: the worker fell behind (`rx_ring_full`).
    public var receiveRingFull: UInt64 = 0
    /// Times the kernel found the fill ring empty (`rx_fill_ring_empty_descs`). Counted per UMEM: the
    /// sockets sharing one show the same value. Each time is also a drop in `receiveDropped`.
    public var fillRingEmpty: UInt64 = 0
    /// Transmit counters (`tx_invalid_descs`, `tx_ring_empty_descs`); these sockets never transmit.
    public var transmitInvalidDescriptors: UInt64 = 0
    public var transmitRingEmpty: UInt64 = 0
    /// Frames handed to `receive` callbacks.
    public var delivered: UInt64 = 0
    /// Times a batch's frames did not all fit on the fill ring at once and the source yielded the CPU
    /// until the kernel published its progress (see `AFXDPSource.receive`); not a loss.
    public var refillWaits: UInt64 = 0

    /// Every frame the kernel redirected to the socket and then lost: `receiveDropped + receiveRingFull`.
    public var drops: UInt64 { receiveDropped &+ receiveRingFull }

    /// All zero.
    public init() {}
}
