// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/dhcp/main.zeek`: one dhcp.log line per DHCP
/// transaction (the messages that share a transaction id within a short time), not per
/// connection: a DORA exchange spans a broadcast "connection" and a unicast one, so `uids` is a set.
///
/// Zeek keeps the transactions in a table that expires them 10 s after creation and then every
/// 5 s, writing one when no message came for 5 s or it has been watched for
/// `DHCP::max_txid_watch_time` (30 s); a transaction is also written at once when it reaches
/// `DHCP::max_uids_per_log_entry` (10) uids or `DHCP::max_msg_types_per_log_entry` (50) message
/// types, and every one left is written at the end. The table here is bounded too: at
/// ``maxTransactions`` the oldest is written to make room.
public struct DHCPLog {
    /// dhcp.log's columns, in Zeek 9's order (`zeek-logs.md` §11).
    public static let schema = LogSchema(
        id: 11, path: "dhcp",
        columns: [
            LogColumn("ts", .time), LogColumn("uids", .set(.string)), LogColumn("client_addr", .addr),
            LogColumn("server_addr", .addr), LogColumn("mac", .string), LogColumn("host_name", .string),
            LogColumn("client_fqdn", .string), LogColumn("domain", .string), LogColumn("requested_addr", .addr),
            LogColumn("assigned_addr", .addr), LogColumn("lease_time", .interval),
            LogColumn("client_message", .string), LogColumn("server_message", .string),
            LogColumn("msg_types", .vector(.string)), LogColumn("duration", .interval),
        ])

    static let maxTransactionWatch = Interval.seconds(30)
    static let quietTime = Interval.seconds(5)
    static let firstCheck = Interval.seconds(10)
    static let maxUIDs = 10
    static let maxMessageTypes = 50
    /// Transactions watched at once, per worker.
    public static let maxTransactions = 16_384

    /// One transaction (`DHCP::Info`).
    struct Transaction {
        var ts: Timestamp
        var lastMessage: Timestamp
        /// When the expiry check looks at it next.
        var check: Timestamp
        var uids: [ConnectionUID] = []
        var clientAddress: IPAddress?
        var serverAddress: IPAddress?
        var mac: String?
        var hostName: [UInt8]?
        var clientFQDN: [UInt8]?
        var domain: [UInt8]?
        var requestedAddress: IPAddress?
        var assignedAddress: IPAddress?
        var lease: UInt32?
        var clientMessage: [UInt8]?
        var serverMessage: [UInt8]?
        var messageTypes: [String] = []
        var clientHardwareAddress: String?
    }

    var transactions: [UInt32: Transaction] = [:]
    var record = LogRecordEncoder(schema: DHCPLog.schema)
    /// Records written.
    public private(set) var records: UInt64 = 0

    public init() {}

    /// Adds one message of connection `c` to its transaction (`DHCP::aggregate_msgs`).
    public mutating func message(
        _ m: DHCPMessage, isOriginator: Bool, connection c: Connection, now: Timestamp, logs: inout LogStreams
    ) {
        if transactions[m.transactionID] == nil {
            if transactions.count >= Self.maxTransactions, let oldest = transactions.min(by: { $0.value.ts < $1.value.ts }) {
                write(oldest.value, logs: &logs)
                transactions[oldest.key] = nil
            }
            transactions[m.transactionID] = Transaction(ts: now, lastMessage: now, check: now.adding(Self.firstCheck))
        }
        var t = transactions.removeValue(forKey: m.transactionID)!
        update(&t, with: m, isOriginator: isOriginator, connection: c, now: now)
        if t.uids.count >= Self.maxUIDs || t.messageTypes.count >= Self.maxMessageTypes {
            write(t, chaddrAsMAC: false, logs: &logs)
        } else {
            transactions[m.transactionID] = consume t
        }
    }

