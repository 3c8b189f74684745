// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineCapture
import PeregrineCore
import PeregrineLogs
import PeregrineSystem
import Prometheus
import Synchronization

/// The live run's Prometheus endpoint (`--metrics HOST:PORT`, `metrics.listen` in peregrine.yaml):
/// `GET /metrics` answers with the per-worker counters in Prometheus' text format (swift-prometheus'
/// registry), read at scrape time from what the workers publish about once a second
/// (`LiveRun.WorkerPulse`) and from their log rings. Nothing here touches a worker's state.
///
/// | metric | type | meaning |
/// | --- | --- | --- |
/// | `peregrine_packets_total{worker}` | counter | frames the worker processed |
/// | `peregrine_kernel_packets_total{worker}` | counter | frames the kernel handed to its sockets |
/// | `peregrine_kernel_drops_total{worker}` | counter | frames the kernel dropped for a full ring |
/// | `peregrine_connections{worker}` | gauge | connections in its flow table |
/// | `peregrine_flow_table_capacity{worker}` | gauge | the most connections its table holds |
/// | `peregrine_tcp_acks_total{worker}` | counter | ACKs of new TCP data (capture_loss.log's `acks`) |
/// | `peregrine_tcp_gaps_total{worker}` | counter | those that acknowledged data never seen (`gaps`) |
/// | `peregrine_shunted_connections_total{worker}` | counter | connections it shunted to the kernel (`--shunt`) |
/// | `peregrine_shunt_restored_packets_total{worker}` | counter | packets the kernel dropped for them, back in conn.log |
/// | `peregrine_log_records_total{worker}` | counter | log records it wrote |
/// | `peregrine_log_ring_full_waits_total{worker}` | counter | times it waited on a full log ring |
/// | `peregrine_log_written_records_total` | counter | records the writer thread wrote to files |
/// | `peregrine_log_bytes_total` | counter | bytes that reached the log files |
/// | `peregrine_log_lost_records_total` | counter | records lost to write errors (a full disk) |
/// | `peregrine_log_write_failures_total` | counter | runs of failing log writes |
/// | `peregrine_log_writes_failing` | gauge | 1 while log writes fail |
///
/// Capture loss in percent over a window is `100 * rate(gaps) / rate(acks)`, as capture_loss.log
/// computes it per interval.
/// | `peregrine_xdp_rx_dropped_total{worker}` | counter | AF_XDP: frames the kernel redirected to its sockets and dropped (no free UMEM frame, too long) |
/// | `peregrine_xdp_rx_ring_full_total{worker}` | counter | AF_XDP: frames dropped because its receive ring was full |
/// | `peregrine_xdp_fill_ring_empty_total{worker}` | counter | AF_XDP: times the kernel found its UMEM's fill ring empty (per UMEM: workers sharing one show the same count) |
/// | `peregrine_xdp_invalid_descriptors_total{worker}` | counter | AF_XDP: invalid fill-ring entries (a bug) |
/// | `peregrine_xdp_program_<counter>_total{interface}` | counter | AF_XDP: the XDP program's per-CPU counters summed: `packets`, `not_ip`, `filtered`, `shunted`, `shunt_passed`, `redirected`, `no_socket` (no socket in the entry: the frame went to the kernel stack, not to a worker), `no_metadata` |
///
/// The `xdp` socket metrics appear only when the run captures with AF_XDP, the program's also when it
/// shunts under AF_PACKET (label `interface`: every interface, comma-separated, for that one program);
/// the program's are read from its
/// map at scrape time (one `bpf_map_lookup_elem` per counter), the sockets' from the workers' readings.
///
/// One thread serves one request at a time (a scrape every few seconds); it polls the listening
/// socket with a timeout so that the run's stop ends it.
final class MetricsServer: @unchecked Sendable {
    /// The address it listens on, as given (`127.0.0.1:9911`, `[::1]:9911`, `0.0.0.0:9911`).
    let address: String
    /// The port bound (the one asked for, or the kernel's choice for 0).
    let port: UInt16
    private let descriptor: Int32
    private let registry = PrometheusCollectorRegistry()
    private let pulses: [LiveRun.WorkerPulse]
    private let rings: [ByteRing]
    private let writer: LogWriterHealth
    private let stop: StopFlag
    private let programs: [(interface: String, program: XDPProgram)]
    private var last: [String: UInt64] = [:]
    private var thread: JoinableThread?

