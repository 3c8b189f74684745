// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/dns/main.zeek`: turns ``DNSMessage`` events
/// into dns.log records.
///
/// Per connection it pairs queries and replies by transaction id the way the script does: one
/// fast-path pending query, then FIFO queues of pending queries and of replies that came before
/// their query. A record is written when both its query and its reply were seen; whatever is
/// still pending is written when the connection is removed (`finalize_dns`). The queues are
/// bounded by the script's `max_pending_msgs` and `max_pending_query_ids` (50 each): past them
/// the unmatched entries are written and dropped, so a flood of unanswered queries costs bounded
/// memory.
///
/// State lives in a table indexed by the DNS analyzer's pool slot, allocated once.
public struct DNSLog {
    /// dns.log's columns, in Zeek 9's order (`zeek-logs.md` §4).
    public static let schema = LogSchema(
        id: 3, path: "dns",
        columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + LogStreams.idColumns + [
            LogColumn("proto", .enum), LogColumn("trans_id", .count), LogColumn("rtt", .interval),
            LogColumn("query", .string), LogColumn("qclass", .count), LogColumn("qclass_name", .string),
            LogColumn("qtype", .count), LogColumn("qtype_name", .string), LogColumn("rcode", .count),
            LogColumn("rcode_name", .string), LogColumn("AA", .bool), LogColumn("TC", .bool),
            LogColumn("RD", .bool), LogColumn("RA", .bool), LogColumn("Z", .count),
            LogColumn("answers", .vector(.string)), LogColumn("TTLs", .vector(.interval)),
            LogColumn("rejected", .bool), LogColumn("opcode", .count), LogColumn("opcode_name", .string),
        ])

    /// `DNS::max_pending_msgs`: unmatched messages kept per transaction id.
    public static let maxPendingMessages = 50
    /// `DNS::max_pending_query_ids`: transaction ids with unmatched messages kept per queue.
    public static let maxPendingIDs = 50

    /// One dns.log entry being built (`DNS::Info`).
    struct Info {
        var ts: Timestamp
        var transID: UInt16
        var rtt: Interval?
        var query: [UInt8]?
        var qclass: UInt16?
        var qtype: UInt16?
        /// NetBIOS SRV queries are NBSTAT (`qtype_name` only).
        var nbstat = false
        var rcode: UInt8?
        var aa = false, tc = false, rd = false, ra = false
        var z: UInt8 = 0
        /// Answer summaries back to back; `answerEnds[i]` ends the i-th.
        var answerBytes: [UInt8] = []
        var answerEnds: [Int] = []
        var ttls: [UInt32] = []
        var rejected = false
        var opcode: UInt8 = 0
        var sawQuery = false
        var sawReply = false
    }

    /// A connection's pending entries (`DNS::State`).
    struct State {
        var pendingQuery: Info?
        var pendingQueries: [Info] = []
        var pendingReplies: [Info] = []
    }

    var states: [State]
    var record: LogRecordEncoder
    var scratch: [UInt8] = []
    /// Records written.
    public private(set) var records: UInt64 = 0

    /// - Parameter capacity: the DNS analyzer pool's capacity (slots are 1-based).
    public init(capacity: Int) {
        states = Array(repeating: State(), count: capacity + 1)
        record = LogRecordEncoder(schema: Self.schema)
    }

    /// Where a message's entry goes if it is not written at the message's end.
    enum Home { case pendingQuery, pendingQueries, pendingReplies, nowhere }

