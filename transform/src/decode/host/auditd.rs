//! Linux audit records, grouped by event serial.
//!
//! The kernel writes one event as several lines that share `msg=audit(<time>:<serial>)`:
//! for an `execve`, `SYSCALL` (pid, ppid, auid, uid, comm, exe, key), one or more
//! `EXECVE` (the argv), `CWD`, `PATH`s, `PROCTITLE` (the argv again, hex, cut at 128
//! bytes) and `EOE`. The [`Assembler`] keeps the records of events still arriving, keyed
//! by file, node, time and serial, and emits the event on the line that completes it:
//!
//! - `EOE`;
//! - `PROCTITLE`, once the `EXECVE` arguments are all there (`argc` of them, split
//!   arguments up to their `aN_len`);
//! - the first record of a newer serial from the same node, for older events that have
//!   their `SYSCALL` and `EXECVE` (not every audit setup writes `EOE` or `PROCTITLE`);
//! - the end of the stream ([`Assembler::flush`]).
//!
//! At most [`MAX_PENDING`] events wait; past that the oldest is emitted as it is. Lines
//! that complete nothing decode to no event. Record types no event needs (`PATH`,
//! `SOCKADDR`, `USER_LOGIN`, ...) are read for their header only.
//!
//! Values follow the kernel's encoding (`audit_log_n_untrustedstring`): a value in
//! double quotes is the text itself; an unquoted one is hex, used whenever the text
//! holds a space, a quote, a control or a non-ASCII byte. A long argument is split into
//! `aN_len=<total> aN[0]=... aN[1]=...`, possibly over several `EXECVE` records. The
//! `ENRICHED` log format appends, after a `0x1d` byte, the names the numbers stand for
//! (`AUID="alice" UID="root" SYSCALL=execve`); they are used when present. Remote
//! logging prefixes `node=<host>`, which becomes the event's host; a syslog prefix before
//! it is skipped.
//!
//! An `execve` is a [`Action::ProcessStart`]: the process from `SYSCALL` and `EXECVE`,
//! its login user (`auid`, the human behind `sudo`) and working directory, and its
//! parent as far as this stream saw the parent's own `execve` (a small table of recent
//! processes per node, also giving `ancestors`). When the argv is a container CLI
//! (`docker run ...`, `kubectl exec ...`), the container CLI parser (`normalize::cli`)
//! turns it into the container operation. Other syscalls that an audit rule logged are
//! [`Action::Other`] named by the syscall. The audit rule's `key` is the event's `reason`.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::decode::{Context, DecodeError, Decoded, Decoder, Detect, Format};
use crate::model::{Action, Event, ParentProcess, Principal, Process, Source};
use crate::normalize::cli;
use crate::normalize::text::join_shell;

pub(crate) const FORMAT: Format = Format {
    source: Source::Auditd,
    logsource: ("linux", "auditd"),
    about: "Linux audit records",
    detect: Detect {
        json: &[],
        text: Some(|text, _, _| sniff(text)),
    },
    raw_roots: &[],
    decode: Decoder::Stream(|text, state, ctx| decode(text, &mut state.auditd, ctx)),
};

/// Events whose records are still arriving, at most.
const MAX_PENDING: usize = 1024;
/// Processes remembered to name the parents of later ones.
const MAX_PROCESSES: usize = 4096;
/// Ancestors named above the parent.
const MAX_ANCESTORS: usize = 8;
/// Arguments read from one event; `argc` beyond this is not waited for.
const MAX_ARGS: usize = 4096;
/// Argument bytes kept for one event.
const MAX_ARG_BYTES: usize = 1 << 20;
/// `auid` when no one logged in (`(uint32)-1`).
const UNSET_ID: &str = "4294967295";
/// The `0x1d` (GS) byte that starts the names of the `ENRICHED` format.
const ENRICHED_SEPARATOR: char = '\u{1d}';

/// Records of events still arriving, and the recent processes that name parents.
#[derive(Default)]
pub(crate) struct Assembler {
    pending: VecDeque<Group>,
    processes: VecDeque<Known>,
}

/// A process this stream saw start.
struct Known {
    node: Option<String>,
    pid: u32,
    ppid: Option<u32>,
    name: Option<String>,
    executable: Option<String>,
    command_line: Option<String>,
}

/// The records of one event read so far.
#[derive(Default)]
struct Group {
    file: String,
    node: Option<String>,
    stamp: String,
    serial: u64,
    syscall: Option<Syscall>,
    execve: bool,
    argc: Option<usize>,
    args: Vec<Arg>,
    arg_bytes: usize,
    cwd: Option<String>,
    proctitle: Option<Vec<String>>,
}

/// The `SYSCALL` record's fields, with the `ENRICHED` names.
#[derive(Default)]
struct Syscall {
    arch: Option<String>,
    number: Option<String>,
    name: Option<String>,
    success: Option<bool>,
    exit: Option<String>,
    exit_name: Option<String>,
    pid: Option<u32>,
    ppid: Option<u32>,
    auid: Option<String>,
    auid_name: Option<String>,
    uid: Option<String>,
    uid_name: Option<String>,
    comm: Option<String>,
    exe: Option<String>,
    key: Option<String>,
}

