//! Words and paths: the string handling every format that carries a command line or a
//! path shares.
//!
//! Command lines reach crowsnest in two shapes. Some sources keep the argv (auditd's
//! `EXECVE`, a Kubernetes exec's `command=` parameters, a Docker exec body's `Cmd`);
//! some only a line: Tetragon quotes the arguments it joins ([`split_shell`]), Falco and
//! the ECS `ExecuteCommand` call join them with spaces and nothing else
//! ([`split_spaces`]). Whichever it was, the line rules read is [`join_shell`] of the
//! argv, so one command reads the same from every source.
//!
//! Every function here borrows from its input where it can: a word without quotes or
//! escapes is a slice of the line it came from.

use std::borrow::Cow;

/// The last path component: `/usr/bin/docker` is `docker`.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// [`basename`], borrowed when `path` is.
pub(crate) fn basename_cow<'a>(path: &Cow<'a, str>) -> Cow<'a, str> {
    let name = basename(path);
    sub(path, path.len() - name.len(), path.len())
}

/// The last `/` segment, borrowed when `path` is: `projects/p/jobs/backup` is `backup`.
pub(crate) fn last_segment(path: Cow<'_, str>) -> Cow<'_, str> {
    match path {
        Cow::Borrowed(p) => Cow::Borrowed(basename(p)),
        Cow::Owned(p) => Cow::Owned(basename(&p).to_owned()),
    }
}

/// Bytes `start..end` of `whole`, borrowed when `whole` is; empty when out of range.
pub(crate) fn sub<'a>(whole: &Cow<'a, str>, start: usize, end: usize) -> Cow<'a, str> {
    match whole {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(start..end).unwrap_or_default()),
        Cow::Owned(s) => Cow::Owned(s.get(start..end).unwrap_or_default().to_owned()),
    }
}

/// Where `part`, a slice of `whole`, starts in it (0 when it is not a slice of it).
pub(crate) fn offset_of(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .checked_sub(whole.as_ptr() as usize)
        .filter(|at| at + part.len() <= whole.len())
        .unwrap_or(0)
}

/// ASCII lower case, borrowing when there is nothing to change.
pub(crate) fn lower(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        s
    }
}

/// ASCII upper case, borrowing when there is nothing to change.
pub(crate) fn upper(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(s.to_ascii_uppercase())
    } else {
        s
    }
}

/// `s` without surrounding whitespace, borrowed when `s` is.
pub(crate) fn trim(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) if o.trim().len() == o.len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o.trim().to_owned()),
    }
}

/// An argv as one line a shell would read back: words with spaces, quotes or other
/// special characters are single-quoted.
pub(crate) fn join_shell<S: AsRef<str>>(args: &[S]) -> String {
    let mut line = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let arg = arg.as_ref();
        let plain = !arg.is_empty()
            && arg.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'_' | b'@' | b'%' | b'+' | b'=' | b':' | b',' | b'.' | b'/' | b'-'
                    )
            });
        if plain {
            line.push_str(arg);
        } else {
            line.push('\'');
            line.push_str(&arg.replace('\'', r"'\''"));
            line.push('\'');
        }
    }
    line
}

/// Split a command line into words the way a shell would: whitespace separates, double
/// and single quotes group, a backslash escapes the next character outside single
/// quotes. Words without quotes or escapes are borrowed.
pub(crate) fn split_shell<'a>(line: &Cow<'a, str>) -> Vec<Cow<'a, str>> {
    let mut words = Vec::new();
    let text: &str = line;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut owned: Option<String> = None;
        let mut end = start;
        let mut quote: Option<char> = None;
        while let Some(&(at, c)) = chars.peek() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => break,
                (None, '"' | '\'') => {
                    owned.get_or_insert_with(|| text.get(start..at).unwrap_or_default().into());
                    quote = Some(c);
                }
                (Some(q), c) if c == q => quote = None,
                (q, '\\') if q != Some('\'') => {
                    let buf =
                        owned.get_or_insert_with(|| text.get(start..at).unwrap_or_default().into());
                    chars.next();
                    if let Some(&(_, escaped)) = chars.peek() {
                        buf.push(escaped);
                    }
                }
                (_, c) => {
                    if let Some(buf) = owned.as_mut() {
                        buf.push(c);
                    }
                }
            }
            if chars.next().is_some() {
                end = at + c.len_utf8();
            }
        }
        words.push(match owned {
            Some(buf) => Cow::Owned(buf),
            None => sub(line, start, end),
        });
    }
    words
}

/// Split a line on whitespace alone, for sources that joined an argv with spaces and so
/// lost its quoting (Falco's `proc.cmdline`, an ECS `ExecuteCommand` command): quotes in
/// it are the arguments' own characters. Borrowed when the line is.
pub(crate) fn split_spaces<'a>(line: &Cow<'a, str>) -> Vec<Cow<'a, str>> {
    line.split_whitespace()
        .map(|word| {
            let at = offset_of(line, word);
            sub(line, at, at + word.len())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_split_round_trip() {
        let args = ["sh", "-c", "echo 'hi' && id", "", "a\"b"];
        let line = join_shell(&args);
        assert_eq!(line, r#"sh -c 'echo '\''hi'\'' && id' '' 'a"b'"#);
        let words = split_shell(&Cow::Borrowed("docker  run \"a b\" c\\ d 'e \"f' g"));
        assert_eq!(words, ["docker", "run", "a b", "c d", "e \"f", "g"]);
        assert!(matches!(words[0], Cow::Borrowed(_)));
        assert!(split_shell(&Cow::Borrowed("   ")).is_empty());
        assert_eq!(split_shell(&Cow::Borrowed("trailing\\")), ["trailing"]);
        assert_eq!(split_shell(&Cow::Owned(line)), args);
    }

    #[test]
    fn spaces_keep_quotes_and_borrow() {
        let words = split_spaces(&Cow::Borrowed("sh -c 'echo  hi'"));
        assert_eq!(words, ["sh", "-c", "'echo", "hi'"]);
        assert!(words.iter().all(|w| matches!(w, Cow::Borrowed(_))));
        let owned = split_spaces(&Cow::Owned(" a\tb ".to_string()));
        assert_eq!(owned, ["a", "b"]);
    }

    #[test]
    fn paths_and_case() {
        assert_eq!(basename("/usr/bin/docker"), "docker");
        assert_eq!(basename("docker"), "docker");
        assert_eq!(
            last_segment(Cow::Borrowed("projects/p/jobs/backup")),
            "backup"
        );
        assert!(matches!(lower(Cow::Borrowed("abc")), Cow::Borrowed("abc")));
        assert_eq!(lower(Cow::Borrowed("AbC")), "abc");
        assert_eq!(upper(Cow::Borrowed("net_admin")), "NET_ADMIN");
        assert_eq!(trim(Cow::Owned(" x ".into())), "x");
        assert_eq!(sub(&Cow::Borrowed("abc"), 1, 9), "");
    }
}