    /// Handles one message of the connection holding analyzer slot `slot` (Zeek's `dns_message`,
    /// `dns_request`/`dns_rejected`, the `dns_*_reply` events and `dns_end`, in that order).
    public mutating func message(
        _ m: DNSMessage, slot: UInt32, connection c: Connection, now: Timestamp, logs: inout LogStreams
    ) {
        let s = Int(slot)
        let h = m.header
        let isQuery = !h.isResponse
        let id = h.id
        var home = Home.nowhere
        var info: Info
        // set_session
        if isQuery {
            if let i = states[s].pendingReplies.firstIndex(where: { $0.transID == id }) {
                info = states[s].pendingReplies.remove(at: i)
            } else {
                info = Info(ts: now, transID: id)
                if states[s].pendingQuery == nil {
                    home = .pendingQuery
                } else {
                    makeRoom(in: \.pendingQueries, for: id, slot: s, connection: c, logs: &logs)
                    home = .pendingQueries
                }
            }
        } else {
            if let pending = states[s].pendingQuery, pending.transID == id {
                info = pending
                states[s].pendingQuery = nil
                if !states[s].pendingQueries.isEmpty {
                    let i = states[s].pendingQueries.firstIndex(where: { $0.transID == id }) ?? 0
                    states[s].pendingQuery = states[s].pendingQueries.remove(at: i)
                }
            } else if let i = states[s].pendingQueries.firstIndex(where: { $0.transID == id }) {
                info = states[s].pendingQueries.remove(at: i)
            } else {
                info = Info(ts: now, transID: id)
                makeRoom(in: \.pendingReplies, for: id, slot: s, connection: c, logs: &logs)
                home = .pendingReplies
            }
            info.rcode = h.rcode
            if h.rcode != 0 && h.questionCount == 0 { info.rejected = true }
        }
        info.opcode = h.opcode
        // dns_request / dns_rejected
        let netBIOS = c.responderPort == 137 && c.transportProtocol == 17
        for q in m.questions {
            if isQuery {
                info.rd = h.recursionDesired
                info.tc = h.truncated
                info.qclass = q.qclass
                info.qtype = q.qtype
                info.z = h.z
                var name = m.bytes(q.name)
                if netBIOS {
                    if let decoded = Self.decodeNetBIOSName(name) { name = decoded }
                    info.nbstat = q.qtype == 33
                }
                info.query = name
            } else if h.answerCount == 0 && h.authorityCount == 0 && h.additionalCount == 0 {
                info.rejected = true
            }
        }
        // DNS::do_reply, for answer-section records of replies
        if !isQuery {
            for a in m.answers {
                let text: DNSText?
                switch a.summary {
                case .unlogged: continue
                case .empty: text = nil
                case .text(let t): text = t
                }
                if info.query == nil { info.query = m.bytes(a.name) }
                info.aa = h.authoritative
                info.ra = h.recursionAvailable
                if info.rtt == nil {
                    let rtt = now.since(info.ts)
                    info.rtt = rtt == .zero ? nil : rtt
                }
                if let text, text.count > 0 {
                    m.withBytes(text) { info.answerBytes.append(contentsOf: $0) }
                    info.answerEnds.append(info.answerBytes.count)
                    info.ttls.append(a.ttl)
                }
            }
        }
        // dns_end
        if isQuery { info.sawQuery = true } else { info.sawReply = true }
        if info.sawQuery && info.sawReply {
            write(info, connection: c, logs: &logs)
            return
        }
        switch home {
        case .pendingQuery: states[s].pendingQuery = info
        case .pendingQueries: states[s].pendingQueries.append(info)
        case .pendingReplies: states[s].pendingReplies.append(info)
        case .nowhere: break
        }
    }

    /// Writes every pending entry of the connection holding `slot` and forgets them (Zeek's
    /// `finalize_dns` removal hook).
    public mutating func connectionEnded(slot: UInt32, connection c: Connection, logs: inout LogStreams) {
        let s = Int(slot)
        if let q = states[s].pendingQuery { write(q, connection: c, logs: &logs) }
        for q in states[s].pendingQueries { write(q, connection: c, logs: &logs) }
        for r in states[s].pendingReplies { write(r, connection: c, logs: &logs) }
        states[s] = State()
    }

    /// `enqueue_new_msg`'s limits: before a new entry with `id` joins a queue, a queue already
    /// spread over more than `maxPendingIDs` ids is written out and emptied, and an id already
    /// holding more than `maxPendingMessages` entries has those written out and dropped.
    mutating func makeRoom(
        in queue: WritableKeyPath<State, [Info]>, for id: UInt16, slot s: Int, connection c: Connection,
        logs: inout LogStreams
    ) {
        let entries = states[s][keyPath: queue]
        let sameID = entries.reduce(0) { $0 + ($1.transID == id ? 1 : 0) }
        if sameID == 0 {
            var ids = Set<UInt16>()
            for e in entries { ids.insert(e.transID) }
            guard ids.count > Self.maxPendingIDs else { return }
            for e in entries { write(e, connection: c, logs: &logs) }
            states[s][keyPath: queue].removeAll()
        } else if sameID > Self.maxPendingMessages {
            for e in entries where e.transID == id { write(e, connection: c, logs: &logs) }
            states[s][keyPath: queue].removeAll { $0.transID == id }
        }
    }

