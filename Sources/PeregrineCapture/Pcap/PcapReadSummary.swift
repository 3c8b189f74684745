// SPDX-License-Identifier: Apache-2.0

/// What a read loop handed out: counts over the frames that passed the filter.
public struct PcapReadSummary: Equatable, Sendable {
    /// Frames delivered.
    public var packets: Int = 0
    /// Bytes captured (sum of `caplen`).
    public var capturedBytes: Int = 0
    /// Bytes on the wire (sum of `len`).
    public var wireBytes: Int = 0
    /// Frames cut short by the capture's snapshot length (`caplen < len`).
    public var truncatedPackets: Int = 0

    /// An empty summary.
    public init() {}

    /// Adds one frame's lengths.
    @inlinable
    public mutating func count(capturedLength: Int, wireLength: Int) {
        packets &+= 1
        capturedBytes &+= capturedLength
        wireBytes &+= wireLength
        if capturedLength < wireLength { truncatedPackets &+= 1 }
    }

    /// The frames counted here and not in `earlier`, an earlier value of the same summary.
    public func since(_ earlier: PcapReadSummary) -> PcapReadSummary {
        var d = PcapReadSummary()
        d.packets = packets &- earlier.packets
        d.capturedBytes = capturedBytes &- earlier.capturedBytes
        d.wireBytes = wireBytes &- earlier.wireBytes
        d.truncatedPackets = truncatedPackets &- earlier.truncatedPackets
        return d
    }
}

/// Capture statistics in the shape `pcap_stats` gives them.
///
/// The corresponding C struct is `struct pcap_stat`. Files have none (libpcap: "Statistics aren't
/// available from savefiles"), so `PcapFileSource.captureStatistics()` returns `nil`.
public struct PcapCaptureStatistics: Equatable, Sendable {
    /// Packets received (`ps_recv`).
    public var received: UInt32
    /// Packets dropped for lack of buffer space (`ps_drop`).
    public var dropped: UInt32
    /// Packets dropped by the interface or its driver (`ps_ifdrop`).
    public var interfaceDropped: UInt32

    /// Creates statistics from the three `pcap_stat` counters.
    public init(received: UInt32, dropped: UInt32, interfaceDropped: UInt32) {
        self.received = received
        self.dropped = dropped
        self.interfaceDropped = interfaceDropped
    }
}
