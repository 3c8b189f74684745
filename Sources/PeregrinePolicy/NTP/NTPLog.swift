// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/ntp/main.zeek`: one ntp.log line per NTP
/// message of modes 0-5 (control and private messages, modes 6 and 7, are not logged there).
///
/// The line carries the connection's endpoints as they are when the message is handled, after
/// any role swap that message caused (Zeek queues the event behind the swap).
public struct NTPLog {
    /// ntp.log's columns, in Zeek 9's order (`zeek-logs.md` §12).
    public static let schema = LogSchema(
        id: 6, path: "ntp",
        columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + LogStreams.idColumns + [
            LogColumn("version", .count), LogColumn("mode", .count), LogColumn("stratum", .count),
            LogColumn("poll", .interval), LogColumn("precision", .interval), LogColumn("root_delay", .interval),
            LogColumn("root_disp", .interval), LogColumn("ref_id", .string), LogColumn("ref_time", .time),
            LogColumn("org_time", .time), LogColumn("rec_time", .time), LogColumn("xmt_time", .time),
            LogColumn("num_exts", .count),
        ])

    /// Seconds from the NTP era's start (1900) to the Unix epoch.
    static let eraOffsetSeconds: Int64 = 2_208_988_800

    var record = LogRecordEncoder(schema: NTPLog.schema)
    /// Reused bytes for `ref_id`, so a line builds no `String`.
    var scratch: [UInt8] = []
    /// Records written.
    public private(set) var records: UInt64 = 0

    public init() {}

    /// Writes the line for one message of connection `c` (`ntp_message` at its two priorities).
    public mutating func message(_ m: NTPMessage, connection c: Connection, now: Timestamp, logs: inout LogStreams) {
        guard m.mode <= 5 else { return }
        var r = record
        r.reset()
        r.time(now)
        r.uid(c.uid)
        r.addr(c.originator)
        r.port(c.originatorPort)
        r.addr(c.responder)
        r.port(c.responderPort)
        r.count(UInt64(m.version))
        r.count(UInt64(m.mode))
        if let s = m.standard {
            r.count(UInt64(s.stratum))
            r.interval(Self.powerOfTwo(s.poll))
            r.interval(Self.powerOfTwo(s.precision))
            r.interval(Self.shortTime(s.rootDelay))
            r.interval(Self.shortTime(s.rootDispersion))
            scratch.removeAll(keepingCapacity: true)
            let id = s.referenceID
            if s.stratum <= 1 {
                // Stratum 0: a kiss code; 1: a reference clock's name. Both are the raw four bytes.
                scratch.append(contentsOf: [id.0, id.1, id.2, id.3])
            } else {
                // Above: the reference server's IPv4 address (or an IPv6 address's MD5 prefix),
                // dotted as Zeek's `cat(addr)` writes it.
                for (i, byte) in [id.0, id.1, id.2, id.3].enumerated() {
                    if i > 0 { scratch.append(UInt8(ascii: ".")) }
                    if byte >= 100 { scratch.append(UInt8(ascii: "0") + byte / 100) }
                    if byte >= 10 { scratch.append(UInt8(ascii: "0") + byte / 10 % 10) }
                    scratch.append(UInt8(ascii: "0") + byte % 10)
                }
            }
            scratch.withUnsafeBytes { r.string($0) }
            r.time(Self.timestamp(s.referenceTime))
            r.time(Self.timestamp(s.originTime))
            r.time(Self.timestamp(s.receiveTime))
            r.time(Self.timestamp(s.transmitTime))
            r.count(UInt64(s.extensionCount))
        } else {
            for _ in 0..<10 { r.unset() }
            r.count(0)  // num_exts defaults to 0
        }
        logs.write(r)
        record = r
        records &+= 1
    }

    /// `2^exponent` seconds (Zeek's `pow(2, poll)`), saturating where nanoseconds cannot hold it
    /// (exponents above 33, which no real clock sends).
    static func powerOfTwo(_ exponent: Int8) -> Interval {
        if exponent >= 0 {
            return exponent > 33
                ? Interval(nanoseconds: .max) : Interval(nanoseconds: (Int64(1) << Int64(exponent)) * 1_000_000_000)
        }
        return Interval(nanoseconds: Int64((1e9 * Double(sign: .plus, exponent: Int(exponent), significand: 1)).rounded()))
    }

    /// NTP short format as Zeek reads it: a signed 16-bit seconds part plus a *signed* 16-bit
    /// fraction in 1/65536 s (`NTP_Short_Time` declares both `int16`).
    static func shortTime(_ raw: UInt32) -> Interval {
        let seconds = Int64(Int16(bitPattern: UInt16(raw >> 16)))
        let fraction = Int64(Int16(bitPattern: UInt16(raw & 0xFFFF)))
        return Interval(nanoseconds: seconds * 1_000_000_000 + (fraction * 1_000_000_000) / 65_536)
    }

    /// An NTP timestamp (32.32 fixed point since 1900) as Unix time; all zero stays 0, as Zeek's
    /// `proc_ntp_timestamp` keeps it.
    static func timestamp(_ raw: UInt64) -> Timestamp {
        guard raw != 0 else { return .zero }
        let seconds = Int64(raw >> 32) - eraOffsetSeconds
        let nanoseconds = Int64(((raw & 0xFFFF_FFFF) * 1_000_000_000 + (1 << 31)) >> 32)
        return Timestamp(nanoseconds: seconds * 1_000_000_000 + nanoseconds)
    }
}
