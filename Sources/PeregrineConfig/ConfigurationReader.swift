// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineCore
import PeregrineEngine
import PeregrineLogs
import PeregrinePolicy
import PeregrineSystem
import Yams

/// The dotted keys other parts of the module refer to (the checks against the machine blame them).
enum Key {
    static let interfaces = "capture.interfaces"
    static let mode = "capture.mode"
    static let workers = "capture.workers"
    static let cpus = "capture.cpus"
    static let afPacket = "capture.af_packet"
    static let afXDP = "capture.af_xdp"
    static let logDirectory = "logs.directory"
    static let compression = "logs.compression"
    static let retention = "logs.retention"

    /// The flag that replaces a key, for messages about a command-line value.
    static let flags = [
        interfaces: "-i", mode: "--capture", workers: "--workers", cpus: "--cpus", logDirectory: "--logdir",
    ]
}

/// Walks the YAML tree of one file into ``SensorSettings``, collecting a problem for every unknown
/// key, wrong type and bad value instead of stopping at the first, and remembering the line of each
/// key so that the checks against the machine can name it.
final class ConfigurationReader {
    let file: String
    private(set) var problems: [ConfigurationProblem] = []
    /// The line of each key's value, by dotted path.
    private(set) var lines: [String: Int] = [:]
    private(set) var settings = SensorSettings()

    init(file: String) { self.file = file }

    /// Every log stream path the engine writes (`LogStreams.schemas`, then the writer's own
    /// reporter.log), in its order.
    static let logNames: [String] =
        LogStreams(
            ring: ByteRing(capacity: 4096),
            local: LocalNetworks(),
            vlanColumns: false,
            communityIDSeed: nil
        ).schemas.map(\.path) + [ReporterLog.schema.path]