/// One argument of `EXECVE`, whole or in chunks.
#[derive(Default, Clone)]
struct Arg {
    bytes: Vec<u8>,
    /// `aN_len`: the length of a split argument, counted before or after hex encoding.
    expected: Option<usize>,
    /// Whether its chunks were hex (`aN_len` may then count hex digits).
    hex: bool,
    seen: bool,
}

impl Group {
    fn args_complete(&self) -> bool {
        let Some(argc) = self.argc else {
            return self.execve;
        };
        let over = self.arg_bytes >= MAX_ARG_BYTES;
        self.args.len() >= argc.min(MAX_ARGS)
            && self.args.iter().take(argc.min(MAX_ARGS)).all(|a| {
                a.seen
                    && (over
                        || a.expected.is_none_or(|len| {
                            a.bytes.len() >= len || (a.hex && a.bytes.len() * 2 >= len)
                        }))
            })
    }

    fn args(&self) -> Vec<String> {
        let count = self.argc.unwrap_or(self.args.len()).min(self.args.len());
        self.args
            .iter()
            .take(count)
            .map(|a| String::from_utf8_lossy(&a.bytes).into_owned())
            .collect()
    }
}

/// One line's header.
struct Record<'a> {
    node: Option<&'a str>,
    kind: &'a str,
    stamp: &'a str,
    serial: u64,
    /// The fields after `): `.
    body: &'a str,
    /// The `ENRICHED` names after the GS byte.
    enriched: Option<&'a str>,
    /// Where `body` starts in the line, for error columns.
    body_at: usize,
}

/// An audit line holds `msg=audit(` (`type=... msg=audit(...)`).
fn sniff(text: &str) -> bool {
    text.contains("msg=audit(")
}

fn decode<'a>(
    text: &'a str,
    state: &mut Assembler,
    ctx: &Context<'_>,
) -> Result<Vec<Decoded<'a>>, DecodeError> {
    let record = parse_record(text)?;
    state.push(&record, ctx.file)
}

fn error(column: usize, message: &str) -> DecodeError {
    DecodeError::shape(Source::Auditd, column, message)
}

/// `[prefix] [node=N] type=T msg=audit(SECONDS.MILLIS:SERIAL): fields[GS names]`.
fn parse_record(text: &str) -> Result<Record<'_>, DecodeError> {
    const MSG: &str = "msg=audit(";
    let at = text
        .find(MSG)
        .ok_or_else(|| error(1, "no `msg=audit(` header"))?;
    let prefix = text.get(..at).unwrap_or_default();
    let mut kind = None;
    let mut node = None;
    for word in prefix.split_whitespace() {
        if let Some(k) = word.strip_prefix("type=") {
            kind = Some(k);
        } else if let Some(n) = word.strip_prefix("node=") {
            node = Some(n).filter(|n| !n.is_empty());
        }
    }
    let kind = kind
        .filter(|k| !k.is_empty())
        .ok_or_else(|| error(at + 1, "no `type=` before `msg=audit(`"))?;
    let inner_at = at + MSG.len();
    let inner = text.get(inner_at..).unwrap_or_default();
    let close = inner
        .find(')')
        .ok_or_else(|| error(inner_at + 1, "`msg=audit(` is not closed"))?;
    let id = inner.get(..close).unwrap_or_default();
    let (stamp, serial) = id
        .rsplit_once(':')
        .ok_or_else(|| error(inner_at + 1, "no `:serial` in `msg=audit(...)`"))?;
    let serial = serial.trim().parse::<u64>().map_err(|_| {
        error(
            inner_at + stamp.len() + 2,
            "the event serial is not a number",
        )
    })?;
    let body_at = inner_at + close + 1;
    let rest = text.get(body_at..).unwrap_or_default();
    let trimmed = rest.trim_start();
    let trimmed = trimmed.strip_prefix(':').unwrap_or(trimmed);
    let body_at = body_at + (rest.len() - trimmed.len());
    let (body, enriched) = match trimmed.split_once(ENRICHED_SEPARATOR) {
        Some((body, names)) => (body, Some(names)),
        None => (trimmed, None),
    };
    Ok(Record {
        node,
        kind,
        stamp: stamp.trim(),
        serial,
        body,
        enriched,
        body_at,
    })
}

