//! Flag scanning shared by the container CLIs: which words of an argv are flags, which
//! of those take a value, and which are arguments.
//!
//! The Docker-family CLIs are strict (`pflag` with interspersed arguments off): every
//! flag takes a value except the booleans listed, and the first argument that is not a
//! flag ends the flags. kubectl intersperses flags and arguments, so there the table lists
//! the flags that take a value and every other flag is a boolean.

use std::borrow::Cow;

use crate::normalize::text::sub;

/// Which flags take a value.
pub(super) struct FlagSpec {
    /// Flag names without dashes.
    pub(super) names: &'static [&'static str],
    /// True: `names` are the booleans and every other flag takes a value (Docker). False:
    /// `names` take values and every other flag is a boolean (kubectl).
    pub(super) names_are_booleans: bool,
    /// Flags and arguments mix (kubectl); else the first argument ends the flags.
    pub(super) interspersed: bool,
}

impl FlagSpec {
    fn takes_value(&self, name: &str) -> bool {
        self.names.contains(&name) != self.names_are_booleans
    }
}

/// An argv split into flags and arguments.
#[derive(Default)]
pub(super) struct Scanned<'b, 'a> {
    /// `(name, value)`; the name without dashes, the value when the flag took one.
    pub(super) flags: Vec<(&'b str, Option<Cow<'a, str>>)>,
    /// Arguments that are not flags, up to the first one when not interspersed.
    pub(super) positional: Vec<Cow<'a, str>>,
    /// Not interspersed: what follows the first argument, verbatim. Interspersed: what
    /// follows `--`.
    pub(super) rest: Vec<Cow<'a, str>>,
    /// Whether a `--` was seen.
    pub(super) dash: bool,
}

impl<'a> Scanned<'_, 'a> {
    pub(super) fn has(&self, names: &[&str]) -> bool {
        self.flags.iter().any(|(n, _)| names.contains(n))
    }

    /// The last value given to any of `names` (`--flag=value` or `--flag value`).
    pub(super) fn value(&self, names: &[&str]) -> Option<Cow<'a, str>> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| names.contains(n))
            .and_then(|(_, v)| v.clone())
    }

    pub(super) fn values<'s>(
        &'s self,
        names: &'s [&str],
    ) -> impl Iterator<Item = &'s Cow<'a, str>> + 's {
        self.flags
            .iter()
            .filter(move |(n, _)| names.contains(n))
            .filter_map(|(_, v)| v.as_ref())
    }

    /// A boolean flag: `Some(true)` when given bare or `=true`, `Some(false)` for
    /// `=false`, `None` when absent.
    pub(super) fn bool(&self, names: &[&str]) -> Option<bool> {
        let (_, value) = self.flags.iter().rev().find(|(n, _)| names.contains(n))?;
        Some(match value.as_deref() {
            None => true,
            Some(v) => !matches!(v, "false" | "0" | "False" | "FALSE"),
        })
    }
}

pub(super) fn scan<'b, 'a>(args: &'b [Cow<'a, str>], spec: &FlagSpec) -> Scanned<'b, 'a> {
    let mut out = Scanned::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            out.dash = true;
            let remaining = args.get(i..).unwrap_or_default();
            if spec.interspersed {
                out.rest.extend(remaining.iter().cloned());
            } else if let Some((first, rest)) = remaining.split_first() {
                out.positional.push(first.clone());
                out.rest.extend(rest.iter().cloned());
            }
            break;
        }
        let text: &'b str = arg;
        if let Some(long) = text.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, _)) => {
                    let value = sub(arg, text.len() - long.len() + name.len() + 1, text.len());
                    out.flags.push((name, Some(value)));
                }
                None => {
                    let value = if spec.takes_value(long) {
                        let v = args.get(i).cloned();
                        i += 1;
                        v
                    } else {
                        None
                    };
                    out.flags.push((long, value));
                }
            }
        } else if let Some(cluster) = text.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (at, c) in cluster.char_indices() {
                let end = at + c.len_utf8();
                let Some(name) = cluster.get(at..end) else {
                    break;
                };
                if spec.takes_value(name) {
                    let tail = cluster.get(end..).unwrap_or_default();
                    let value = if tail.is_empty() {
                        let v = args.get(i).cloned();
                        i += 1;
                        v
                    } else {
                        let skip = usize::from(tail.starts_with('='));
                        Some(sub(arg, 1 + end + skip, text.len()))
                    };
                    out.flags.push((name, value));
                    break;
                }
                out.flags.push((name, None));
            }
        } else {
            out.positional.push(arg.clone());
            if !spec.interspersed {
                out.rest
                    .extend(args.get(i..).unwrap_or_default().iter().cloned());
                break;
            }
        }
    }
    out
}

pub(super) fn booleans(names: &'static [&'static str]) -> FlagSpec {
    FlagSpec {
        names,
        names_are_booleans: true,
        interspersed: false,
    }
}
