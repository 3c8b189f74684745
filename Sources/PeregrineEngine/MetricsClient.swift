// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Reads a running sensor's metrics endpoint (``MetricsServer``): `peregrine status` and the tests.
public enum MetricsClient {
    /// One worker's line of `peregrine status`.
    public struct Worker: Equatable, Sendable {
        public var packets: UInt64 = 0
        public var kernelPackets: UInt64 = 0
        public var kernelDrops: UInt64 = 0
        public var connections: UInt64 = 0
        public var logRecords: UInt64 = 0
        public var logRingFullWaits: UInt64 = 0
        public var flowTableCapacity: UInt64 = 0
        /// ACKs of new TCP data, and those that acknowledged data never seen (capture loss).
        public var tcpAcks: UInt64 = 0
        public var tcpGaps: UInt64 = 0

        public init() {}
    }

    /// `GET /metrics` from `address` (`HOST:PORT`; IPv6 hosts in brackets), 2 s at most.
    /// - Throws: `EngineError` naming the address when nothing answers.
    public static func fetch(_ address: String) throws -> String {
        var (family, storage, length) = try MetricsServer.socketAddress(address)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EngineError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else {
            throw EngineError("no sensor answers on \(address): \(String(cString: strerror(errno))) (is it running with --metrics?)")
        }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer.prefix(n)
        }
        // The body follows the first empty line (CR LF CR LF).
        let end = response.indices.dropLast(3).first {
            response[$0] == 13 && response[$0 + 1] == 10 && response[$0 + 2] == 13 && response[$0 + 3] == 10
        }
        guard response.starts(with: Array("HTTP/1.1 200".utf8)), let end else {
            throw EngineError("\(address) did not answer GET /metrics")
        }
        return String(decoding: response[(end + 4)...], as: UTF8.self)
    }

    /// The writer thread's line of `peregrine status`.
    public struct Writer: Equatable, Sendable {
        public var records: UInt64 = 0
        public var bytes: UInt64 = 0
        public var lostRecords: UInt64 = 0
        public var failures: UInt64 = 0
        public var failing = false
        public init() {}
    }

    /// The writer thread's values of a `peregrine_*` exposition (the metrics without a label).
    public static func writer(_ exposition: String) -> Writer {
        var writer = Writer()
        for line in exposition.split(separator: "\n") where line.hasPrefix("peregrine_log") && !line.contains("{") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let v = UInt64(max(0, value))
            switch parts[0] {
            case "peregrine_log_written_records_total": writer.records = v
            case "peregrine_log_bytes_total": writer.bytes = v
            case "peregrine_log_lost_records_total": writer.lostRecords = v
            case "peregrine_log_write_failures_total": writer.failures = v
            case "peregrine_log_writes_failing": writer.failing = v != 0
            default: continue
            }
        }
        return writer
    }

    /// The per-worker values of a `peregrine_*` exposition, by worker index.
    public static func workers(_ exposition: String) -> [Int: Worker] {
        var workers: [Int: Worker] = [:]
        for line in exposition.split(separator: "\n") where line.hasPrefix("peregrine_") {
            guard let open = line.firstIndex(of: "{"), let close = line.firstIndex(of: "}"),
                let quote = line[open...].firstIndex(of: "\""),
                let index = Int(line[line.index(after: quote)...].prefix { $0 != "\"" }),
                let value = Double(line[line.index(after: close)...].trimmingCharacters(in: " "))
            else { continue }
            let v = UInt64(max(0, value))
            var w = workers[index] ?? Worker()
            switch line[..<open] {
            case "peregrine_packets_total": w.packets = v
            case "peregrine_kernel_packets_total": w.kernelPackets = v
            case "peregrine_kernel_drops_total": w.kernelDrops = v
            case "peregrine_connections": w.connections = v
            case "peregrine_log_records_total": w.logRecords = v
            case "peregrine_log_ring_full_waits_total": w.logRingFullWaits = v
            case "peregrine_flow_table_capacity": w.flowTableCapacity = v
            case "peregrine_tcp_acks_total": w.tcpAcks = v
            case "peregrine_tcp_gaps_total": w.tcpGaps = v
            default: continue
            }
            workers[index] = w
        }
        return workers
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return s
    }
}
