// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineCore
import PeregrineEngine
import PeregrineSystem

/// Everything `/etc/peregrine/peregrine.yaml` can say: the engine's ``Configuration`` plus the live
/// settings it lacks (interfaces, capture mode, CPUs, ring and UMEM shapes, rotation, compression,
/// retention, which logs are on, the metrics address).
///
/// Precedence, lowest first: the defaults of this type and of `Configuration`, then the file
/// (``ConfigurationFile``), then the command line (``overridden(by:)``).
public struct SensorSettings: Sendable {
    /// Local networks, log directory and format, checksums, stats and capture-loss reports, workers,
    /// flow-table size: what offline and live runs share.
    public var engine = Configuration()
    /// The interfaces to capture on, in order (`-i`). Empty in the file means the command line names them.
    public var interfaces: [CaptureInterface] = []
    /// The capture path (`--capture`).
    public var captureMode: CaptureMode = .afPacket
    /// The CPUs workers are pinned to, one each in order (zeekctl's `pin_cpus`); `nil` lets the engine
    /// choose. Kept as text in `engine.cpuList` (`--cpus`), which the live run reads.
    public var cpus: CPUList? {
        get { engine.cpuList.flatMap { try? CPUList(parsing: $0) } }
        set { engine.cpuList = newValue?.text }
    }
    /// The TPACKET_V3 ring of each worker's socket on each interface: block size and count, frame size,
    /// block timeout. The fanout group comes from ``CaptureInterface/fanoutID``.
    public var ring = AFPacketConfiguration()
    /// The AF_XDP UMEM and rings of each worker's socket (``UMEMSettings/afXDP`` gives the live run's).
    public var umem = UMEMSettings()
    /// Which logs are written. Rotation, compression and retention are `engine`'s
    /// (`rotationInterval`, `logCompression`, `logRetentionAge`, `logRetentionBytes`).
    public var logFiles = LogFileSettings()
    /// Where Prometheus metrics are served (`host:port`); `nil` serves none.
    public var metricsAddress: ListenAddress? = nil

    /// The defaults described on each property.
    public init() {}
}

/// One capture interface and its fanout group.
public struct CaptureInterface: Sendable, Equatable {
    /// The interface name (`eth1`).
    public var name: String
    /// The `PACKET_FANOUT` group id (zeekctl's `af_packet_fanout_id`, Zeek's `AF_Packet::fanout_id`);
    /// `nil` derives one from the interface index (``AFPacketConfiguration/fanoutGroup``).
    public var fanoutID: UInt16?

    /// - Parameters:
    ///   - name: the interface name.
    ///   - fanoutID: the fanout group id, `nil` for the derived one.
    public init(name: String, fanoutID: UInt16? = nil) {
        self.name = name
        self.fanoutID = fanoutID
    }
}

/// A CPU list as the operator wrote it and the CPUs it names.
public struct CPUList: Sendable, Equatable {
    /// The list as given (`"2-5,8"`), for messages.
    public var text: String
    /// The CPUs, ascending.
    public var set: CPUSet

    /// Parses the cpuset(7) list format.
    /// - Throws: `SystemError.invalidValue` naming what is wrong with the list.
    public init(parsing text: String) throws(SystemError) {
        self.text = text
        self.set = try CPUSet(parsing: text)
    }
}

/// The shape of one AF_XDP socket's UMEM and rings (kernel `Documentation/networking/af_xdp.rst`).
public struct UMEMSettings: Sendable, Equatable {
    /// Bytes per UMEM frame (chunk): a power of two from 2048 to the page size in aligned mode.
    public var frameSize = 2048
    /// Frames in each socket's UMEM.
    public var frameCount = 65536
    /// Entries of the fill ring (a power of two, at least `frameCount`: every frame can go back at once).
    public var fillRingSize = 65536
    /// Entries of the completion ring (a power of two).
    public var completionRingSize = 2048
    /// Entries of the RX ring (a power of two).
    public var rxRingSize = 32768

    /// The defaults above (``AFXDPConfiguration``'s): 128 MiB of UMEM per socket.
    public init() {}

    /// The capture source's configuration with these sizes (the batch size and zero-copy preference
    /// keep their defaults).
    public var afXDP: AFXDPConfiguration {
        var configuration = AFXDPConfiguration()
        configuration.frameSize = frameSize
        configuration.frameCount = frameCount
        configuration.fillRingSize = fillRingSize
        configuration.completionRingSize = completionRingSize
        configuration.receiveRingSize = rxRingSize
        return configuration
    }

    /// UMEM bytes of one socket, `nil` on overflow.
    public var bytes: Int? {
        let (product, overflow) = frameSize.multipliedReportingOverflow(by: frameCount)
        return overflow ? nil : product
    }
}

/// Which log streams are written.
public struct LogFileSettings: Sendable, Equatable {
    /// Log streams (paths, `conn`, `dns`) that are not written (`LogWriterSet`'s `disabledPaths`,
    /// Zeek's `Log::disable_stream`). Empty writes all.
    public var disabledLogs: Set<String> = []

    /// Every log on.
    public init() {}

    /// Whether the stream with this path is written.
    public func isEnabled(_ path: String) -> Bool { !disabledLogs.contains(path) }
}

/// A `host:port` to listen on.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// An IPv4 or IPv6 address (no brackets) or a host name such as `localhost`.
    public var host: String
    public var port: UInt16

    /// Parses `127.0.0.1:9911`, `[::1]:9911` or `localhost:9911`; `nil` when malformed or the port is 0.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = Substring(text[..<colon])
        guard let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        if host.first == "[" {
            guard host.last == "]" else { return nil }
            host = host.dropFirst().dropLast()
            guard IPAddress(host) != nil, host.contains(":") else { return nil }
        } else {
            // A host name or an IPv4 address; all digits and dots must be a valid address.
            guard !host.isEmpty,
                host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
            else { return nil }
            if host.allSatisfy({ $0.isNumber || $0 == "." }), IPAddress(host) == nil { return nil }
        }
        self.host = String(host)
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
