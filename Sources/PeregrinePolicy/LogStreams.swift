// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's base scripts for conn.log, weird.log and tunnel.log: turns
/// connection state, weirds and tunnel events into log records and pushes them into the worker's
/// log ring, which the writer thread drains (`LogWriterThread`); dns.log's `DNSLog` and the other
/// stream policies write through it too.
///
/// Field lists and spellings are Zeek 9's (`zeek-logs.md` §3, §13, §21); `vlan`/`inner_vlan`
/// follow `policy/protocols/conn/vlan-logging` and `community_id`
/// `policy/protocols/conn/community-id-logging`, appended in the order those scripts add them.
public struct LogStreams {
    public let conn: LogSchema
    public let weird: LogSchema
    public let tunnel: LogSchema
    /// dns.log (`DNSLog` builds its records).
    public let dns: LogSchema
    /// ntp.log (`NTPLog` builds its records).
    public let ntp: LogSchema
    /// http.log (`HTTPLog`) and files.log (`FilesLog`).
    public let http: LogSchema
    public let files: LogSchema
    /// ftp.log (`FTPLog`).
    public let ftp: LogSchema
    /// smtp.log (`SMTPLog`).
    public let smtp: LogSchema
    /// analyzer.log (`AnalyzerLog`).
    public let analyzer: LogSchema
    /// Every stream above, for the writer thread's `LogWriterSet`.
    public var schemas: [LogSchema] {
        [conn, weird, tunnel, dns, ntp, http, files, SSLLog.schema, X509Log.schema, SSHLog.schema, ftp, smtp, analyzer,
         StatsLog.schema, CaptureLossLog.schema, DHCPLog.schema]
    }
    /// The worker's log ring; this struct is its single producer.
    public let ring: ByteRing
    var connRecord: LogRecordEncoder
    var weirdRecord: LogRecordEncoder
    var tunnelRecord: LogRecordEncoder
    /// Reused bytes for the `service` and `history` strings, so a record builds no `String`.
    var scratch: [UInt8] = []
    public var local: LocalNetworks
    let vlanColumns: Bool
    let communityIDSeed: UInt16?
    /// Records written per stream.
    public private(set) var connRecords: UInt64 = 0
    public private(set) var weirdRecords: UInt64 = 0
    public private(set) var tunnelRecords: UInt64 = 0
    /// Records of every stream this worker wrote (stats.log's stand-in for Zeek's event counts).
    public private(set) var records: UInt64 = 0

    static let idColumns = [
        LogColumn("id.orig_h", .addr), LogColumn("id.orig_p", .port), LogColumn("id.resp_h", .addr),
        LogColumn("id.resp_p", .port),
    ]

    /// - Parameters:
    ///   - ring: the worker's log ring, drained by the writer thread.
    ///   - local: `Site::local_nets`.
    ///   - vlanColumns: add `vlan` and `inner_vlan` to conn.log.
    ///   - communityIDSeed: add `community_id` to conn.log, hashed with this seed.
    public init(
        ring: ByteRing, local: LocalNetworks, vlanColumns: Bool, communityIDSeed: UInt16?
    ) {
        var connColumns = [LogColumn("ts", .time), LogColumn("uid", .string)] + Self.idColumns + [
            LogColumn("proto", .enum), LogColumn("service", .string), LogColumn("duration", .interval),
            LogColumn("orig_bytes", .count), LogColumn("resp_bytes", .count), LogColumn("conn_state", .string),
            LogColumn("local_orig", .bool), LogColumn("local_resp", .bool), LogColumn("missed_bytes", .count),
            LogColumn("history", .string), LogColumn("orig_pkts", .count), LogColumn("orig_ip_bytes", .count),
            LogColumn("resp_pkts", .count), LogColumn("resp_ip_bytes", .count),
            LogColumn("tunnel_parents", .set(.string)), LogColumn("ip_proto", .count),
        ]
        if vlanColumns { connColumns += [LogColumn("vlan", .int), LogColumn("inner_vlan", .int)] }
        if communityIDSeed != nil { connColumns.append(LogColumn("community_id", .string)) }
        conn = LogSchema(id: 0, path: "conn", columns: connColumns)
        weird = LogSchema(
            id: 1, path: "weird",
            columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + Self.idColumns + [
                LogColumn("name", .string), LogColumn("addl", .string), LogColumn("notice", .bool),
                LogColumn("peer", .string), LogColumn("source", .string),
            ])
        tunnel = LogSchema(
            id: 2, path: "tunnel",
            columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + Self.idColumns + [
                LogColumn("tunnel_type", .enum), LogColumn("action", .enum),
            ])
        dns = DNSLog.schema
        ntp = NTPLog.schema
        http = HTTPLog.schema
        files = FilesLog.schema
        ftp = FTPLog.schema
        smtp = SMTPLog.schema
        analyzer = AnalyzerLog.schema
        self.ring = ring
        connRecord = LogRecordEncoder(schema: conn)
        weirdRecord = LogRecordEncoder(schema: weird)
        tunnelRecord = LogRecordEncoder(schema: tunnel)
        self.local = local
        self.vlanColumns = vlanColumns
        self.communityIDSeed = communityIDSeed
    }

