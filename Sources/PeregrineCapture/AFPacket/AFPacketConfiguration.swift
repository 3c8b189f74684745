// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineSystem

/// The shape of one worker's TPACKET_V3 ring and of the fanout group its socket joins.
///
/// The defaults give every worker 128 MiB of ring, as Zeek's AF_Packet plugin does (`buffer_size`), cut
/// into 1 MiB blocks as Suricata recommends for TPACKET_V3: a block is handed to user space when it is
/// full or when `blockTimeoutMilliseconds` passed since its first packet, so small blocks keep latency
/// low at low rates and large ones cut per-block overhead at high rates.
public struct AFPacketConfiguration: Sendable, Equatable {
    /// Bytes per block: a multiple of the page size; a packet larger than a block is cut to fit.
    public var blockSize: Int = 1 << 20
    /// Blocks per ring (ring memory = `blockSize × blockCount`, allocated by the kernel per socket and
    /// not charged to RLIMIT_MEMLOCK).
    public var blockCount: Int = 128
    /// The nominal frame size the kernel checks the request against (`tp_frame_size`): a multiple of 16,
    /// at least the 68-byte frame header. In V3 packets are packed back to back, so it only enters the
    /// request's arithmetic (`tp_frame_nr`), not how much a packet occupies.
    public var frameSize: Int = 2048
    /// How long the kernel keeps a partly filled block before handing it over (`tp_retire_blk_tov`).
    public var blockTimeoutMilliseconds: Int = 10
    /// How the group spreads packets; `.hash` is symmetric (both directions of a flow to one socket).
    public var fanoutMode: PacketFanoutMode = .hash
    /// The fanout group id; `nil` derives it from the interface index, so that every interface gets its
    /// own group (one id cannot span two interfaces). Another process that joins the same id on the same
    /// interface with the same mode shares the group's traffic; give concurrent captures distinct ids.
    public var fanoutGroup: UInt16? = nil
    /// `PACKET_FANOUT_FLAG_DEFRAG`: the kernel reassembles IPv4 fragments before the fanout choice (the
    /// fanout hash reads ports, which only the first fragment carries), so a fragmented datagram reaches
    /// its flow's worker, reassembled. Off, fragments hash on addresses alone and may land elsewhere.
    public var defragment: Bool = true
    /// For `.ebpf` fanout: the descriptor of the loaded `BPF_PROG_TYPE_SOCKET_FILTER` program that picks
    /// the socket (the project's symmetric hash from `bpf/`, loaded by `FanoutProgram`). Required for `.ebpf`,
    /// ignored otherwise.
    public var fanoutProgramDescriptor: CInt? = nil
    /// Whether the socket puts the interface into promiscuous mode (a mirror port needs it).
    public var promiscuous: Bool = true
    /// A tcpdump-style capture filter compiled with libpcap and run in the kernel; `nil` for none.
    public var filter: String? = nil

    /// The defaults described above.
    public init() {}

    /// Checks what the kernel would reject with a bare `EINVAL`, to say which value is wrong.
    package func validate() throws(AFPacketError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard blockSize > 0, blockSize % page == 0 else {
            throw .invalidConfiguration("block size \(blockSize) is not a positive multiple of the page size \(page)")
        }
        let minimumFrame = Int(TPacketV3Ring.frameHeaderLength + TPacketV3Ring.reservedHeadroom)
        guard frameSize >= minimumFrame, frameSize % 16 == 0, frameSize <= blockSize else {
            throw .invalidConfiguration(
                "frame size \(frameSize) must be a multiple of 16 between \(minimumFrame) and the block size")
        }
        guard blockCount > 0, (blockSize / frameSize) * blockCount <= Int(UInt32.max) else {
            throw .invalidConfiguration("block count \(blockCount) must be at least 1 and frames must fit 32 bits")
        }
        guard (0...Int(UInt32.max)).contains(blockTimeoutMilliseconds) else {
            throw .invalidConfiguration("block timeout \(blockTimeoutMilliseconds) ms is out of range")
        }
        if fanoutMode == .ebpf, fanoutProgramDescriptor == nil {
            throw .invalidConfiguration("eBPF fanout needs the descriptor of a loaded socket-filter program")
        }
    }
}