/// A field's value as written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Value<'a> {
    /// In double (or, for user-space messages, single) quotes: the text itself.
    Quoted(&'a str),
    /// Unquoted: a number, a word, or hex-encoded text.
    Bare(&'a str),
}

impl<'a> Value<'a> {
    fn raw(self) -> &'a str {
        match self {
            Value::Quoted(s) | Value::Bare(s) => s,
        }
    }

    /// The bytes of an untrusted string: quoted text as is, unquoted hex decoded;
    /// `(null)` is absent.
    fn bytes(self) -> Option<Vec<u8>> {
        match self {
            Value::Quoted(s) => Some(s.as_bytes().to_vec()),
            Value::Bare("(null)" | "(none)") => None,
            Value::Bare(s) => Some(hex(s).unwrap_or_else(|| s.as_bytes().to_vec())),
        }
    }

    fn text(self) -> Option<String> {
        self.bytes()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// A plain value (`pid=1234`, `AUID="alice"`), never hex.
    fn plain(self) -> Option<String> {
        let s = self.raw();
        (!s.is_empty() && s != "(null)" && s != "(none)").then(|| s.to_string())
    }
}

/// Upper- or lower-case hex of even length to bytes.
fn hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let (pairs, _) = s.as_bytes().as_chunks::<2>();
    pairs
        .iter()
        .map(|&[hi, lo]| Some(digit(hi)? << 4 | digit(lo)?))
        .collect()
}

/// `key=value` fields separated by spaces.
struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a str, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.rest.trim_start();
            if rest.is_empty() {
                return None;
            }
            let word_end = rest.find([' ', '=']).unwrap_or(rest.len());
            let key = rest.get(..word_end).unwrap_or_default();
            let after = rest.get(word_end..).unwrap_or_default();
            let Some(value_text) = after.strip_prefix('=') else {
                // A word without `=` (the ` : ` of interpreted output): skipped.
                self.rest = after;
                continue;
            };
            let (value, rest) = match value_text.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = value_text.get(1..).unwrap_or_default();
                    match inner.find(q) {
                        Some(end) => (
                            Value::Quoted(inner.get(..end).unwrap_or_default()),
                            inner.get(end + 1..).unwrap_or_default(),
                        ),
                        None => (Value::Quoted(inner), ""),
                    }
                }
                _ => {
                    let end = value_text.find(' ').unwrap_or(value_text.len());
                    (
                        Value::Bare(value_text.get(..end).unwrap_or_default()),
                        value_text.get(end..).unwrap_or_default(),
                    )
                }
            };
            self.rest = rest;
            return Some((key, value));
        }
    }
}

fn fields(text: &str) -> Fields<'_> {
    Fields { rest: text }
}

/// Which part of an `EXECVE` argument a key names.
enum ArgKey {
    Whole(usize),
    Len(usize),
    Chunk(usize),
}

/// `a3`, `a3_len`, `a3[0]`.
fn arg_key(key: &str) -> Option<ArgKey> {
    let rest = key.strip_prefix('a')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let index = rest.get(..digits)?.parse::<usize>().ok()?;
    match rest.get(digits..)? {
        "" => Some(ArgKey::Whole(index)),
        "_len" => Some(ArgKey::Len(index)),
        s if s.starts_with('[') && s.ends_with(']') => Some(ArgKey::Chunk(index)),
        _ => None,
    }
}