    /// Zeek's `decode_netbios_name`: the first label's 32 letters `A`-`P` (either case) decode
    /// to 16 bytes, of which the leading printable ones before padding make the name. `nil` when
    /// nothing decodes, so the caller keeps the raw name as Zeek does.
    static func decodeNetBIOSName(_ name: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while i + 1 < name.count && out.count < 15 {
            let hi = name[i] & 0xDF, lo = name[i + 1] & 0xDF
            guard hi >= 0x41 && hi <= 0x50 && lo >= 0x41 && lo <= 0x50 else { break }
            let c = (hi - 0x41) << 4 | (lo - 0x41)
            guard c > 0x20 && c < 0x7F else { break }
            out.append(c)
            i += 2
        }
        return out.isEmpty ? nil : out
    }

    mutating func write(_ info: Info, connection c: Connection, logs: inout LogStreams) {
        var r = record
        r.reset()
        r.time(info.ts)
        r.uid(c.uid)
        r.addr(c.originator)
        r.port(c.originatorPort)
        r.addr(c.responder)
        r.port(c.responderPort)
        r.enumValue(c.transportProtocol == 6 ? "tcp" : "udp")
        r.count(UInt64(info.transID))
        if let rtt = info.rtt { r.interval(rtt) } else { r.unset() }
        if let q = info.query { q.withUnsafeBytes { r.string($0) } } else { r.unset() }
        if let v = info.qclass {
            r.count(UInt64(v))
            name(DNSNames.qclass(v), fallback: DNSNames.qclassFallback, value: UInt64(v), into: &r)
        } else {
            r.unset()
            r.unset()
        }
        if let v = info.qtype {
            r.count(UInt64(v))
            if info.nbstat {
                r.string("NBSTAT")
            } else {
                name(DNSNames.qtype(v), fallback: DNSNames.qtypeFallback, value: UInt64(v), into: &r)
            }
        } else {
            r.unset()
            r.unset()
        }
        if let v = info.rcode {
            r.count(UInt64(v))
            name(DNSNames.rcode(v), fallback: DNSNames.rcodeFallback, value: UInt64(v), into: &r)
        } else {
            r.unset()
            r.unset()
        }
        r.bool(info.aa)
        r.bool(info.tc)
        r.bool(info.rd)
        r.bool(info.ra)
        r.count(UInt64(info.z))
        if info.answerEnds.isEmpty {
            r.unset()
            r.unset()
        } else {
            r.beginVector(count: info.answerEnds.count)
            info.answerBytes.withUnsafeBytes { all in
                var start = 0
                for end in info.answerEnds {
                    r.string(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                    start = end
                }
            }
            r.beginVector(count: info.ttls.count)
            for ttl in info.ttls { r.interval(.seconds(Int64(ttl))) }
        }
        r.bool(info.rejected)
        r.count(UInt64(info.opcode))
        if c.responderPort == 137 && c.transportProtocol == 17 {
            name(DNSNames.netBIOSOpcode(info.opcode), fallback: DNSNames.netBIOSOpcodeFallback,
                 value: UInt64(info.opcode), into: &r)
        } else {
            name(DNSNames.opcode(info.opcode), fallback: DNSNames.opcodeFallback, value: UInt64(info.opcode), into: &r)
        }
        logs.write(r)
        record = r
        records &+= 1
    }

    /// Writes a table name, or the table's default `<prefix><value>`.
    mutating func name(_ known: StaticString?, fallback: StaticString, value: UInt64, into r: inout LogRecordEncoder) {
        if let known {
            r.string(known)
            return
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: fallback.utf8Start, count: fallback.utf8CodeUnitCount))
        scratch.append(contentsOf: String(value).utf8)
        scratch.withUnsafeBytes { r.string($0) }
    }
}
