// SPDX-License-Identifier: Apache-2.0

/// The bounds of TCP reassembly, one value per worker, fixed at start.
///
/// The first three are Zeek's own options (`scripts/base/init-bare.zeek`, read by
/// `TCP_Reassembler.cc`) with Zeek's defaults, so the same traffic gives the same weirds and gaps.
/// The last three bound Peregrine's memory, which Zeek leaves unbounded: out-of-order data is
/// copied into fixed-size blocks of one ``ReassemblyPool`` allocated when the worker starts.
///
/// Zeek's `tcp_max_old_segments` (default 0: keep no acknowledged segments for overlap checks)
/// and `tcp_match_undelivered` (feeds undelivered data to the signature engine, which Peregrine
/// does not have yet) are not settings here: the reassembler behaves as Zeek does with
/// `tcp_max_old_segments = 0`.
public struct TCPReassemblyLimits: Sendable, Equatable {
    /// `tcp_max_initial_window` (Zeek default 16384): once an endpoint has sent more than this
    /// while the peer acknowledged none of it, delivered data is no longer held for acks (Zeek
    /// presumes the acks are not visible, e.g. split routing). 0 disables the rule.
    public var maxInitialWindow: UInt64 = 16384
    /// `tcp_max_above_hole_without_any_acks` (Zeek default 16384): more undelivered bytes than
    /// this above a hole while nothing was acked raises `above_hole_data_without_any_acks` and
    /// stops reassembly of that direction. 0 disables the rule.
    public var maxAboveHoleWithoutAnyAcks: UInt64 = 16384
    /// `tcp_excessive_data_without_further_acks` (Zeek default 10 MiB): more data than this
    /// waiting for acks (delivered or not) raises `excessive_data_without_further_acks` and
    /// stops reassembly of that direction. 0 disables the rule.
    public var excessiveDataWithoutFurtherAcks: UInt64 = 10 * 1024 * 1024
    /// Bytes of the per-worker pool that holds out-of-order data (`tcp_reassembly.pool_bytes`).
    /// 64 MiB holds the largest per-connection share ten times over; size it to the expected
    /// number of connections with holes at once (lossy links need more).
    public var poolCapacityBytes: Int = 64 * 1024 * 1024
    /// Size of one pool block. A segment takes `ceil(length / blockSize)` blocks; 512 wastes at
    /// most a quarter of a block on average for full-size Ethernet segments (1448 bytes: 3 blocks)
    /// while keeping the per-block bookkeeping (4 bytes) under 1 %.
    public var blockSize: Int = 512
    /// Most out-of-order bytes one direction of one connection may hold; more is dropped and
    /// counted (`tcp_reassembly.segments_dropped_connection_limit`), and reported as a content
    /// gap once acked. 6 MiB is Linux's default `tcp_rmem` maximum (6291456): a default Linux
    /// receiver never advertises a larger window, so a conforming sender cannot have more data
    /// in flight above a hole.
    public var maxBufferedBytesPerConnection: UInt64 = 6_291_456

    /// The defaults above.
    public init() {}
}