impl Assembler {
    /// Emit what is pending (end of stream), oldest first.
    pub(crate) fn flush(&mut self) -> Vec<Decoded<'static>> {
        let groups: Vec<Group> = self.pending.drain(..).collect();
        groups.into_iter().filter_map(|g| self.emit(g)).collect()
    }

    fn push(
        &mut self,
        record: &Record<'_>,
        file: &str,
    ) -> Result<Vec<Decoded<'static>>, DecodeError> {
        let mut out = Vec::new();
        self.emit_older(file, record.node, record.serial, &mut out);
        let grouped = matches!(record.kind, "SYSCALL" | "EXECVE" | "CWD" | "PROCTITLE");
        if record.kind == "EOE" {
            if let Some(at) = self.find(file, record)
                && let Some(group) = self.pending.remove(at)
            {
                out.extend(self.emit(group));
            }
            return Ok(out);
        }
        if !grouped {
            return Ok(out);
        }
        let at = match self.find(file, record) {
            Some(at) => at,
            None => {
                if self.pending.len() >= MAX_PENDING
                    && let Some(oldest) = self.pending.pop_front()
                {
                    out.extend(self.emit(oldest));
                }
                self.pending.push_back(Group {
                    file: file.to_string(),
                    node: record.node.map(str::to_string),
                    stamp: record.stamp.to_string(),
                    serial: record.serial,
                    ..Group::default()
                });
                self.pending.len() - 1
            }
        };
        let Some(group) = self.pending.get_mut(at) else {
            return Ok(out);
        };
        match record.kind {
            "SYSCALL" => group.syscall = Some(syscall(record)),
            "EXECVE" => absorb_execve(group, record)?,
            "CWD" => {
                group.cwd = fields(record.body)
                    .find(|(k, _)| *k == "cwd")
                    .and_then(|(_, v)| v.text());
            }
            "PROCTITLE" => {
                group.proctitle = fields(record.body)
                    .find(|(k, _)| *k == "proctitle")
                    .and_then(|(_, v)| proctitle(v));
                let ready = group.syscall.is_some() && (!group.execve || group.args_complete());
                if ready && let Some(group) = self.pending.remove(at) {
                    out.extend(self.emit(group));
                }
            }
            _ => {}
        }
        Ok(out)
    }

    fn find(&self, file: &str, record: &Record<'_>) -> Option<usize> {
        self.pending.iter().position(|g| {
            g.serial == record.serial
                && g.stamp == record.stamp
                && g.node.as_deref() == record.node
                && g.file == file
        })
    }

    /// Emit the events of `node` older than `serial` that have their `SYSCALL` and
    /// `EXECVE`: a newer event has begun, so theirs are complete.
    fn emit_older(
        &mut self,
        file: &str,
        node: Option<&str>,
        serial: u64,
        out: &mut Vec<Decoded<'static>>,
    ) {
        while let Some(at) = self.pending.iter().position(|g| {
            g.serial < serial
                && g.node.as_deref() == node
                && g.file == file
                && g.syscall.is_some()
                && g.execve
        }) {
            if let Some(group) = self.pending.remove(at) {
                out.extend(self.emit(group));
            }
        }
    }

    /// The event of a group with a `SYSCALL`; groups without one are dropped.
    fn emit(&mut self, group: Group) -> Option<Decoded<'static>> {
        let syscall = group.syscall.as_ref()?;
        let args = if group.execve {
            group.args()
        } else {
            group.proctitle.clone().unwrap_or_default()
        };
        let name = syscall_name(syscall);
        let is_exec = group.execve || matches!(name.as_deref(), Some("execve" | "execveat"));
        let (action, raw_action) = if is_exec {
            (
                Action::ProcessStart,
                name.unwrap_or_else(|| "execve".to_string()),
            )
        } else {
            let raw = name
                .or_else(|| syscall.number.as_ref().map(|n| format!("syscall {n}")))
                .unwrap_or_else(|| "syscall".to_string());
            (Action::Other, raw)
        };

        let mut event = Event::new(Source::Auditd, action, Cow::Owned(raw_action));
        event.time_ns = stamp_ns(&group.stamp);
        event.host = group.node.clone().map(Cow::Owned);
        event.request_id = Some(Cow::Owned(format!("{}:{}", group.stamp, group.serial)));
        event.reason = syscall.key.clone().map(Cow::Owned);
        if syscall.success == Some(false) {
            event.error = syscall
                .exit_name
                .clone()
                .or_else(|| syscall.exit.as_ref().map(|e| format!("exit={e}")))
                .map(Cow::Owned);
        }

        let user = syscall.uid_name.clone().or_else(|| syscall.uid.clone());
        let login_user = syscall
            .auid
            .as_ref()
            .filter(|a| a.as_str() != UNSET_ID && a.as_str() != "-1")
            .and(
                syscall
                    .auid_name
                    .clone()
                    .filter(|n| n != "unset")
                    .or_else(|| syscall.auid.clone()),
            );
        event.principal = login_user
            .clone()
            .or_else(|| user.clone())
            .map(|name| Principal {
                name: Cow::Owned(name),
                uid: syscall
                    .auid
                    .clone()
                    .filter(|a| a != UNSET_ID && a != "-1")
                    .or_else(|| syscall.uid.clone())
                    .map(Cow::Owned),
                kind: Some(Cow::Borrowed("unix")),
                ..Principal::default()
            });

        let command_line = (!args.is_empty()).then(|| join_shell(&args));
        let parent = syscall.ppid.map(|ppid| {
            let known = self.lookup(group.node.as_deref(), ppid);
            ParentProcess {
                pid: Some(ppid),
                name: known.and_then(|k| k.name.clone()).map(Cow::Owned),
                executable: known.and_then(|k| k.executable.clone()).map(Cow::Owned),
                command_line: known.and_then(|k| k.command_line.clone()).map(Cow::Owned),
            }
        });
        let ancestors = self.ancestors(group.node.as_deref(), syscall.ppid);
        let args: Vec<Cow<'static, str>> = args.into_iter().map(Cow::Owned).collect();
        event.process = Some(Process {
            pid: syscall.pid,
            name: syscall.comm.clone().map(Cow::Owned),
            executable: syscall.exe.clone().map(Cow::Owned),
            args: args.clone(),
            command_line: command_line.clone().map(Cow::Owned),
            user: user.map(Cow::Owned),
            login_user: login_user.map(Cow::Owned),
            cwd: group.cwd.clone().map(Cow::Owned),
            parent,
            ancestors,
            ..Process::default()
        });
        if is_exec {
            if let Some(pid) = syscall.pid {
                self.remember(Known {
                    node: group.node.clone(),
                    pid,
                    ppid: syscall.ppid,
                    name: syscall.comm.clone(),
                    executable: syscall.exe.clone(),
                    command_line,
                });
            }
            cli::apply(&mut event, &args);
        }
        Some(Decoded::evaluated(event))
    }

    fn lookup(&self, node: Option<&str>, pid: u32) -> Option<&Known> {
        self.processes
            .iter()
            .rev()
            .find(|k| k.pid == pid && k.node.as_deref() == node)
    }

    /// Executables above the parent `ppid`, nearest first, as far as this stream knows.
    fn ancestors(&self, node: Option<&str>, ppid: Option<u32>) -> Vec<Cow<'static, str>> {
        let mut out = Vec::new();
        let mut next = ppid.and_then(|p| self.lookup(node, p)).and_then(|k| k.ppid);
        while let Some(pid) = next {
            if out.len() >= MAX_ANCESTORS {
                break;
            }
            let Some(known) = self.lookup(node, pid) else {
                break;
            };
            if let Some(name) = known.executable.clone().or_else(|| known.name.clone()) {
                out.push(Cow::Owned(name));
            }
            next = known.ppid.filter(|p| *p != pid);
        }
        out
    }

    fn remember(&mut self, known: Known) {
        if self.processes.len() >= MAX_PROCESSES {
            self.processes.pop_front();
        }
        self.processes.push_back(known);
    }
}

