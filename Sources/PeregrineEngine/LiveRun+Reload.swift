// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import PeregrineLogs
import PeregrinePolicy
import PeregrineSystem

extension LiveRun {
    /// A configuration read again on SIGHUP, with the interfaces it names.
    public struct Reloaded: Sendable {
        public var configuration: Configuration
        public var interfaces: [String]

        public init(configuration: Configuration, interfaces: [String]) {
            self.configuration = configuration
            self.interfaces = interfaces
        }
    }

    /// How a live run reads its configuration again when SIGHUP comes (`systemctl reload`).
    public struct Reloader: Sendable {
        /// Reads the configuration file again with the command line's flags applied; a failure
        /// carries every problem (file, line and reason).
        public var load: @Sendable () -> Result<Reloaded, EngineError>
        /// Where the outcome is said (standard error, the journal, by default).
        public var notice: @Sendable (String) -> Void

        public init(
            load: @escaping @Sendable () -> Result<Reloaded, EngineError>,
            notice: @escaping @Sendable (String) -> Void = LogWriterThread.standardError
        ) {
            self.load = load
            self.notice = notice
        }
    }

    /// The settings a reload changes in the running sensor: the local networks (`local_orig`,
    /// `local_resp` of the logs written from then on) and the disabled logs. Every other setting
    /// shapes the capture sockets, the threads or the files, and takes effect at the next start.
    static let reloadableSettings: Set<String> = ["localNetworks", "privateAddressSpaceIsLocal", "disabledLogs"]

    /// The outcome of comparing a reloaded configuration with the running one: the settings it
    /// changes now, and those whose change waits for a restart (by `Configuration`'s property
    /// names, `interfaces` for the interface list).
    struct ReloadPlan: Equatable {
        var applied: [String] = []
        var needRestart: [String] = []
    }

    static func plan(from old: Configuration, to new: Configuration, interfaces: [String], newInterfaces: [String])
        -> ReloadPlan
    {
        var plan = ReloadPlan()
        let before = Dictionary(uniqueKeysWithValues: Mirror(reflecting: old).children.map { ($0.label ?? "", $0.value) })
        for child in Mirror(reflecting: new).children {
            guard let name = child.label, let previous = before[name],
                fingerprint(previous) != fingerprint(child.value)
            else { continue }
            if reloadableSettings.contains(name) {
                plan.applied.append(name)
            } else {
                plan.needRestart.append(name)
            }
        }
        if interfaces != newInterfaces { plan.needRestart.insert("interfaces", at: 0) }
        return plan
    }

    /// A setting's value as text, sets and dictionaries in sorted order so that equal ones compare equal.
    private static func fingerprint(_ value: Any) -> String {
        if let set = value as? Set<String> { return set.sorted().description }
        if let map = value as? [String: UInt16] { return map.sorted { $0.key < $1.key }.description }
        return String(describing: value)
    }

    /// The reload thread (`peregrine-reload`): until `stop`, each new SIGHUP (a new generation of
    /// `reopen`, which also makes the writer reopen the logs) reads the configuration again. An
    /// invalid one is reported with every problem and the running configuration stays; a valid
    /// one has its reloadable settings posted to the workers (local networks, taken between two
    /// ring blocks) and the writer (disabled logs, between two batches of records), and the
    /// settings that wait for a restart are named.
    static func serveReloads(
        _ reloader: Reloader, running: Configuration, interfaces: [String], mailboxes: [ReportRequests],
        writer: LogWriterThread, reopen: ReopenFlag, stop: StopFlag
    ) {
        CPUSet.nameCurrentThread("peregrine-reload")
        var running = running
        var seen = reopen.request.current
        while !stop.isSet {
            var pause = timespec(tv_sec: 0, tv_nsec: 100_000_000)
            _ = nanosleep(&pause, nil)
            let generation = reopen.request.current
            guard generation != seen else { continue }
            seen = generation
            switch reloader.load() {
            case .failure(let problems):
                reloader.notice("reload refused, the running configuration stays: \(problems)")
            case .success(let reloaded):
                let plan = plan(
                    from: running, to: reloaded.configuration, interfaces: interfaces,
                    newInterfaces: reloaded.interfaces)
                let new = reloaded.configuration
                if plan.applied.contains("localNetworks") || plan.applied.contains("privateAddressSpaceIsLocal") {
                    let local = LocalNetworks(
                        configured: new.localNetworks, privateAddressSpaceIsLocal: new.privateAddressSpaceIsLocal)
                    for mailbox in mailboxes { mailbox.post(localNetworks: local) }
                    running.localNetworks = new.localNetworks
                    running.privateAddressSpaceIsLocal = new.privateAddressSpaceIsLocal
                }
                if plan.applied.contains("disabledLogs") {
                    writer.setDisabledPaths(new.disabledLogs)
                    running.disabledLogs = new.disabledLogs
                }
                var message = "reload: "
                message += plan.applied.isEmpty ? "nothing to apply" : "applied " + plan.applied.joined(separator: ", ")
                if !plan.needRestart.isEmpty {
                    message += "; changed but applied only at the next start: " + plan.needRestart.joined(separator: ", ")
                }
                reloader.notice(message)
            }
        }
    }
}
