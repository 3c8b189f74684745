// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// What a weird is attached to, which decides weird.log's `uid`/`id.*` columns and how repeats
/// are recognised (Zeek's `conn_weird`, `flow_weird`, `net_weird` events).
public enum WeirdScope: Sendable {
    /// Tied to a connection: uid and the connection's id.
    case connection(uid: ConnectionUID, originator: IPAddress, originatorPort: UInt16, responder: IPAddress,
                    responderPort: UInt16)
    /// Tied to a pair of addresses but no connection: ports are logged as 0.
    case flow(source: IPAddress, destination: IPAddress)
    /// Tied to nothing (a frame that never reached the network layer).
    case network
}

/// Zeek's default handling of weirds: the engine's sampling (`src/Reporter.cc` with the
/// `weird_sampling_*` options of `init-bare.zeek`) and the script layer's actions and de-duplication
/// (`base/frameworks/notice/weird.zeek`).
///
/// Per weird name the script table gives an action; `ACTION_LOG` writes every occurrence except
/// that an identical weird (same name and same connection or flow id) is suppressed for 10 minutes
/// (`weird_ignore &create_expire=10min`), unless it is a checksum weird
/// (`weird_do_not_ignore_repeats`); `ACTION_LOG_PER_ORIG` / `_PER_CONN` / `_ONCE` log once per
/// originator, connection or at all for a day (`did_log &create_expire=1day`); `ACTION_IGNORE`
/// drops it. Before that, the engine samples: per connection (or per flow, or per name for
/// network weirds) the first 1000 occurrences pass, then every 1000th, the flow and network
/// counters restarting every 10 minutes. Keys are built from static name pointers and addresses,
/// so handling a weird does not allocate once its key is known.
public struct WeirdPolicy: Sendable {
    /// The script-level action for a weird name.
    public enum Action: Sendable { case ignore, log, logOnce, logPerConnection, logPerOriginator }

    /// `weird_sampling_threshold`: occurrences always reported per scope.
    public static let samplingThreshold: UInt64 = 1000
    /// `weird_sampling_rate`: after the threshold, every n-th is reported.
    public static let samplingRate: UInt64 = 1000
    /// `weird_sampling_duration`: lifetime of the flow and network sampling counters.
    public static let samplingDuration = Interval.seconds(600)
    /// `weird_ignore &create_expire`.
    public static let repeatSuppression = Interval.seconds(600)
    /// `did_log &create_expire`.
    public static let onceWindow = Interval.seconds(86_400)

    struct Key: Hashable {
        var name: UInt
        var a: IPAddress
        var b: IPAddress
        var ports: UInt32
        var kind: UInt8
    }

    struct Sample {
        var count: UInt64
        var since: Timestamp
    }

    var samples: [Key: Sample] = [:]
    var suppressedUntil: [Key: Timestamp] = [:]
    var loggedUntil: [Key: Timestamp] = [:]
    var lastPurge = Timestamp.zero

    public init() {}