fn syscall(record: &Record<'_>) -> Syscall {
    let mut s = Syscall::default();
    for (key, value) in fields(record.body) {
        match key {
            "arch" => s.arch = value.plain(),
            "syscall" => s.number = value.plain(),
            "success" => s.success = Some(value.raw() == "yes"),
            "exit" => s.exit = value.plain(),
            "pid" => s.pid = value.raw().parse().ok(),
            "ppid" => s.ppid = value.raw().parse().ok(),
            "auid" => s.auid = value.plain(),
            "uid" => s.uid = value.plain(),
            "comm" => s.comm = value.text(),
            "exe" => s.exe = value.text(),
            "key" => s.key = value.text(),
            _ => {}
        }
    }
    for (key, value) in fields(record.enriched.unwrap_or_default()) {
        match key {
            "SYSCALL" => s.name = value.plain(),
            "AUID" => s.auid_name = value.plain(),
            "UID" => s.uid_name = value.plain(),
            "EXIT" => s.exit_name = value.plain(),
            _ => {}
        }
    }
    s
}

fn absorb_execve(group: &mut Group, record: &Record<'_>) -> Result<(), DecodeError> {
    group.execve = true;
    for (key, value) in fields(record.body) {
        if key == "argc" {
            let argc = value.raw().parse::<usize>().map_err(|_| {
                let column = record.body_at + record.body.find("argc=").unwrap_or(0) + 6;
                error(column, "`argc` is not a number")
            })?;
            group.argc = Some(argc);
            continue;
        }
        let Some(which) = arg_key(key) else {
            continue;
        };
        let index = match which {
            ArgKey::Whole(i) | ArgKey::Len(i) | ArgKey::Chunk(i) => i,
        };
        if index >= MAX_ARGS {
            continue;
        }
        if group.args.len() <= index {
            group.args.resize(index + 1, Arg::default());
        }
        let Some(arg) = group.args.get_mut(index) else {
            continue;
        };
        match which {
            ArgKey::Len(_) => {
                arg.expected = value.raw().parse().ok();
                arg.seen = true;
            }
            ArgKey::Whole(_) | ArgKey::Chunk(_) => {
                arg.seen = true;
                arg.hex |= matches!(value, Value::Bare(_));
                if let Some(bytes) = value.bytes()
                    && group.arg_bytes < MAX_ARG_BYTES
                {
                    group.arg_bytes += bytes.len();
                    arg.bytes.extend_from_slice(&bytes);
                }
            }
        }
    }
    Ok(())
}

/// The argv in `PROCTITLE`: hex with NUL between arguments, or one quoted word.
fn proctitle(value: Value<'_>) -> Option<Vec<String>> {
    let bytes = value.bytes()?;
    let args: Vec<String> = bytes
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    (!args.is_empty()).then_some(args)
}

/// The syscall's name: the `ENRICHED` one, else from the number for the common
/// architectures.
fn syscall_name(s: &Syscall) -> Option<String> {
    if let Some(name) = &s.name {
        return Some(name.clone());
    }
    let number = s.number.as_deref()?.parse::<u32>().ok()?;
    let name = match s.arch.as_deref() {
        // x86_64
        Some("c000003e") | None => match number {
            59 => "execve",
            322 => "execveat",
            42 => "connect",
            2 => "open",
            257 => "openat",
            165 => "mount",
            101 => "ptrace",
            272 => "unshare",
            308 => "setns",
            175 => "init_module",
            313 => "finit_module",
            _ => return None,
        },
        // aarch64
        Some("c00000b7") => match number {
            221 => "execve",
            281 => "execveat",
            203 => "connect",
            56 => "openat",
            40 => "mount",
            117 => "ptrace",
            97 => "unshare",
            268 => "setns",
            _ => return None,
        },
        // i386
        Some("40000003") => match number {
            11 => "execve",
            358 => "execveat",
            _ => return None,
        },
        Some(_) => return None,
    };
    Some(name.to_string())
}