    /// Binds and listens on `address` (`HOST:PORT`; IPv6 hosts in brackets).
    /// - Throws: `EngineError` for a malformed address or a socket that cannot be bound.
    init(
        address: String, pulses: [LiveRun.WorkerPulse], rings: [ByteRing], writer: LogWriterHealth, stop: StopFlag,
        programs: [(interface: String, program: XDPProgram)] = []
    ) throws {
        self.address = address
        self.programs = programs
        self.pulses = pulses
        self.rings = rings
        self.writer = writer
        self.stop = stop
        var (family, storage, length) = try Self.socketAddress(address)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EngineError("metrics: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw EngineError("metrics: cannot listen on \(address): \(reason)")
        }
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        let bytes = withUnsafeBytes(of: storage) { Array($0.prefix(4)) }
        self.port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])  // sin_port and sin6_port sit at offset 2
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The socket address of `HOST:PORT` (IPv6 hosts in brackets), for the server and ``MetricsClient``.
    /// - Throws: `EngineError` naming the address when it is malformed.
    static func socketAddress(_ address: String) throws -> (family: Int32, storage: sockaddr_storage, length: socklen_t) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw EngineError("metrics address '\(address)': expected HOST:PORT")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var storage = sockaddr_storage()
        if host.contains(":") {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &a.sin6_addr) == 1 else { throw EngineError("metrics address '\(address)': bad IPv6 host") }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: a, as: sockaddr_in6.self) }
            return (AF_INET6, storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else { throw EngineError("metrics address '\(address)': bad IPv4 host") }
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: a, as: sockaddr_in.self) }
        return (AF_INET, storage, socklen_t(MemoryLayout<sockaddr_in>.size))
    }

    func start() {
        thread = JoinableThread {
            CPUSet.nameCurrentThread("peregrine-metrics")
            self.serve()
        }
    }

    func join() {
        thread?.join()
        thread = nil
    }

    private func serve() {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while !stop.isSet {
            guard poll(&poller, 1, 200) > 0 else { continue }
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { continue }
            answer(client)
            close(client)
        }
    }

    /// Reads the request head (up to 4 KiB, 2 s at most) and answers it.
    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8](repeating: 0, count: 4096)
        let n = request.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return }
        let head = String(decoding: request.prefix(n), as: UTF8.self)
        let body: [UInt8]
        let status: String
        if head.hasPrefix("GET /metrics ") || head.hasPrefix("GET /metrics?") {
            status = "200 OK"
            body = exposition()
        } else {
            status = "404 Not Found"
            body = Array("only GET /metrics is served here\n".utf8)
        }
        let response = Array(
            ("HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n").utf8) + body
        var sent = 0
        while sent < response.count {
            let k = response.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if k <= 0 { return }
            sent += k
        }
    }

    /// The registry's text after bringing every metric up to the workers' latest readings.
    func exposition() -> [UInt8] {
        for (i, pulse) in pulses.enumerated() {
            let labels = [("worker", String(i))]
            advance(packets, labels, to: pulse.packets.load(ordering: .relaxed))
            advance(kernelPackets, labels, to: pulse.kernelPackets.load(ordering: .relaxed))
            advance(kernelDrops, labels, to: pulse.kernelDrops.load(ordering: .relaxed))
            advance(records, labels, to: pulse.records.load(ordering: .relaxed))
            advance(ringWaits, labels, to: rings[i].fullWaits)
            advance(shunted, labels, to: pulse.shunted.load(ordering: .relaxed))
            advance(shuntRestored, labels, to: pulse.shuntRestoredPackets.load(ordering: .relaxed))
            advance(acks, labels, to: pulse.acks.load(ordering: .relaxed))
            advance(gaps, labels, to: pulse.gaps.load(ordering: .relaxed))
            registry.makeGauge(descriptor: connections, labels: labels).set(Int64(pulse.flows.load(ordering: .relaxed)))
            registry.makeGauge(descriptor: flowCapacity, labels: labels).set(
                Int64(pulse.flowCapacity.load(ordering: .relaxed)))
            if pulse.isXDP {
                advance(xdpReceiveDropped, labels, to: pulse.xdpReceiveDropped.load(ordering: .relaxed))
                advance(xdpReceiveRingFull, labels, to: pulse.xdpReceiveRingFull.load(ordering: .relaxed))
                advance(xdpFillRingEmpty, labels, to: pulse.xdpFillRingEmpty.load(ordering: .relaxed))
                advance(xdpInvalidDescriptors, labels, to: pulse.xdpInvalidDescriptors.load(ordering: .relaxed))
            }
        }
        for (interface, program) in programs {
            let labels = [("interface", interface)]
            for counter in XDPProgram.Counter.allCases {
                guard let value = try? program.count(counter) else { continue }
                advance(programCounters[Int(counter.rawValue)], labels, to: value)
            }
        }
        advance(writtenRecords, [], to: writer.records.load(ordering: .relaxed))
        advance(logBytes, [], to: writer.bytes.load(ordering: .relaxed))
        advance(lostRecords, [], to: writer.lostRecords.load(ordering: .relaxed))
        advance(writeFailures, [], to: writer.failures.load(ordering: .relaxed))
        registry.makeGauge(descriptor: writesFailing).set(Int64(writer.failing.load(ordering: .relaxed) ? 1 : 0))
        return registry.emitToBuffer()
    }

    static func counter(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "peregrine", metricName: name, unitName: "total", helpText: help)
    }
    // Instance constants: the library's descriptor type is not Sendable, so it cannot be a static.
    private let packets = MetricsServer.counter("packets", "Frames the worker processed.")
    private let kernelPackets = MetricsServer.counter("kernel_packets", "Frames the kernel handed to the worker's sockets.")
    private let kernelDrops = MetricsServer.counter("kernel_drops", "Frames the kernel dropped because the worker's ring was full.")
    private let records = MetricsServer.counter("log_records", "Log records the worker wrote.")
    private let ringWaits = MetricsServer.counter("log_ring_full_waits", "Times the worker waited on a full log ring.")
    private let xdpReceiveDropped = MetricsServer.counter(
        "xdp_rx_dropped", "AF_XDP frames redirected to the worker's sockets and dropped by the kernel (no free UMEM frame, or too long).")
    private let xdpReceiveRingFull = MetricsServer.counter(
        "xdp_rx_ring_full", "AF_XDP frames dropped because the worker's receive ring was full.")
    private let xdpFillRingEmpty = MetricsServer.counter(
        "xdp_fill_ring_empty", "Times the kernel found the fill ring of the worker's UMEM empty (per UMEM).")
    private let xdpInvalidDescriptors = MetricsServer.counter(
        "xdp_invalid_descriptors", "Invalid descriptors on the worker's fill ring.")
    private let programCounters = XDPProgram.Counter.allCases.map { counter in
        MetricsServer.counter(
            "xdp_program_" + counter.name,
            counter == .noSocket
                ? "Frames the XDP program found no socket for: passed to the kernel stack, not captured."
                : "The XDP program's \(counter.name) counter, summed over CPUs.")
    }
    private let connections = MetricNameDescriptor(
        namespace: "peregrine", metricName: "connections", unitName: "", helpText: "Connections in the worker's flow table.")
    private let flowCapacity = MetricNameDescriptor(
        namespace: "peregrine", metricName: "flow_table_capacity", unitName: "",
        helpText: "The most connections the worker's flow table holds; when full, the longest idle is evicted.")
    private let shunted = MetricsServer.counter("shunted_connections", "Connections the worker shunted to the kernel.")
    private let shuntRestored = MetricsServer.counter(
        "shunt_restored_packets", "Packets the kernel dropped for shunted connections, taken back into conn.log.")
    private let acks = MetricsServer.counter("tcp_acks", "ACKs of new TCP data the worker saw (capture_loss.log acks).")
    private let gaps = MetricsServer.counter(
        "tcp_gaps", "ACKs of TCP data the worker never saw (capture_loss.log gaps): loss before the sensor or in it.")
    private let writtenRecords = MetricsServer.counter("log_written_records", "Log records written to files.")
    private let logBytes = MetricsServer.counter("log_bytes", "Bytes written to the log files.")
    private let lostRecords = MetricsServer.counter("log_lost_records", "Log records lost to write errors (a full disk).")
    private let writeFailures = MetricsServer.counter("log_write_failures", "Runs of failing log writes.")
    private let writesFailing = MetricNameDescriptor(
        namespace: "peregrine", metricName: "log_writes_failing", unitName: "", helpText: "1 while log writes fail.")

    /// Counters only go up: each is incremented by what the worker's total grew since the last scrape.
    private func advance(_ descriptor: MetricNameDescriptor, _ labels: [(String, String)], to total: UInt64) {
        let key = descriptor.name + labels.map { $0.1 }.joined()
        let previous = last[key] ?? 0
        let counter = registry.makeCounter(descriptor: descriptor, labels: labels)
        if total > previous { counter.increment(by: Int64(total - previous)) }
        last[key] = max(previous, total)
    }
}