    /// Writes the conn.log line of a connection that is being removed (Zeek's
    /// `connection_state_remove` → `Conn::set_conn` → `Log::write`).
    /// - Parameter serviceNames: the name of each service id the connection confirmed.
    public mutating func logConnection(_ c: Connection, serviceNames: (UInt8) -> StaticString) {
        var r = connRecord
        r.reset()
        r.time(c.startTime)
        r.uid(c.uid)
        r.addr(c.originator)
        r.port(c.originatorPort)
        r.addr(c.responder)
        r.port(c.responderPort)
        r.enumValue(TransportName.name(ipProtocol: c.transportProtocol))
        if c.services.isEmpty {
            r.unset()
        } else {
            scratch.removeAll(keepingCapacity: true)
            for id in c.services.members {
                if !scratch.isEmpty { scratch.append(UInt8(ascii: ",")) }
                let name = serviceNames(id)
                scratch.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            }
            scratch.withUnsafeBytes { r.string($0) }
        }
        let duration = c.lastTime.since(c.startTime)
        let (origBytes, respBytes): (UInt64, UInt64)
        let state: StaticString
        switch c.transportProtocol {
        case 6:
            (origBytes, respBytes) = (c.tcp.originatorBytes, c.tcp.responderBytes)
            state = c.tcp.connState(history: c.history)
        case 17:
            (origBytes, respBytes) = (c.udp.originatorBytes, c.udp.responderBytes)
            state = c.udp.connState
        default:
            (origBytes, respBytes) = (UInt64(max(0, c.icmpOriginatorLength)), UInt64(max(0, c.icmpResponderLength)))
            state = ConnectionState.other
        }
        if duration > .zero {
            r.interval(duration)
            r.count(origBytes)
            r.count(respBytes)
        } else {
            r.unset()
            r.unset()
            r.unset()
        }
        r.string(state)
        if local.isEmpty {
            r.unset()
            r.unset()
        } else {
            r.bool(local.contains(c.originator))
            r.bool(local.contains(c.responder))
        }
        r.count(c.transportProtocol == 6 ? c.tcp.missedBytes : 0)
        if c.history.isEmpty {
            r.unset()
        } else {
            scratch.removeAll(keepingCapacity: true)
            c.history.write(to: &scratch)
            scratch.withUnsafeBytes { r.string($0) }
        }
        r.count(c.originatorPackets)
        r.count(c.originatorIPBytes)
        r.count(c.responderPackets)
        r.count(c.responderIPBytes)
        if c.tunnelParents.isEmpty {
            r.unset()
        } else {
            let parents = c.tunnelParents.members
            r.beginSet(count: parents.count)
            for p in parents { r.uid(p) }
        }
        r.count(UInt64(c.transportProtocol))
        if vlanColumns {
            if c.vlan != 0 { r.int(Int64(c.vlan)) } else { r.unset() }
            if c.innerVlan != 0 { r.int(Int64(c.innerVlan)) } else { r.unset() }
        }
        if let seed = communityIDSeed {
            r.string(
                CommunityID.v1(
                    seed: seed, originator: c.originator, originatorPort: c.originatorPort, responder: c.responder,
                    responderPort: c.responderPort, transportProtocol: c.transportProtocol, oneWayICMP: c.oneWayICMP))
        }
        write(r)
        connRecord = r
        connRecords &+= 1
    }

    /// Writes one weird.log line; `addl` is Zeek's additional information (unset when `nil`).
    public mutating func logWeird(_ w: Weird, scope: WeirdScope, at time: Timestamp, addl: UnsafeRawBufferPointer? = nil) {
        var r = weirdRecord
        r.reset()
        r.time(time)
        switch scope {
        case .connection(let uid, let oh, let op, let rh, let rp):
            r.uid(uid)
            r.addr(oh)
            r.port(op)
            r.addr(rh)
            r.port(rp)
        case .flow(let s, let d):
            r.unset()
            r.addr(s)
            r.port(0)
            r.addr(d)
            r.port(0)
        case .network:
            for _ in 0..<5 { r.unset() }
        }
        r.string(w.name)
        if let addl { r.string(addl) } else { r.unset() }
        r.bool(false)
        r.string("zeek")
        r.string(w.source)
        write(r)
        weirdRecord = r
        weirdRecords &+= 1
    }

    /// Writes one tunnel.log line (`Tunnel::DISCOVER` or `Tunnel::CLOSE`).
    public mutating func logTunnel(
        uid: ConnectionUID, originator: IPAddress, originatorPort: UInt16, responder: IPAddress,
        responderPort: UInt16, kind: TunnelKind, close: Bool, at time: Timestamp
    ) {
        var r = tunnelRecord
        r.reset()
        r.time(time)
        r.uid(uid)
        r.addr(originator)
        r.port(originatorPort)
        r.addr(responder)
        r.port(responderPort)
        r.enumValue(kind.tunnelType)
        r.enumValue(close ? "Tunnel::CLOSE" : "Tunnel::DISCOVER")
        write(r)
        tunnelRecord = r
        tunnelRecords &+= 1
    }

    /// The single point where every record of every stream leaves the worker: its bytes go into
    /// the ring tagged with the stream id, waiting while the ring is full (never dropped).
    mutating func write(_ r: LogRecordEncoder) {
        records &+= 1
        r.finish()
        let ring = ring
        r.withBytes { ring.write(tag: UInt32(r.schema.id), bytes: $0) }
    }

    /// Says that this worker writes no more records (the writer thread then closes the files once
    /// every ring is drained).
    public func close() {
        ring.close()
    }
}