/// `1714557600.123` to nanoseconds.
fn stamp_ns(stamp: &str) -> Option<i64> {
    let (seconds, fraction) = stamp.split_once('.').unwrap_or((stamp, ""));
    let seconds = seconds.parse::<i64>().ok()?;
    let mut nanos: i64 = 0;
    let mut scale: i64 = 100_000_000;
    for b in fraction.bytes().take(9) {
        if !b.is_ascii_digit() {
            return None;
        }
        nanos += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerRole;

    fn hexed(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02X}")).collect()
    }

    /// Feed lines, returning each line's events.
    fn feed(lines: &[&str]) -> (Vec<Vec<Decoded<'static>>>, Assembler) {
        let mut state = Assembler::default();
        let ctx = Context::default();
        let out = lines
            .iter()
            .map(|l| {
                decode(l, &mut state, &ctx)
                    .unwrap_or_else(|e| panic!("{e}: {l}"))
                    .into_iter()
                    .map(Decoded::into_owned)
                    .collect()
            })
            .collect();
        (out, state)
    }

    fn syscall_line(serial: u32, pid: u32, ppid: u32, comm: &str, exe: &str) -> String {
        format!(
            r#"type=SYSCALL msg=audit(1714557600.{serial:03}:{serial}): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c2a1b2c0 a1=55d0c2a1b300 a2=55d0c2a1b400 a3=0 items=2 ppid={ppid} pid={pid} auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="{comm}" exe="{exe}" subj=unconfined key="exec""#
        )
    }

    #[test]
    fn an_execve_event_is_emitted_on_proctitle() {
        let syscall = syscall_line(10, 1234, 1200, "ls", "/usr/bin/ls");
        let lines = [
            syscall.as_str(),
            r#"type=EXECVE msg=audit(1714557600.010:10): argc=2 a0="ls" a1="-la""#,
            r#"type=CWD msg=audit(1714557600.010:10): cwd="/home/alice""#,
            r#"type=PATH msg=audit(1714557600.010:10): item=0 name="/usr/bin/ls" inode=1 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"#,
            "type=PROCTITLE msg=audit(1714557600.010:10): proctitle=6C73002D6C61",
            "type=EOE msg=audit(1714557600.010:10): ",
        ];
        let (out, mut state) = feed(&lines);
        assert!(out[..4].iter().all(Vec::is_empty));
        assert_eq!(out[4].len(), 1, "emitted on PROCTITLE");
        assert!(out[5].is_empty(), "EOE after emission adds nothing");
        assert!(state.flush().is_empty());
        let event = &out[4][0].event;
        assert_eq!(event.source, Source::Auditd);
        assert_eq!(event.action, Action::ProcessStart);
        assert_eq!(event.raw_action, "execve");
        assert_eq!(event.time_ns, Some(1_714_557_600_010_000_000));
        assert_eq!(event.request_id.as_deref(), Some("1714557600.010:10"));
        assert_eq!(event.reason.as_deref(), Some("exec"));
        assert_eq!(event.host, None);
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.pid, Some(1234));
        assert_eq!(p.parent.as_ref().unwrap().pid, Some(1200));
        assert_eq!(p.name.as_deref(), Some("ls"));
        assert_eq!(p.executable.as_deref(), Some("/usr/bin/ls"));
        assert_eq!(p.args, ["ls", "-la"]);
        assert_eq!(p.command_line.as_deref(), Some("ls -la"));
        assert_eq!(p.user.as_deref(), Some("0"));
        assert_eq!(p.login_user.as_deref(), Some("1000"));
        assert_eq!(p.cwd.as_deref(), Some("/home/alice"));
        let principal = event.principal.as_ref().unwrap();
        assert_eq!(principal.name, "1000");
        assert_eq!(principal.kind.as_deref(), Some("unix"));
    }

    #[test]
    fn hex_and_split_arguments_and_parent_from_the_stream() {
        let script = "import os; os.system('id')";
        let long = "A".repeat(40);
        let (first, second) = long.split_at(25);
        let parent = syscall_line(20, 1200, 1100, "python3", "/usr/bin/python3.11");
        let child = syscall_line(21, 1234, 1200, "docker", "/usr/bin/docker");
        let lines = [
            parent.clone(),
            format!(
                r#"type=EXECVE msg=audit(1714557600.020:20): argc=3 a0="python3" a1="-c" a2={}"#,
                hexed(script)
            ),
            "type=EOE msg=audit(1714557600.020:20): ".to_string(),
            child,
            format!(
                r#"type=EXECVE msg=audit(1714557600.021:21): argc=4 a0="docker" a1="run" a2="alpine" a3_len=40 a3[0]={}"#,
                hexed(first)
            ),
            format!(
                r#"type=EXECVE msg=audit(1714557600.021:21): a3[1]={}"#,
                hexed(second)
            ),
            format!(
                "type=PROCTITLE msg=audit(1714557600.021:21): proctitle={}",
                hexed("docker\0run\0alpine")
            ),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (out, _) = feed(&refs);
        assert_eq!(out[2].len(), 1, "emitted on EOE");
        let p = out[2][0].event.process.as_ref().unwrap();
        assert_eq!(p.args[2], script);
        assert_eq!(
            p.command_line.as_deref(),
            Some("python3 -c 'import os; os.system('\\''id'\\'')'")
        );
        assert!(out[4].is_empty(), "waits for the second chunk");
        assert!(out[5].is_empty());
        assert_eq!(out[6].len(), 1);
        let event = &out[6][0].event;
        assert_eq!(event.action, Action::ContainerRun);
        assert_eq!(event.raw_action, "docker run");
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.args.len(), 4);
        assert_eq!(p.args[3], long);
        let parent = p.parent.as_ref().unwrap();
        assert_eq!(parent.pid, Some(1200));
        assert_eq!(parent.executable.as_deref(), Some("/usr/bin/python3.11"));
        assert_eq!(parent.name.as_deref(), Some("python3"));
        assert!(
            parent
                .command_line
                .as_deref()
                .unwrap()
                .starts_with("python3 -c")
        );
        assert_eq!(
            event.containers[0].image.as_ref().unwrap().reference,
            "alpine"
        );
        assert_eq!(
            event.containers[0].security.command.as_ref().unwrap().len(),
            1
        );
    }

    #[test]
    fn split_length_may_count_hex_digits() {
        let syscall = syscall_line(25, 5, 1, "sh", "/bin/sh");
        let arg = "a b c d e f";
        let (first, second) = arg.split_at(5);
        let lines = [
            syscall,
            format!(
                r#"type=EXECVE msg=audit(1714557600.025:25): argc=2 a0="sh" a1_len={} a1[0]={}"#,
                arg.len() * 2,
                hexed(first)
            ),
            format!(
                "type=EXECVE msg=audit(1714557600.025:25): a1[1]={}",
                hexed(second)
            ),
            "type=PROCTITLE msg=audit(1714557600.025:25): proctitle=7368".to_string(),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (out, _) = feed(&refs);
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), [0, 0, 0, 1]);
        assert_eq!(out[3][0].event.process.as_ref().unwrap().args, ["sh", arg]);
    }

    #[test]
    fn newer_serial_completes_an_event_without_eoe() {
        let first = syscall_line(30, 1, 0, "id", "/usr/bin/id");
        let second = syscall_line(31, 2, 0, "id", "/usr/bin/id");
        let lines = [
            first.as_str(),
            r#"type=EXECVE msg=audit(1714557600.030:30): argc=1 a0="id""#,
            second.as_str(),
            r#"type=EXECVE msg=audit(1714557600.031:31): argc=1 a0="id""#,
        ];
        let (out, mut state) = feed(&lines);
        assert_eq!(
            out[2].len(),
            1,
            "the older event goes out with the newer line"
        );
        assert_eq!(out[2][0].event.process.as_ref().unwrap().pid, Some(1));
        let rest = state.flush();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].event.process.as_ref().unwrap().pid, Some(2));
    }

    #[test]
    fn enriched_names_and_node_prefix() {
        let line = format!(
            "node=build-1 type=SYSCALL msg=audit(1714557600.500:77): arch=c000003e syscall=59 success=yes exit=0 ppid=900 pid=901 auid=1000 uid=0 comm=\"kubectl\" exe=\"/usr/local/bin/kubectl\" key=(null){ENRICHED_SEPARATOR}ARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\" GID=\"root\""
        );
        let lines = [
            line.as_str(),
            r#"node=build-1 type=EXECVE msg=audit(1714557600.500:77): argc=4 a0="kubectl" a1="get" a2="secrets" a3="-A""#,
            "node=build-1 type=EOE msg=audit(1714557600.500:77): ",
        ];
        let (out, _) = feed(&lines);
        let event = &out[2][0].event;
        assert_eq!(event.host.as_deref(), Some("build-1"));
        assert_eq!(event.reason, None);
        assert_eq!(event.action, Action::ResourceList);
        assert_eq!(event.workload.as_ref().unwrap().kind, "Secret");
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.user.as_deref(), Some("root"));
        assert_eq!(p.login_user.as_deref(), Some("alice"));
        let principal = event.principal.as_ref().unwrap();
        assert_eq!(principal.name, "alice");
        assert_eq!(principal.uid.as_deref(), Some("1000"));
    }

    #[test]
    fn unset_auid_and_failed_syscall() {
        let lines = [
            r#"type=SYSCALL msg=audit(1714557601.000:90): arch=c000003e syscall=59 success=no exit=-13 ppid=1 pid=50 auid=4294967295 uid=33 comm="sh" exe="/usr/bin/dash" key="www""#,
            r#"type=EXECVE msg=audit(1714557601.000:90): argc=1 a0="/tmp/x""#,
            "type=EOE msg=audit(1714557601.000:90): ",
        ];
        let (out, _) = feed(&lines);
        let event = &out[2][0].event;
        assert_eq!(event.error.as_deref(), Some("exit=-13"));
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.login_user, None);
        assert_eq!(event.principal.as_ref().unwrap().name, "33");
    }

    #[test]
    fn exec_into_a_pod_keeps_the_cli_as_parent() {
        let syscall = syscall_line(40, 700, 650, "kubectl", "/usr/local/bin/kubectl");
        let lines = [
            syscall.as_str(),
            r#"type=EXECVE msg=audit(1714557600.040:40): argc=8 a0="kubectl" a1="exec" a2="-it" a3="web-1" a4="-c" a5="init-setup" a6="--" a7="sh""#,
            "type=EOE msg=audit(1714557600.040:40): ",
        ];
        let (out, _) = feed(&lines);
        let event = &out[2][0].event;
        assert_eq!(event.action, Action::ContainerExec);
        assert_eq!(event.containers[0].name.as_deref(), Some("init-setup"));
        assert_eq!(event.containers[0].role, ContainerRole::Main);
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.args, ["sh"]);
        assert_eq!(p.parent.as_ref().unwrap().pid, Some(700));
        assert_eq!(p.login_user.as_deref(), Some("1000"));
    }

    #[test]
    fn other_syscalls_and_records() {
        let lines = [
            r#"type=SYSCALL msg=audit(1714557602.000:95): arch=c000003e syscall=42 success=yes exit=0 ppid=1 pid=60 auid=1000 uid=1000 comm="curl" exe="/usr/bin/curl" key="egress""#,
            "type=SOCKADDR msg=audit(1714557602.000:95): saddr=0200115CCB00713200000000",
            "type=PROCTITLE msg=audit(1714557602.000:95): proctitle=6375726C",
            r#"type=USER_LOGIN msg=audit(1714557603.000:96): pid=1 uid=0 auid=1000 ses=1 msg='op=login acct="alice" exe="/usr/sbin/sshd" hostname=? addr=10.0.0.9 terminal=ssh res=success'"#,
        ];
        let (out, mut state) = feed(&lines);
        let event = &out[2][0].event;
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.raw_action, "connect");
        assert_eq!(event.process.as_ref().unwrap().args, ["curl"]);
        assert!(out[3].is_empty());
        assert!(state.flush().is_empty());
    }

    #[test]
    fn pending_events_are_bounded() {
        let mut state = Assembler::default();
        let ctx = Context::default();
        let mut emitted = 0;
        for serial in 0..(MAX_PENDING as u32 + 10) {
            // SYSCALL only, in decreasing serial order so no newer serial completes them.
            let line = syscall_line(0, serial, 1, "x", "/x")
                .replace(":0)", &format!(":{})", 100_000 - serial));
            emitted += decode(&line, &mut state, &ctx).unwrap().len();
        }
        assert_eq!(emitted, 10);
        assert_eq!(state.pending.len(), MAX_PENDING);
        assert_eq!(state.flush().len(), MAX_PENDING);
    }

    #[test]
    fn not_audit_records_are_errors() {
        let mut state = Assembler::default();
        let ctx = Context::default();
        for (line, column) in [
            ("msg=audit(1714557600.1:1): x=1", 1),
            ("type=SYSCALL msg=audit(1714557600.1:1", 24),
            ("type=SYSCALL msg=audit(1714557600.1): a", 24),
            ("type=SYSCALL msg=audit(1714557600.1:x): a", 37),
            ("hello world", 1),
        ] {
            match decode(line, &mut state, &ctx) {
                Err(DecodeError::Shape {
                    format: Source::Auditd,
                    column: c,
                    ..
                }) => assert_eq!(c, column, "{line}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        // A bad argc is located.
        let bad = r#"type=EXECVE msg=audit(1714557600.1:2): argc=x a0="a""#;
        assert!(matches!(
            decode(bad, &mut state, &ctx),
            Err(DecodeError::Shape { column: 45, .. })
        ));
    }

    #[test]
    fn values_and_odd_input() {
        assert_eq!(hex("6C73"), Some(b"ls".to_vec()));
        assert_eq!(hex("6C7"), None);
        assert_eq!(hex("zz"), None);
        assert_eq!(stamp_ns("1714557600.123"), Some(1_714_557_600_123_000_000));
        assert_eq!(stamp_ns("1714557600"), Some(1_714_557_600_000_000_000));
        assert_eq!(stamp_ns("05/01/2024 10:00:00.123"), None);
        let f: Vec<_> = fields(r#"a="x y" b=C3A9 c msg='op=x res=1' d="#).collect();
        assert_eq!(
            f,
            [
                ("a", Value::Quoted("x y")),
                ("b", Value::Bare("C3A9")),
                ("msg", Value::Quoted("op=x res=1")),
                ("d", Value::Bare("")),
            ]
        );
        assert_eq!(Value::Bare("C3A9").text().as_deref(), Some("é"));
        assert_eq!(Value::Bare("(null)").text(), None);
        // A syslog prefix is skipped; a huge argc or index is not allocated for.
        let mut state = Assembler::default();
        let ctx = Context::default();
        for line in [
            "May  1 10:00:00 host1 audispd: node=host1 type=EXECVE msg=audit(1714557600.1:3): argc=99999999999 a99999999=\"x\" a3[=1 a_len=2 a0[0]=zz",
            "type=PROCTITLE msg=audit(1714557600.1:3): proctitle=",
            "type=EOE msg=audit(1714557600.1:3)",
            "type= msg=audit(:)",
        ] {
            let _ = decode(line, &mut state, &ctx);
        }
        let _ = state.flush();
    }
}
