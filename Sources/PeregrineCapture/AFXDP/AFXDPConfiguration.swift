// SPDX-License-Identifier: Apache-2.0
import Glibc

/// The memory and rings of one AF_XDP socket.
///
/// Every socket of `AFXDPLayout.socketPerQueue` gets its own UMEM of `frameCount` frames; the
/// sockets of `AFXDPLayout.sharedQueue` share one UMEM (the kernel allows one per queue), sized
/// `frameCount` frames per socket, with one fill ring of `fillRingSize` entries per socket rounded up
/// to a power of two. The defaults (65536 frames of 2048 bytes: 128 MiB per socket, as much as an
/// AF_PACKET socket's default ring; a receive ring of 32768) follow linux-capture-facts.md §3.3: 4096
/// frames of 2 KiB lost 15% of a top-speed replay to an empty fill ring with two workers on two busy
/// cores, 16384 frames shared by two sockets lost nothing; and the live benchmark (README): on the
/// shared 2-vCPU VM a worker can be kept off its CPU for a few hundred milliseconds, and a 2048-entry
/// receive ring lost 801 of 313,934 frames, an 8192-entry one 803 and 22,061 (`rx_ring_full`), where
/// AF_PACKET's 128 MiB rings lost none. 2 KiB frames hold 1792 bytes: a 1500-byte MTU with two VLAN
/// tags; `AFXDPGroup` refuses a larger MTU, naming the frame size to set.
public struct AFXDPConfiguration: Sendable, Equatable {
    /// The headroom the kernel keeps before every received frame (`XDP_PACKET_HEADROOM`): where the XDP
    /// program's metadata (`struct peregrine_metadata`: capture time and flow hash, 12 bytes) sits,
    /// and why a frame holds `frameSize - 256` bytes.
    public static let kernelHeadroom = 256

    /// Frames of the UMEM per socket.
    public var frameCount: Int = 65536
    /// Bytes per frame: a power of two from 2048 to the page size (aligned UMEM chunks). A received
    /// packet has `frameSize - kernelHeadroom` bytes; a longer one is dropped by the kernel and
    /// counted in `AFXDPStatistics.receiveDropped`.
    public var frameSize: Int = 2048
    /// Fill ring entries per socket: a power of two, at least `frameCount`, so that every frame can
    /// be handed back at once and a refill never finds the ring full.
    public var fillRingSize: Int = 65536
    /// Completion ring entries (a power of two). The kernel requires the ring with every UMEM; only
    /// transmission uses it, and these sockets only receive.
    public var completionRingSize: Int = 64
    /// Receive ring entries per socket (a power of two): how many received frames may wait for the
    /// worker before the kernel drops (`AFXDPStatistics.receiveRingFull`).
    public var receiveRingSize: Int = 32768
    /// The most frames one `AFXDPSource.receive` call hands over (suricata's and libxdp's samples use 64).
    public var batchSize: Int = 64
    /// How long a source sleeps on an empty receive ring while traffic flows (a frame came in the last
    /// 100 ms), instead of waiting in `poll`; 0 always polls. 200 µs: linux-capture-facts.md §3.4
    /// measured about a quarter of the CPU per frame that `poll` costs; the receive ring must hold what arrives
    /// meanwhile (2048 entries = 10 Mpps for 200 µs).
    public var idlePauseMicroseconds: Int = 200
    /// Try zero-copy (`XDP_ZEROCOPY`) first and fall back to copy mode when the driver has none (veth);
    /// `false` binds in copy mode (`XDP_COPY`) directly, as does generic mode. `AFXDPSource.isZeroCopy`
    /// says what was granted.
    public var preferZeroCopy: Bool = true
    /// The NUMA node the UMEM memory is bound to (`mbind(MPOL_BIND)`), normally the NIC's
    /// (`NetworkInterface.numaNode`); `nil` leaves the placement to the kernel's first-touch policy, on
    /// the node of the thread that opens the group.
    public var numaNode: Int? = nil

    /// The defaults described above.
    public init() {}

    /// Checks what the kernel would refuse with a bare `EINVAL`, to say which value is wrong.
    func validate() throws(AFXDPError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard frameSize >= 2048, frameSize <= page, frameSize.nonzeroBitCount == 1 else {
            throw .invalidConfiguration("frame size \(frameSize) must be a power of two from 2048 to the page size \(page)")
        }
        guard frameCount > 0, frameCount <= Int(UInt32.max) / frameSize else {
            throw .invalidConfiguration("frame count \(frameCount) must be positive and the UMEM under 4 GiB")
        }
        for (name, size) in [
            ("fill", fillRingSize), ("completion", completionRingSize), ("receive", receiveRingSize),
        ] where size <= 0 || size.nonzeroBitCount != 1 || size > 1 << 24 {
            throw .invalidConfiguration("\(name) ring size \(size) must be a power of two up to 2^24")
        }
        guard fillRingSize >= frameCount else {
            throw .invalidConfiguration(
                "fill ring size \(fillRingSize) is smaller than the frame count \(frameCount): frames could not all be "
                    + "handed back to the kernel")
        }
        guard batchSize > 0, batchSize <= receiveRingSize else {
            throw .invalidConfiguration("batch size \(batchSize) must be from 1 to the receive ring size \(receiveRingSize)")
        }
        guard (0...100_000).contains(idlePauseMicroseconds) else {
            throw .invalidConfiguration("idle pause \(idlePauseMicroseconds) µs must be from 0 to 100000")
        }
        if let numaNode, numaNode < 0 || numaNode >= 1024 {
            throw .invalidConfiguration("NUMA node \(numaNode) is out of range")
        }
    }
}
