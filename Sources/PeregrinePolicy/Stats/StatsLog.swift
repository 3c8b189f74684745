// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs

/// The native counterpart of Zeek's `policy/misc/stats.zeek`: one stats.log line per node and
/// report interval (`Stats::report_interval`, 5 minutes by default).
///
/// Each worker writes its own lines, with its own name in `peer`, as each node of a Zeek cluster
/// does; the engine fills a ``Sample`` from the worker's plain counters. Counts named "since the
/// last stats interval" in Zeek are differences of cumulative counters, which the caller takes.
public enum StatsLog {
    /// stats.log's columns, in the order of `Stats::Info` (`zeek-logs.md` §17).
    public static let schema = LogSchema(
        id: 13, path: "stats",
        columns: [
            LogColumn("ts", .time), LogColumn("peer", .string), LogColumn("mem", .count),
            LogColumn("pkts_proc", .count), LogColumn("bytes_recv", .count), LogColumn("pkts_dropped", .count),
            LogColumn("pkts_link", .count), LogColumn("pkt_lag", .interval), LogColumn("pkts_filtered", .count),
            LogColumn("events_proc", .count), LogColumn("events_queued", .count),
            LogColumn("active_tcp_conns", .count), LogColumn("active_udp_conns", .count),
            LogColumn("active_icmp_conns", .count), LogColumn("tcp_conns", .count), LogColumn("udp_conns", .count),
            LogColumn("icmp_conns", .count), LogColumn("timers", .count), LogColumn("active_timers", .count),
            LogColumn("files", .count), LogColumn("active_files", .count), LogColumn("dns_requests", .count),
            LogColumn("active_dns_requests", .count), LogColumn("reassem_tcp_size", .count),
            LogColumn("reassem_file_size", .count), LogColumn("reassem_frag_size", .count),
            LogColumn("reassem_unknown_size", .count),
        ])

    /// One line's values. Interval counts are already differences; `active*` and `reassem*` are
    /// current values.
    public struct Sample: Sendable, Equatable {
        public var time = Timestamp.zero
        /// Memory in use in MB (`get_proc_stats()$mem / 1048576`).
        public var memoryMB: UInt64 = 0
        public var packets: UInt64 = 0
        public var bytes: UInt64 = 0
        /// Capture-source figures, only when reading live traffic (unset otherwise, as in Zeek).
        public var live: Live? = nil
        public var eventsProcessed: UInt64 = 0
        public var eventsQueued: UInt64 = 0
        public var activeTCP: UInt64 = 0
        public var activeUDP: UInt64 = 0
        public var activeICMP: UInt64 = 0
        public var tcp: UInt64 = 0
        public var udp: UInt64 = 0
        public var icmp: UInt64 = 0
        public var timers: UInt64 = 0
        public var activeTimers: UInt64 = 0
        public var files: UInt64 = 0
        public var activeFiles: UInt64 = 0
        public var dnsRequests: UInt64 = 0
        public var activeDNSRequests: UInt64 = 0
        public var reassemblyTCP: UInt64 = 0
        public var reassemblyFile: UInt64 = 0
        public var reassemblyFragments: UInt64 = 0
        public var reassemblyUnknown: UInt64 = 0

        public init() {}
    }

    /// The columns Zeek fills only when `reading_live_traffic()`.
    public struct Live: Sendable, Equatable {
        public var dropped: UInt64
        public var link: UInt64
        /// Wall clock minus network time.
        public var lag: Interval

        public init(dropped: UInt64, link: UInt64, lag: Interval) {
            self.dropped = dropped
            self.link = link
            self.lag = lag
        }
    }

    /// Writes one line for node `peer`.
    public static func write(_ s: Sample, peer: String, logs: inout LogStreams) {
        var r = LogRecordEncoder(schema: schema)
        r.time(s.time)
        r.string(peer)
        r.count(s.memoryMB)
        r.count(s.packets)
        r.count(s.bytes)
        if let live = s.live {
            r.count(live.dropped)
            r.count(live.link)
            r.interval(live.lag)
        } else {
            r.unset()
            r.unset()
            r.unset()
        }
        // `pkts_filtered`: set by Zeek only for sources reporting it (none of ours does).
        r.unset()
        for v in [
            s.eventsProcessed, s.eventsQueued, s.activeTCP, s.activeUDP, s.activeICMP, s.tcp, s.udp, s.icmp,
            s.timers, s.activeTimers, s.files, s.activeFiles, s.dnsRequests, s.activeDNSRequests, s.reassemblyTCP,
            s.reassemblyFile, s.reassemblyFragments, s.reassemblyUnknown,
        ] {
            r.count(v)
        }
        logs.write(r)
    }
}