    /// Decides whether this occurrence of `weird` is written to weird.log.
    public mutating func shouldLog(_ weird: Weird, scope: WeirdScope, at time: Timestamp) -> Bool {
        purge(now: time)
        let name = UInt(bitPattern: weird.name.utf8Start)
        let nameText = weird.nameString
        let action = Self.action(for: nameText)
        if case .ignore = action { return false }

        // Engine sampling.
        var sampleKey: Key
        switch scope {
        case .connection(let uid, _, _, _, _):
            sampleKey = Key(name: name, a: IPAddress(high: uid.word0, low: uid.word1), b: .zero, ports: 0, kind: 0)
        case .flow(let s, let d):
            sampleKey = Key(name: name, a: s, b: d, ports: 0, kind: 1)
        case .network:
            sampleKey = Key(name: name, a: .zero, b: .zero, ports: 0, kind: 2)
        }
        var sample = samples[sampleKey] ?? Sample(count: 0, since: time)
        if sampleKey.kind != 0, time.since(sample.since) >= Self.samplingDuration {
            sample = Sample(count: 0, since: time)
        }
        sample.count &+= 1
        samples[sampleKey] = sample
        if sample.count > Self.samplingThreshold && sample.count % Self.samplingRate != 0 { return false }

        // Script-level identity: the connection id string, the flow "src -> dst", or nothing.
        let identity: Key
        switch scope {
        case .connection(_, let oh, let op, let rh, let rp):
            identity = Key(name: name, a: oh, b: rh, ports: UInt32(op) << 16 | UInt32(rp), kind: 0)
        case .flow(let s, let d):
            identity = Key(name: name, a: s, b: d, ports: 0, kind: 1)
        case .network:
            identity = Key(name: name, a: .zero, b: .zero, ports: 0, kind: 2)
        }
        if let until = suppressedUntil[identity], time < until { return false }

        switch action {
        case .logOnce, .logPerConnection, .logPerOriginator:
            var onceKey = Key(name: name, a: .zero, b: .zero, ports: 0, kind: 3)
            if case .logPerOriginator = action {
                switch scope {
                case .connection(_, let oh, _, _, _): onceKey.a = oh
                case .flow(let s, _): onceKey.a = s
                case .network: break
                }
            } else if case .logPerConnection = action {
                onceKey = identity
                onceKey.kind = 4
            }
            if let until = loggedUntil[onceKey], time < until { return false }
            loggedUntil[onceKey] = time.adding(Self.onceWindow)
        case .log, .ignore:
            break
        }
        if !Self.repeatsAlwaysLogged.contains(nameText) {
            suppressedUntil[identity] = time.adding(Self.repeatSuppression)
        }
        return true
    }

    /// Drops expired entries once a minute of network time, keeping the tables bounded by the
    /// weirds of the last windows.
    mutating func purge(now: Timestamp) {
        guard now.since(lastPurge) >= .seconds(60) else { return }
        lastPurge = now
        suppressedUntil = suppressedUntil.filter { now < $0.value }
        loggedUntil = loggedUntil.filter { now < $0.value }
        samples = samples.filter { $0.key.kind == 0 ? now.since($0.value.since) < .seconds(86_400) : now.since($0.value.since) < Self.samplingDuration }
    }

    /// `weird_do_not_ignore_repeats`.
    static let repeatsAlwaysLogged: Set<String> = ["bad_IP_checksum", "bad_TCP_checksum", "bad_UDP_checksum", "bad_ICMP_checksum"]

    /// The action `Weird::actions` gives `name` (default `ACTION_LOG`). Notice actions are logged
    /// like their log counterparts until the notice framework exists.
    public static func action(for name: String) -> Action { actions[name] ?? .log }

    static let actions: [String: Action] = {
        var table: [String: Action] = [:]
        for n in ["unsolicited_SYN_response", "FIN_after_reset", "spontaneous_FIN", "spontaneous_RST"] {
            table[n] = .ignore
        }
        for n in [
            "bad_ICMP_checksum", "bad_RPC", "bad_TCP_checksum", "bad_UDP_checksum", "connection_originator_SYN_ack",
            "DNS_label_forward_compress_offset", "DNS_label_len_gt_name_len", "DNS_label_len_gt_pkt",
            "DNS_label_too_long", "excess_RPC", "FIN_storm", "originator_RPC_reply", "partial_RPC",
            "responder_RPC_call", "successful_RPC_reply_to_invalid_request", "SYN_after_partial", "SYN_with_data",
            "UDP_datagram_length_mismatch", "excessively_small_fragment", "fragment_inconsistency",
            "fragment_overlap", "fragment_size_inconsistency", "bad_IP_checksum",
        ] {
            table[n] = .logPerOriginator
        }
        for n in [
            "FTP_max_command_length_exceeded", "FTP_too_many_pending_commands", "FTP_user_too_long",
            "FTP_reply_msg_too_long", "FTP_arg_too_long", "FTP_password_too_long", "simultaneous_open",
            "smtp_mail_transaction_invalid", "smtp_excessive_invalid_mail_transactions",
            "smb_tree_connect_andx_response_without_tree",
        ] {
            table[n] = .logPerConnection
        }
        return table
    }()
}