    /// Reads `yaml`; afterwards ``settings`` holds every value that was valid and ``problems`` the rest.
    /// - Returns: `false` when the text is not YAML at all (nothing was read).
    func read(_ yaml: String) -> Bool {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            problems.append(Self.problem(error, file: file))
            return false
        } catch {
            problems.append(ConfigurationProblem(source: file, line: nil, reason: "not YAML: \(error)"))
            return false
        }
        // An empty file (or only comments) leaves every default.
        guard let root, !isNull(root) else { return true }
        mapping(root, "", known: ["capture", "network", "engine", "logs", "stats", "capture_loss", "metrics", "shunt"]) {
            key,
            value in
            switch key {
            case "capture": readCapture(value)
            case "network": readNetwork(value)
            case "engine": readEngine(value)
            case "logs": readLogs(value)
            case "stats": readStats(value)
            case "capture_loss": readCaptureLoss(value)
            case "shunt": readShunt(value)
            default: readMetrics(value)
            }
        }
        return true
    }

    /// A Yams syntax error as `file:line: reason` (libyaml's problem and its context).
    static func problem(_ error: YamlError, file: String) -> ConfigurationProblem {
        func make(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> ConfigurationProblem {
            var reason = "YAML syntax error: \(problem)"
            if let context {
                reason += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return ConfigurationProblem(source: file, line: mark.line, reason: reason)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _): return make(context, problem, mark)
        case .parser(let context, let problem, let mark, _): return make(context, problem, mark)
        case .composer(let context, let problem, let mark, _): return make(context, problem, mark)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // `context.text` is the whole document; only its mark (the first duplicate) is of use.
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return ConfigurationProblem(
                source: file,
                line: context.mark.line,
                reason: "duplicate key \(names) in one mapping"
            )
        case .reader(let problem, _, _, _):
            return ConfigurationProblem(source: file, line: nil, reason: "not readable as YAML: \(problem)")
        default:
            return ConfigurationProblem(source: file, line: nil, reason: "not YAML: \(error)")
        }
    }

    // MARK: - Sections

    private func readCapture(_ node: Node) {
        var workersGiven = false
        mapping(
            node,
            "capture",
            known: [
                "interfaces", "mode", "fanout", "bpf_dir", "workers", "cpus", "filter", "checksums", "af_packet",
                "af_xdp",
            ]
        ) { key, value in
            let path = "capture." + key
            switch key {
            case "interfaces": if let list = readInterfaces(value, path) { settings.interfaces = list }
            case "mode": if let mode: CaptureMode = choice(value, path) { settings.captureMode = mode }
            case "fanout":
                switch scalar(value, path, expected: "hash or ebpf") {
                case "hash": settings.engine.ebpfFanout = false
                case "ebpf": settings.engine.ebpfFanout = true
                case let other?: problem(value, "\(path): expected hash or ebpf, got '\(other)'")
                case nil: break
                }
            case "bpf_dir":
                if let dir = scalar(value, path, expected: "a directory") { settings.engine.bpfDirectory = dir }
            case "workers":
                workersGiven = true
                if let n = int(value, path, 1...CPUSet.capacity) { settings.engine.workers = n }
            case "cpus":
                guard let text = scalar(value, path, expected: "a CPU list such as \"2-5,8\"") else { return }
                do throws(SystemError) {
                    settings.cpus = try CPUList(parsing: text)
                } catch {
                    problem(value, "\(path): \(error)")
                }
            case "filter":
                if let text = scalar(value, path, expected: "a capture filter") { settings.engine.captureFilter = text }
            case "checksums":
                switch scalar(value, path, expected: "verify or ignore") {
                case "verify": settings.engine.ignoreChecksums = false
                case "ignore": settings.engine.ignoreChecksums = true
                case let other?: problem(value, "\(path): expected verify or ignore, got '\(other)'")
                case nil: break
                }
            case "af_packet": readAFPacket(value, path)
            default: readAFXDP(value, path)
            }
        }
        // One worker per listed CPU unless the file says otherwise.
        if !workersGiven, let cpus = settings.cpus, !cpus.set.cpus.isEmpty {
            settings.engine.workers = cpus.set.cpus.count
        }
    }

    private func readInterfaces(_ node: Node, _ path: String) -> [CaptureInterface]? {
        // `eth1,eth2` as `-i` takes them.
        if case .scalar = node {
            guard let text = scalar(node, path, expected: "a list of interfaces") else { return nil }
            return text.split(separator: ",").map { CaptureInterface(name: String($0).trimmingSpaces) }
        }
        guard let items = list(node, path, expected: "a list of interfaces") else { return nil }
        var result: [CaptureInterface] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            if case .mapping = item {
                var name: String?
                var fanout: UInt16?
                mapping(item, itemPath, known: ["name", "fanout_id"]) { key, value in
                    if key == "name" {
                        name = scalar(value, itemPath + ".name", expected: "an interface name")
                    } else if let id = int(value, itemPath + ".fanout_id", 0...Int(UInt16.max)) {
                        fanout = UInt16(id)
                    }
                }
                guard let name else {
                    if !problems.contains(where: { $0.reason.hasPrefix(itemPath + ".name") }) {
                        problem(item, "\(itemPath): an interface needs a name")
                    }
                    continue
                }
                result.append(CaptureInterface(name: name, fanoutID: fanout))
            } else if let name = scalar(item, itemPath, expected: "an interface name or {name, fanout_id}") {
                result.append(CaptureInterface(name: name))
            }
        }
        return result
    }

    private func readAFPacket(_ node: Node, _ path: String) {
        mapping(node, path, known: ["block_size", "block_count", "frame_size", "block_timeout"]) { key, value in
            let keyPath = path + "." + key
            switch key {
            case "block_size": if let n = size(value, keyPath) { settings.ring.blockSize = n }
            case "block_count": if let n = int(value, keyPath, 1...Int(UInt32.max)) { settings.ring.blockCount = n }
            case "frame_size": if let n = size(value, keyPath) { settings.ring.frameSize = n }
            default:
                if let i = interval(value, keyPath, zeroAllowed: false) {
                    settings.ring.blockTimeoutMilliseconds = Int((i.nanoseconds + 999_999) / 1_000_000)
                }
            }
        }
    }

    private func readAFXDP(_ node: Node, _ path: String) {
        mapping(
            node,
            path,
            known: ["frame_size", "frame_count", "fill_ring_size", "completion_ring_size", "rx_ring_size"]
        ) { key, value in
            let keyPath = path + "." + key
            if key == "frame_size" {
                if let n = size(value, keyPath) { settings.umem.frameSize = n }
                return
            }
            guard let n = int(value, keyPath, 1...Int(UInt32.max)) else { return }
            switch key {
            case "frame_count": settings.umem.frameCount = n
            case "fill_ring_size": settings.umem.fillRingSize = n
            case "completion_ring_size": settings.umem.completionRingSize = n
            default: settings.umem.rxRingSize = n
            }
        }
    }

    private func readNetwork(_ node: Node) {
        mapping(node, "network", known: ["local_nets", "private_address_space_is_local"]) { key, value in
            let path = "network." + key
            if key == "private_address_space_is_local" {
                if let b = bool(value, path) { settings.engine.privateAddressSpaceIsLocal = b }
                return
            }
            // Zeek's `{10.0.0.0/8, 192.168.0.0/16}` in one string.
            if case .scalar = value {
                guard let text = scalar(value, path, expected: "a list of subnets") else { return }
                do {
                    settings.engine.localNetworks = try Configuration.parseSubnets(text, option: path)
                } catch {
                    problem(value, Self.reason(error, path: path))
                }
                return
            }
            guard let items = list(value, path, expected: "a list of subnets") else { return }
            var nets: [IPSubnet] = []
            for (index, item) in items.enumerated() {
                guard let text = scalar(item, "\(path)[\(index)]", expected: "a subnet such as 10.0.0.0/8") else {
                    continue
                }
                if let net = IPSubnet(text) {
                    nets.append(net)
                } else {
                    problem(item, "\(path)[\(index)]: '\(text)' is not a subnet (address/length, e.g. 10.0.0.0/8)")
                }
            }
            settings.engine.localNetworks = nets
        }
    }

    private func readEngine(_ node: Node) {
        mapping(node, "engine", known: ["max_connections"]) { key, value in
            if let n = int(value, "engine." + key, 1...(1 << 32)) { settings.engine.maxConnections = n }
        }
    }

    private func readLogs(_ node: Node) {
        var enabledNode: Node?
        mapping(
            node,
            "logs",
            known: ["directory", "format", "rotation_interval", "compression", "retention", "enabled", "disabled"]
        ) { key, value in
            let path = "logs." + key
            switch key {
            case "directory":
                if let dir = scalar(value, path, expected: "a directory") { settings.engine.logDirectory = dir }
            case "format":
                switch scalar(value, path, expected: "tsv or json") {
                case "tsv": settings.engine.useJSON = false
                case "json": settings.engine.useJSON = true
                case let other?: problem(value, "\(path): expected tsv or json, got '\(other)'")
                case nil: break
                }
            case "rotation_interval":
                if let i = interval(value, path, zeroAllowed: true) {
                    settings.engine.rotationInterval = i == .zero ? nil : i
                }
            case "compression": if let c: LogCompression = choice(value, path) { settings.engine.logCompression = c }
            case "retention": readRetention(value)
            case "enabled":
                if enabledNode == nil { enabledNode = value }
                guard let names = logNames(value, path) else { return }
                settings.logFiles.disabledLogs.formUnion(Self.logNames.filter { !names.contains($0) })
            default:
                guard let names = logNames(value, path) else { return }
                settings.logFiles.disabledLogs.formUnion(names)
            }
        }
        if let enabledNode, lines["logs.disabled"] != nil {
            problem(enabledNode, "logs.enabled: give either logs.enabled or logs.disabled, not both")
        }
    }

    private func readRetention(_ node: Node) {
        mapping(node, Key.retention, known: ["max_age", "max_size"]) { key, value in
            let path = Key.retention + "." + key
            if key == "max_age" {
                if let i = interval(value, path, zeroAllowed: true) {
                    settings.engine.logRetentionAge = i == .zero ? nil : i
                }
            } else if let n = size(value, path) {
                settings.engine.logRetentionBytes = n == 0 ? nil : Int64(n)
            }
        }
    }

    private func readStats(_ node: Node) {
        mapping(node, "stats", known: ["enabled", "interval"]) { key, value in
            let path = "stats." + key
            if key == "enabled" {
                if let b = bool(value, path) { settings.engine.statsLogging = b }
            } else if let i = interval(value, path, zeroAllowed: false) {
                settings.engine.statsInterval = i
            }
        }
    }

    private func readCaptureLoss(_ node: Node) {
        mapping(node, "capture_loss", known: ["enabled", "interval", "initial_interval"]) { key, value in
            let path = "capture_loss." + key
            switch key {
            case "enabled": if let b = bool(value, path) { settings.engine.captureLossLogging = b }
            case "interval":
                if let i = interval(value, path, zeroAllowed: false) { settings.engine.captureLossInterval = i }
            default:
                if let i = interval(value, path, zeroAllowed: false) { settings.engine.captureLossInitialInterval = i }
            }
        }
    }

    private func readShunt(_ node: Node) {
        mapping(node, "shunt", known: ["enabled", "encrypted", "bytes"]) { key, value in
            let path = "shunt." + key
            switch key {
            case "enabled": if let b = bool(value, path) { settings.engine.shunt.enabled = b }
            case "encrypted": if let b = bool(value, path) { settings.engine.shunt.encrypted = b }
            default: if let n = size(value, path) { settings.engine.shunt.bytes = UInt64(n) }
            }
        }
    }

    private func readMetrics(_ node: Node) {
        mapping(node, "metrics", known: ["listen"]) { key, value in
            guard let text = scalar(value, "metrics.listen", expected: "host:port") else { return }
            if let address = ListenAddress(text) {
                settings.metricsAddress = address
            } else {
                problem(value, "metrics.listen: '\(text)' is not host:port (e.g. 127.0.0.1:9911 or [::1]:9911)")
            }
        }
    }

    /// A list of log names, each checked against ``logNames``.
    private func logNames(_ node: Node, _ path: String) -> [String]? {
        guard let items = list(node, path, expected: "a list of log names") else { return nil }
        var names: [String] = []
        for (index, item) in items.enumerated() {
            guard let name = scalar(item, "\(path)[\(index)]", expected: "a log name") else { continue }
            guard Self.logNames.contains(name) else {
                var reason = "\(path)[\(index)]: unknown log '\(name)'"
                if let near = Self.closest(to: name, in: Self.logNames) { reason += "; did you mean '\(near)'?" }
                problem(item, reason + " (logs: \(Self.logNames.joined(separator: ", ")))")
                continue
            }
            names.append(name)
        }
        return names
    }

    // MARK: - Typed values

    private func problem(_ node: Node?, _ reason: String) {
        problems.append(ConfigurationProblem(source: file, line: node?.mark?.line, reason: reason))
    }

    /// Calls `each` for every known key of a mapping; reports unknown keys (with the closest known
    /// one) and a node that is not a mapping.
    private func mapping(_ node: Node, _ path: String, known: [String], _ each: (String, Node) -> Void) {
        guard case .mapping(let map) = node else {
            problem(node, "\(path.isEmpty ? "the file" : path): expected a mapping of keys, got \(describe(node))")
            return
        }
        for (keyNode, value) in map {
            guard case .scalar(let scalar) = keyNode else {
                problem(keyNode, "\(path.isEmpty ? "the file" : path): a key must be a plain name")
                continue
            }
            let key = scalar.string
            let full = path.isEmpty ? key : path + "." + key
            guard known.contains(key) else {
                var reason = "\(full): unknown key"
                if let near = Self.closest(to: key, in: known) {
                    reason += "; did you mean '\(path.isEmpty ? near : path + "." + near)'?"
                } else {
                    reason += " (known here: \(known.joined(separator: ", ")))"
                }
                problem(keyNode, reason)
                continue
            }
            // A scalar's own line (a folded one may start below its key); a section's or list's key line.
            if case .scalar = value {
                lines[full] = value.mark?.line ?? keyNode.mark?.line
            } else {
                lines[full] = keyNode.mark?.line
            }
            let before = problems.count
            each(key, value)
            // A refused value said nothing: checks of the combined settings must not blame its line
            // for the default that stands in for it.
            if problems[before...].contains(where: { $0.reason.hasPrefix(full + ":") }) { lines[full] = nil }
        }
    }

    private func list(_ node: Node, _ path: String, expected: String) -> [Node]? {
        guard case .sequence(let items) = node else {
            problem(node, "\(path): expected \(expected), got \(describe(node))")
            return nil
        }
        return Array(items)
    }

    private func scalar(_ node: Node, _ path: String, expected: String) -> String? {
        guard case .scalar(let s) = node, !isNull(node) else {
            problem(node, "\(path): expected \(expected), got \(describe(node))")
            return nil
        }
        return s.string
    }

    private func bool(_ node: Node, _ path: String) -> Bool? {
        guard let text = scalar(node, path, expected: "true or false") else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem(node, "\(path): expected true or false, got '\(text)'")
            return nil
        }
    }

    private func int(_ node: Node, _ path: String, _ range: ClosedRange<Int>) -> Int? {
        guard let text = scalar(node, path, expected: "a whole number") else { return nil }
        guard let n = Int(text.filter { $0 != "_" }) else {
            problem(node, "\(path): expected a whole number, got '\(text)'")
            return nil
        }
        guard range.contains(n) else {
            problem(node, "\(path): \(n) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return n
    }

    private func size(_ node: Node, _ path: String) -> Int? {
        guard let text = scalar(node, path, expected: "a size such as 1MiB") else { return nil }
        switch ValueSyntax.size(text) {
        case .value(let n): return n
        case .invalid(let reason):
            problem(node, "\(path): \(reason)")
            return nil
        }
    }

    private func interval(_ node: Node, _ path: String, zeroAllowed: Bool) -> Interval? {
        guard let text = scalar(node, path, expected: "an interval such as 5min") else { return nil }
        switch ValueSyntax.interval(text, path: path) {
        case .value(let i):
            guard zeroAllowed || i > .zero else {
                problem(node, "\(path): the interval must be above zero, got '\(text)'")
                return nil
            }
            return i
        case .invalid(let reason):
            problem(node, "\(path): \(reason)")
            return nil
        }
    }

    private func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ path: String) -> T?
    where T.RawValue == String {
        let names = T.allCases.map(\.rawValue)
        guard let text = scalar(node, path, expected: names.joined(separator: ", ")) else { return nil }
        guard let value = T(rawValue: text) else {
            var reason = "\(path): expected one of \(names.joined(separator: ", ")), got '\(text)'"
            if let near = Self.closest(to: text, in: names) { reason += "; did you mean '\(near)'?" }
            problem(node, reason)
            return nil
        }
        return value
    }

    /// YAML's null: an empty plain scalar, `~` or `null`.
    private func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s): return isNull(node) ? "nothing" : "'\(s.string)'"
        }
    }

    /// An error thrown by `Configuration`'s parsers without its `option NAME: ` prefix, under `path`.
    static func reason(_ error: any Error, path: String) -> String {
        let text = "\(error)"
        let prefix = "option \(path): "
        return path + ": " + (text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text)
    }

    /// The known name nearest to `word` by edit distance, if near enough to be a likely typo.
    static func closest(to word: String, in known: [String]) -> String? {
        let scored = known.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (name, distance) = scored, distance <= max(2, word.count / 3) else { return nil }
        return name
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
