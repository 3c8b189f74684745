// SPDX-License-Identifier: Apache-2.0
import PeregrineSystem

/// `/etc/peregrine/peregrine.yaml`: reads it, applies the command line over it and checks the result
/// against the machine, returning the settings or every problem found, each with file, line and reason.
///
/// `peregrine --config FILE`, `peregrine check [FILE]` and a reload on SIGHUP all make the one call
/// ``load(path:overrides:system:)``; a reload that gets `.failure` keeps the running settings.
public enum ConfigurationFile {
    /// Where the service's file lives (the systemd unit passes it with `--config`).
    public static let defaultPath = "/etc/peregrine/peregrine.yaml"

    /// Reads the file at `path` (or only the defaults when `path` is `nil`), applies `overrides`
    /// and checks the result.
    ///
    /// Precedence, lowest first: defaults, the file, the command line. What is checked: YAML syntax,
    /// unknown keys (with the nearest known one), types, each value's range and syntax, then the
    /// combined settings against `system`: workers against the CPU list and online CPUs, ring and
    /// UMEM memory of every worker and interface against physical memory, and whether the log
    /// directory (or the nearest existing parent it would be created in) is writable.
    ///
    /// - Parameters:
    ///   - path: the configuration file; `nil` for none (defaults and command line only; a problem with
    ///     a default then names the source `defaults`).
    ///   - overrides: the command line's values.
    ///   - system: the machine to check against; this one by default.
    /// - Returns: the settings, or every problem sorted by line (command-line problems last).
    public static func load(
        path: String?,
        overrides: CommandLineOverrides = CommandLineOverrides(),
        system: SystemFacts = .current()
    ) -> Result<SensorSettings, ConfigurationProblems> {
        guard let path else { return parse(yaml: "", file: "defaults", overrides: overrides, system: system) }
        let text: String
        do throws(SystemError) {
            text = try TextFile.read(path)
        } catch {
            return .failure(ConfigurationProblems([ConfigurationProblem(source: path, line: nil, reason: "\(error)")]))
        }
        return parse(yaml: text, file: path, overrides: overrides, system: system)
    }

    /// ``load(path:overrides:system:)`` on text already read; `file` names it in problems.
    public static func parse(
        yaml: String,
        file: String,
        overrides: CommandLineOverrides = CommandLineOverrides(),
        system: SystemFacts = .current()
    ) -> Result<SensorSettings, ConfigurationProblems> {
        let reader = ConfigurationReader(file: file)
        let readable = reader.read(yaml)
        var fromFlags = Set<String>()
        let (settings, flagProblems) = reader.settings.overridden(by: overrides, keys: &fromFlags)
        var problems = reader.problems + flagProblems
        // Without a tree there are no settings to check, only the syntax error to report.
        if readable {
            let lines = reader.lines
            var check = SettingsCheck(settings: settings, system: system) { key in
                fromFlags.contains(key) ? (ConfigurationProblem.commandLine, nil) : (file, lines[key])
            }
            problems += check.run()
        }
        return problems.isEmpty ? .success(settings) : .failure(ConfigurationProblems(problems))
    }
}