    func update(_ t: inout Transaction, with m: DHCPMessage, isOriginator: Bool, connection c: Connection, now: Timestamp) {
        if !t.uids.contains(c.uid) { t.uids.append(c.uid) }
        t.messageTypes.append(DHCPMessage.typeName(m.messageType))
        t.lastMessage = now
        // Zeek: `is_orig` is true for server broadcasts too, so a client is told by its addresses.
        let unspecified = IPAddress(ipv4: 0)
        let isClient = isOriginator
            && (c.originator == unspecified || c.originatorPort == 68 || c.responderPort == 67)
        if let text = m.message {
            if isClient { t.clientMessage = text } else { t.serverMessage = text }
        }
        if isClient {
            if c.originator != unspecified && c.originator != IPAddress(ipv4: 0xFFFF_FFFF) {
                t.clientAddress = c.originator
            }
            if let name = m.hostName { t.hostName = name }
            if let fqdn = m.clientFQDN { t.clientFQDN = fqdn }
            if let id = m.clientID, id.hardwareType == 1 {
                t.mac = id.address
            } else {
                t.clientHardwareAddress = m.clientHardwareAddress
            }
            if let requested = m.requestedAddress { t.requestedAddress = IPAddress(ipv4: requested) }
        } else {
            // The server's address only from a server that hands one out: the originator of a
            // broadcast, the responder when Zeek flipped a unicast reply.
            if m.yourAddress != 0 { t.serverAddress = isOriginator ? c.originator : c.responder }
            if !m.clientHardwareAddress.isEmpty && t.mac == nil { t.mac = m.clientHardwareAddress }
            if m.yourAddress != 0 { t.assignedAddress = IPAddress(ipv4: m.yourAddress) }
            if t.clientAddress == nil, let assigned = t.assignedAddress { t.clientAddress = assigned }
            if let domain = m.domainName { t.domain = domain }
            if let lease = m.leaseSeconds { t.lease = lease }
        }
    }

    /// Writes the transactions the table's expiry would write by `now` (`join_data_expiration`).
    public mutating func expire(now: Timestamp, logs: inout LogStreams) {
        guard !transactions.isEmpty else { return }
        var due: [(UInt32, Transaction)] = []
        for (id, t) in transactions where t.check <= now {
            if now.since(t.lastMessage) > Self.quietTime || now.since(t.ts) > Self.maxTransactionWatch {
                due.append((id, t))
            } else {
                transactions[id]?.check = now.adding(Self.quietTime)
            }
        }
        for (id, t) in due.sorted(by: { $0.1.ts < $1.1.ts }) {
            write(t, logs: &logs)
            transactions[id] = nil
        }
    }

    /// End of input: every transaction left is written (`zeek_done`), oldest first.
    public mutating func flushAll(logs: inout LogStreams) {
        for t in transactions.values.sorted(by: { $0.ts < $1.ts }) { write(t, logs: &logs) }
        transactions.removeAll()
    }

    /// - Parameter chaddrAsMAC: without a client id or a server's chaddr, log the client's own
    ///   chaddr as `mac` (what the expiry does; the early write for too many uids or types does not).
    mutating func write(_ t: Transaction, chaddrAsMAC: Bool = true, logs: inout LogStreams) {
        var r = record
        r.reset()
        r.time(t.ts)
        r.beginSet(count: t.uids.count)
        for uid in t.uids { r.uid(uid) }
        optional(t.clientAddress, &r)
        optional(t.serverAddress, &r)
        if let mac = t.mac ?? (chaddrAsMAC ? t.clientHardwareAddress : nil) { r.string(mac) } else { r.unset() }
        optional(t.hostName, &r)
        optional(t.clientFQDN, &r)
        optional(t.domain, &r)
        optional(t.requestedAddress, &r)
        optional(t.assignedAddress, &r)
        if let lease = t.lease { r.interval(.seconds(Int64(lease))) } else { r.unset() }
        optional(t.clientMessage, &r)
        optional(t.serverMessage, &r)
        r.beginVector(count: t.messageTypes.count)
        for name in t.messageTypes { r.string(name) }
        r.interval(t.lastMessage.since(t.ts))
        logs.write(r)
        record = r
        records &+= 1
    }

    func optional(_ value: IPAddress?, _ r: inout LogRecordEncoder) {
        if let value { r.addr(value) } else { r.unset() }
    }

    func optional(_ value: [UInt8]?, _ r: inout LogRecordEncoder) {
        if let value { value.withUnsafeBytes { r.string($0) } } else { r.unset() }
    }
}
