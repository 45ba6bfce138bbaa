//! Image references split by the distribution grammar.
//!
//! Rules match on registry, repository, tag and digest separately ("image not from
//! our registry", "untagged image", "pinned by digest"), so every decoder runs the
//! reference it found through here. The parser follows `distribution/reference`
//! (`ParseNormalizedNamed`) as the Docker daemon applies it, scanned by hand over
//! bytes: no regex, no allocation except the `library/` prefix, no panics.
//!
//! Docker's defaults are applied so rules compare one canonical form: no registry means
//! `docker.io`; the legacy `index.docker.io` is rewritten to `docker.io` (Docker does
//! this; it leaves `registry-1.docker.io` alone, and so do we); a one-component Docker
//! Hub path gets `library/`. A missing tag stays `None` (see [`ImageRef::effective_tag`]).
//!
//! ```text
//! reference := name [ ":" tag ] [ "@" digest ]
//! name      := [ domain "/" ] path
//! domain    := host [ ":" port ]      host := domain-name | "[" ipv6 "]"
//! path      := component ( "/" component )*
//! component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest    := algorithm ":" hex
//! ```

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// An image reference: `[registry[:port]/]path[:tag][@digest]`, Docker Hub defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ImageRef<'a> {
    /// The reference as the source wrote it.
    pub reference: Cow<'a, str>,
    /// Registry host with optional port; `docker.io` when the reference names none.
    pub registry: Cow<'a, str>,
    /// Path inside the registry; `library/` is prefixed for official Docker Hub images.
    pub repository: Cow<'a, str>,
    pub tag: Option<Cow<'a, str>>,
    pub digest: Option<Cow<'a, str>>,
}

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// The legacy Docker Hub name Docker rewrites to [`DOCKER_HUB`].
const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// Namespace of Docker Hub's official images (`nginx` is `library/nginx`).
const OFFICIAL_PREFIX: &str = "library/";
/// Longest repository path Docker accepts (`RepositoryNameTotalLengthMax`).
pub const REPOSITORY_MAX_LEN: usize = 255;
/// Longest tag Docker accepts.
pub const TAG_MAX_LEN: usize = 128;

/// Which part of a reference an error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Registry,
    Port,
    Repository,
    Tag,
    DigestAlgorithm,
    DigestHex,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Registry => "registry",
            Part::Port => "registry port",
            Part::Repository => "repository",
            Part::Tag => "tag",
            Part::DigestAlgorithm => "digest algorithm",
            Part::DigestHex => "digest hex",
        })
    }
}

/// Why a reference is not valid. Offsets are byte offsets into the reference as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRefError {
    #[error("empty image reference")]
    Empty,
    /// 64 lowercase hex digits: Docker reads that as an image ID, never as a name.
    #[error("64 hexadecimal characters is an image ID, not an image name")]
    ImageId,
    #[error("invalid character {ch:?} in {part} at byte {offset}")]
    InvalidCharacter { part: Part, offset: usize, ch: char },
    /// Only the repository must be lowercase; registry and tag may use uppercase.
    #[error("repository must be lowercase (uppercase at byte {offset})")]
    RepositoryNotLowercase { offset: usize },
    /// An empty path component, label, port, tag or digest half (`a//b`, `nginx:`).
    #[error("empty {part} at byte {offset}")]
    EmptyPart { part: Part, offset: usize },
    /// A separator at the start or end of a component, or a run the grammar forbids (`a..b`).
    #[error("misplaced separator in {part} at byte {offset}")]
    MisplacedSeparator { part: Part, offset: usize },
    #[error("unclosed '[' in registry at byte {offset}")]
    UnclosedBracket { offset: usize },
    #[error("repository is {len} bytes; at most 255 are allowed")]
    NameTooLong { len: usize },
    #[error("tag is {len} bytes; at most 128 are allowed")]
    TagTooLong { len: usize },
    #[error("digest hex at byte {offset} has {len} digits; {expected}")]
    DigestLength {
        offset: usize,
        len: usize,
        expected: &'static str,
    },
}

impl<'a> ImageRef<'a> {
    /// Parses `reference`, borrowing every part from it except the defaults.
    pub fn parse(reference: &'a str) -> Result<ImageRef<'a>, ImageRefError> {
        let spans = split(reference);
        validate(reference, &spans)?;
        Ok(spans.borrowed(reference))
    }

    /// [`parse`](Self::parse) for a reference that may be owned; owned input yields owned parts.
    pub fn parse_cow(reference: Cow<'a, str>) -> Result<ImageRef<'a>, ImageRefError> {
        let spans = split(&reference);
        validate(&reference, &spans)?;
        Ok(spans.build(reference))
    }

    /// Never fails, so a malformed reference still reaches rules instead of vanishing.
    ///
    /// Valid input gives exactly what [`parse_cow`](Self::parse_cow) gives. Otherwise the
    /// parts are split the same way without checking characters: digest after the first
    /// `@`, tag after the last `:` that follows the last `/`, registry is the first
    /// component when it looks like a host (`.`, `:`, `localhost`, or uppercase), else
    /// `docker.io` with `library/` for a one-component path. Parts are kept as written
    /// (not lowercased); an empty tag or digest is `None`. A reference with nothing
    /// before its tag/digest gets an empty registry and repository rather than invented
    /// defaults.
    pub fn lenient(reference: Cow<'a, str>) -> ImageRef<'a> {
        let mut spans = split(&reference);
        if spans.tag.as_ref().is_some_and(|r| r.is_empty()) {
            spans.tag = None;
        }
        if spans.digest.as_ref().is_some_and(|r| r.is_empty()) {
            spans.digest = None;
        }
        spans.build(reference)
    }

    /// The tag the runtime pulls: `latest` when neither tag nor digest is given.
    ///
    /// `tag` itself stays `None` then, so rules can tell "untagged" from `:latest`.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// Canonical `registry/repository[:tag][@digest]`, e.g. `docker.io/library/nginx:1.25`.
    pub fn full_name(&self) -> String {
        let len = self.registry.len()
            + 1
            + self.repository.len()
            + self.tag.as_ref().map_or(0, |t| t.len() + 1)
            + self.digest.as_ref().map_or(0, |d| d.len() + 1);
        let mut out = String::with_capacity(len);
        // Only `lenient` leaves the registry empty; don't print a leading '/' then.
        if !self.registry.is_empty() {
            out.push_str(&self.registry);
            out.push('/');
        }
        out.push_str(&self.repository);
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// Detaches from the input buffer, e.g. to keep a reference past its record.
    pub fn into_owned(self) -> ImageRef<'static> {
        ImageRef {
            reference: detach(self.reference),
            registry: detach(self.registry),
            repository: detach(self.repository),
            tag: self.tag.map(detach),
            digest: self.digest.map(detach),
        }
    }
}

impl fmt::Display for ImageRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_name())
    }
}

/// Copies a borrowed part, keeping the static `docker.io` default unallocated.
fn detach(part: Cow<'_, str>) -> Cow<'static, str> {
    match part {
        Cow::Borrowed(DOCKER_HUB) => Cow::Borrowed(DOCKER_HUB),
        Cow::Borrowed(s) => Cow::Owned(s.to_owned()),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// Where the parts lie in the input; shared by the strict and lenient paths so both
/// split identically.
#[derive(Debug)]
struct Spans {
    /// `None`: Docker Hub (none written, or `docker.io` / `index.docker.io`).
    registry: Option<Range<usize>>,
    repository: Range<usize>,
    /// Docker Hub with a one-component path: official image, gets `library/`.
    official: bool,
    /// Empty when nothing was written before the tag/digest (lenient only).
    blank_name: bool,
    /// `Some(empty)` when the separator is present but nothing follows it.
    tag: Option<Range<usize>>,
    digest: Option<Range<usize>>,
}

impl Spans {
    fn borrowed<'a>(&self, s: &'a str) -> ImageRef<'a> {
        let repo = &s[self.repository.clone()];
        ImageRef {
            reference: Cow::Borrowed(s),
            registry: match &self.registry {
                _ if self.blank_name => Cow::Borrowed(""),
                Some(r) => Cow::Borrowed(&s[r.clone()]),
                None => Cow::Borrowed(DOCKER_HUB),
            },
            repository: if self.official {
                let mut owned = String::with_capacity(OFFICIAL_PREFIX.len() + repo.len());
                owned.push_str(OFFICIAL_PREFIX);
                owned.push_str(repo);
                Cow::Owned(owned)
            } else {
                Cow::Borrowed(repo)
            },
            tag: self.tag.clone().map(|r| Cow::Borrowed(&s[r])),
            digest: self.digest.clone().map(|r| Cow::Borrowed(&s[r])),
        }
    }

    fn build<'a>(self, reference: Cow<'a, str>) -> ImageRef<'a> {
        match reference {
            Cow::Borrowed(s) => self.borrowed(s),
            Cow::Owned(s) => {
                let parts = self.borrowed(&s);
                let (registry, repository) = (detach(parts.registry), detach(parts.repository));
                let (tag, digest) = (parts.tag.map(detach), parts.digest.map(detach));
                ImageRef {
                    reference: Cow::Owned(s),
                    registry,
                    repository,
                    tag,
                    digest,
                }
            }
        }
    }
}

/// Splits on the delimiters only. Every range boundary sits next to an ASCII delimiter,
/// so slicing with them can never cut a UTF-8 character.
fn split(s: &str) -> Spans {
    let b = s.as_bytes();
    let (name_tag_end, digest) = match memchr::memchr(b'@', b) {
        Some(at) => (at, Some(at + 1..b.len())),
        None => (b.len(), None),
    };
    let name_tag = &b[..name_tag_end];
    // The tag colon is the last one after the last '/', so `host:5000/app` has no tag.
    let last_slash = memchr::memrchr(b'/', name_tag);
    let (name_end, tag) = match memchr::memrchr(b':', name_tag) {
        Some(c) if last_slash.is_none_or(|sl| c > sl) => (c, Some(c + 1..name_tag_end)),
        _ => (name_tag_end, None),
    };
    let name = &s[..name_end];

    let (registry, repository) = match memchr::memchr(b'/', name.as_bytes()) {
        Some(slash) if is_domain(&name[..slash]) => {
            let host = &name[..slash];
            if host == DOCKER_HUB || host == LEGACY_DOCKER_HUB {
                (None, slash + 1..name_end)
            } else {
                (Some(0..slash), slash + 1..name_end)
            }
        }
        _ => (None, 0..name_end),
    };
    let blank_name = name_end == 0;
    let official =
        registry.is_none() && !blank_name && memchr::memchr(b'/', &b[repository.clone()]).is_none();
    Spans {
        registry,
        repository,
        official,
        blank_name,
        tag,
        digest,
    }
}

/// Docker's rule for the first component: a host iff it has `.` or `:`, is `localhost`,
/// or has uppercase (repositories can't, so `Registry/app` must name a host).
fn is_domain(first: &str) -> bool {
    first == "localhost"
        || first
            .bytes()
            .any(|c| c == b'.' || c == b':' || c.is_ascii_uppercase())
}

fn validate(s: &str, spans: &Spans) -> Result<(), ImageRefError> {
    if s.is_empty() {
        return Err(ImageRefError::Empty);
    }
    if s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ImageRefError::ImageId);
    }
    if let Some(r) = &spans.registry {
        validate_domain(s, r.clone())?;
    }
    validate_path(s, spans.repository.clone())?;
    let len = spans.repository.len()
        + if spans.official {
            OFFICIAL_PREFIX.len()
        } else {
            0
        };
    if len > REPOSITORY_MAX_LEN {
        return Err(ImageRefError::NameTooLong { len });
    }
    if let Some(r) = &spans.tag {
        validate_tag(s, r.clone())?;
    }
    if let Some(r) = &spans.digest {
        validate_digest(s, r.clone())?;
    }
    Ok(())
}

/// The character at `offset` for error messages; never panics, even off a boundary.
fn char_at(s: &str, offset: usize) -> char {
    s.get(offset..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

fn invalid(s: &str, part: Part, offset: usize) -> ImageRefError {
    ImageRefError::InvalidCharacter {
        part,
        offset,
        ch: char_at(s, offset),
    }
}

/// `domain-name | "[" ipv6 "]"`, then an optional `:port`.
fn validate_domain(s: &str, r: Range<usize>) -> Result<(), ImageRefError> {
    let b = s.as_bytes();
    let (start, end) = (r.start, r.end);
    let host_end = if b.get(start) == Some(&b'[') {
        // Distribution accepts hex digits and colons only: no zone IDs, no IPv4 tails.
        let close = memchr::memchr(b']', &b[start..end])
            .map(|i| start + i)
            .ok_or(ImageRefError::UnclosedBracket { offset: start })?;
        if close == start + 1 {
            return Err(ImageRefError::EmptyPart {
                part: Part::Registry,
                offset: close,
            });
        }
        if let Some(i) = (start + 1..close).find(|&i| !(b[i].is_ascii_hexdigit() || b[i] == b':')) {
            return Err(invalid(s, Part::Registry, i));
        }
        close + 1
    } else {
        // Labels of [A-Za-z0-9-], not starting or ending with '-', joined by '.'.
        let mut label_start = start;
        let mut i = start;
        loop {
            let c = b.get(i).copied().filter(|_| i < end);
            match c {
                Some(c) if c.is_ascii_alphanumeric() => {}
                Some(b'-') if i == label_start => {
                    return Err(ImageRefError::MisplacedSeparator {
                        part: Part::Registry,
                        offset: i,
                    });
                }
                Some(b'-') => {}
                None | Some(b'.' | b':') => {
                    if i == label_start {
                        return Err(ImageRefError::EmptyPart {
                            part: Part::Registry,
                            offset: i,
                        });
                    }
                    if b[i - 1] == b'-' {
                        return Err(ImageRefError::MisplacedSeparator {
                            part: Part::Registry,
                            offset: i - 1,
                        });
                    }
                    if c == Some(b'.') {
                        label_start = i + 1;
                    } else {
                        break i;
                    }
                }
                Some(_) => return Err(invalid(s, Part::Registry, i)),
            }
            i += 1;
        }
    };
    if host_end == end {
        return Ok(());
    }
    if b[host_end] != b':' {
        return Err(invalid(s, Part::Registry, host_end));
    }
    let port = host_end + 1..end;
    if port.is_empty() {
        return Err(ImageRefError::EmptyPart {
            part: Part::Port,
            offset: port.start,
        });
    }
    match port.clone().find(|&i| !b[i].is_ascii_digit()) {
        Some(i) => Err(invalid(s, Part::Port, i)),
        None => Ok(()),
    }
}

/// `component ("/" component)*`, component `[a-z0-9]+ (sep [a-z0-9]+)*`, sep `.`, `_`, `__`, `-`+.
fn validate_path(s: &str, r: Range<usize>) -> Result<(), ImageRefError> {
    let b = s.as_bytes();
    // Docker reports uppercase before any other path problem; keep that order.
    if let Some(i) = r.clone().find(|&i| b[i].is_ascii_uppercase()) {
        return Err(ImageRefError::RepositoryNotLowercase { offset: i });
    }
    let misplaced = |offset| ImageRefError::MisplacedSeparator {
        part: Part::Repository,
        offset,
    };
    // `fresh`: no alphanumeric yet in this component. `run`: start of a pending separator run.
    let mut fresh = true;
    let mut run: Option<usize> = None;
    for i in r.clone() {
        match b[i] {
            b'a'..=b'z' | b'0'..=b'9' => {
                if let Some(rs) = run.take() {
                    let sep = &b[rs..i];
                    let ok = sep.len() == 1 || sep == b"__" || sep.iter().all(|&c| c == b'-');
                    if !ok {
                        return Err(misplaced(rs));
                    }
                }
                fresh = false;
            }
            b'.' | b'_' | b'-' => {
                if fresh {
                    return Err(misplaced(i));
                }
                run.get_or_insert(i);
            }
            b'/' => {
                if fresh {
                    return Err(ImageRefError::EmptyPart {
                        part: Part::Repository,
                        offset: i,
                    });
                }
                if let Some(rs) = run {
                    return Err(misplaced(rs));
                }
                fresh = true;
            }
            _ => return Err(invalid(s, Part::Repository, i)),
        }
    }
    if fresh {
        return Err(ImageRefError::EmptyPart {
            part: Part::Repository,
            offset: r.end,
        });
    }
    match run {
        Some(rs) => Err(misplaced(rs)),
        None => Ok(()),
    }
}

/// `[\w][\w.-]{0,127}` with ASCII `\w`.
fn validate_tag(s: &str, r: Range<usize>) -> Result<(), ImageRefError> {
    let b = s.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    match b.get(r.start).filter(|_| !r.is_empty()) {
        None => {
            return Err(ImageRefError::EmptyPart {
                part: Part::Tag,
                offset: r.start,
            });
        }
        Some(b'.' | b'-') => {
            return Err(ImageRefError::MisplacedSeparator {
                part: Part::Tag,
                offset: r.start,
            });
        }
        Some(&c) if !word(c) => return Err(invalid(s, Part::Tag, r.start)),
        Some(_) => {}
    }
    if let Some(i) = r
        .clone()
        .find(|&i| !(word(b[i]) || b[i] == b'.' || b[i] == b'-'))
    {
        return Err(invalid(s, Part::Tag, i));
    }
    if r.len() > TAG_MAX_LEN {
        return Err(ImageRefError::TagTooLong { len: r.len() });
    }
    Ok(())
}

/// `algorithm ":" hex`. Algorithm components are `[A-Za-z][A-Za-z0-9]*` joined by one of
/// `+ . _ -`. The OCI-registered algorithms must have their exact length of lowercase hex
/// (as go-digest checks); any other algorithm needs at least 32 hex digits of either
/// case, per the grammar. Distribution would reject unregistered algorithms outright;
/// we keep them so a novel digest still parses into parts rules can inspect.
fn validate_digest(s: &str, r: Range<usize>) -> Result<(), ImageRefError> {
    let b = s.as_bytes();
    if r.is_empty() {
        return Err(ImageRefError::EmptyPart {
            part: Part::DigestAlgorithm,
            offset: r.start,
        });
    }
    let Some(colon) = memchr::memchr(b':', &b[r.clone()]).map(|i| r.start + i) else {
        if let Some(i) = r
            .clone()
            .find(|&i| !(b[i].is_ascii_alphanumeric() || b"+._-".contains(&b[i])))
        {
            return Err(invalid(s, Part::DigestAlgorithm, i));
        }
        return Err(ImageRefError::EmptyPart {
            part: Part::DigestHex,
            offset: r.end,
        });
    };
    let algorithm = r.start..colon;
    if algorithm.is_empty() {
        return Err(ImageRefError::EmptyPart {
            part: Part::DigestAlgorithm,
            offset: colon,
        });
    }
    let misplaced = |offset| ImageRefError::MisplacedSeparator {
        part: Part::DigestAlgorithm,
        offset,
    };
    let mut fresh = true;
    for i in algorithm.clone() {
        match b[i] {
            c if c.is_ascii_alphabetic() => fresh = false,
            c if c.is_ascii_digit() && !fresh => {}
            b'+' | b'.' | b'_' | b'-' if !fresh => fresh = true,
            b'+' | b'.' | b'_' | b'-' => return Err(misplaced(i)),
            _ => return Err(invalid(s, Part::DigestAlgorithm, i)),
        }
    }
    if fresh {
        return Err(misplaced(colon - 1));
    }

    let hex = colon + 1..r.end;
    let expected = match &s[algorithm] {
        "sha256" => Some((64, "sha256 needs 64")),
        "sha384" => Some((96, "sha384 needs 96")),
        "sha512" => Some((128, "sha512 needs 128")),
        _ => None,
    };
    match expected {
        Some((want, expected)) => {
            if hex.len() != want {
                return Err(ImageRefError::DigestLength {
                    offset: hex.start,
                    len: hex.len(),
                    expected,
                });
            }
            match hex
                .clone()
                .find(|&i| !matches!(b[i], b'0'..=b'9' | b'a'..=b'f'))
            {
                Some(i) => Err(invalid(s, Part::DigestHex, i)),
                None => Ok(()),
            }
        }
        None => {
            if let Some(i) = hex.clone().find(|&i| !b[i].is_ascii_hexdigit()) {
                return Err(invalid(s, Part::DigestHex, i));
            }
            if hex.len() < 32 {
                return Err(ImageRefError::DigestLength {
                    offset: hex.start,
                    len: hex.len(),
                    expected: "at least 32",
                });
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";

    /// Parses and asserts every part, plus that the canonical name round-trips.
    #[track_caller]
    fn check<'a>(
        input: &'a str,
        registry: &str,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> ImageRef<'a> {
        let r = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(r.reference, input);
        assert_eq!(r.registry, registry, "registry of {input:?}");
        assert_eq!(r.repository, repository, "repository of {input:?}");
        assert_eq!(r.tag.as_deref(), tag, "tag of {input:?}");
        assert_eq!(r.digest.as_deref(), digest, "digest of {input:?}");
        let again = ImageRef::parse_cow(Cow::Owned(r.full_name())).unwrap();
        assert_eq!(
            (
                &again.registry,
                &again.repository,
                &again.tag,
                &again.digest
            ),
            (&r.registry, &r.repository, &r.tag, &r.digest),
            "full_name of {input:?} doesn't round-trip"
        );
        r
    }

    #[test]
    fn official_image_bare() {
        let r = check("nginx", "docker.io", "library/nginx", None, None);
        assert!(matches!(r.registry, Cow::Borrowed(_)));
        assert_eq!(r.effective_tag(), Some("latest"));
        assert_eq!(r.full_name(), "docker.io/library/nginx");
    }

    #[test]
    fn official_image_latest_is_not_untagged() {
        let r = check(
            "nginx:latest",
            "docker.io",
            "library/nginx",
            Some("latest"),
            None,
        );
        assert!(matches!(r.tag, Some(Cow::Borrowed(_))));
        assert_eq!(r.full_name(), "docker.io/library/nginx:latest");
    }

    #[test]
    fn explicit_library() {
        let r = check("library/nginx", "docker.io", "library/nginx", None, None);
        assert!(
            matches!(r.repository, Cow::Borrowed(_)),
            "no prefix added, so borrowed"
        );
    }

    #[test]
    fn fully_qualified_docker_hub() {
        check(
            "docker.io/library/nginx:1.25",
            "docker.io",
            "library/nginx",
            Some("1.25"),
            None,
        );
    }

    #[test]
    fn legacy_index_normalised() {
        let r = check(
            "index.docker.io/nginx",
            "docker.io",
            "library/nginx",
            None,
            None,
        );
        assert_eq!(r.full_name(), "docker.io/library/nginx");
        check("docker.io/nginx", "docker.io", "library/nginx", None, None);
        // Docker does not rewrite registry-1.docker.io, so neither do we.
        check(
            "registry-1.docker.io/nginx",
            "registry-1.docker.io",
            "nginx",
            None,
            None,
        );
    }

    #[test]
    fn localhost_is_a_registry() {
        check("localhost/app", "localhost", "app", None, None);
        let r = check(
            "localhost:5000/app:dev",
            "localhost:5000",
            "app",
            Some("dev"),
            None,
        );
        assert_eq!(r.full_name(), "localhost:5000/app:dev");
    }

    #[test]
    fn port_tag_and_digest_together() {
        let input = format!("registry.example.com:5000/team/app:1.4@sha256:{HEX}");
        let digest = format!("sha256:{HEX}");
        let r = check(
            &input,
            "registry.example.com:5000",
            "team/app",
            Some("1.4"),
            Some(&digest),
        );
        assert_eq!(r.effective_tag(), Some("1.4"));
        assert_eq!(r.full_name(), input);
    }

    #[test]
    fn digest_only_nested_path() {
        let input = format!("ghcr.io/org/sub/app@sha256:{HEX}");
        let digest = format!("sha256:{HEX}");
        let r = check(&input, "ghcr.io", "org/sub/app", None, Some(&digest));
        assert_eq!(
            r.effective_tag(),
            None,
            "a digest pins the image; no implied latest"
        );
    }

    #[test]
    fn quay_dash_in_repository() {
        check(
            "quay.io/prometheus/node-exporter:v1.7.0",
            "quay.io",
            "prometheus/node-exporter",
            Some("v1.7.0"),
            None,
        );
    }

    #[test]
    fn ipv6_registry() {
        check("[::1]:5000/app:tag", "[::1]:5000", "app", Some("tag"), None);
        check("[2001:db8::1]/app", "[2001:db8::1]", "app", None, None);
    }

    #[test]
    fn cloud_registries() {
        check(
            "public.ecr.aws/eks/aws-load-balancer-controller:v2.4.2",
            "public.ecr.aws",
            "eks/aws-load-balancer-controller",
            Some("v2.4.2"),
            None,
        );
        check(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:prod",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "my-app",
            Some("prod"),
            None,
        );
        check(
            "mcr.microsoft.com/dotnet/runtime:8.0",
            "mcr.microsoft.com",
            "dotnet/runtime",
            Some("8.0"),
            None,
        );
    }

    #[test]
    fn user_repo_on_docker_hub_gets_no_library() {
        let r = check("user/repo", "docker.io", "user/repo", None, None);
        assert!(matches!(r.repository, Cow::Borrowed("user/repo")));
    }

    #[test]
    fn separators() {
        check("a__b/c---d", "docker.io", "a__b/c---d", None, None);
        check("ab_c/d-e.f_g", "docker.io", "ab_c/d-e.f_g", None, None);
        // A '.' makes the first component a host, where '_' is not allowed (as in Docker).
        assert!(matches!(
            reject("a.b_c/d"),
            ImageRefError::InvalidCharacter {
                part: Part::Registry,
                offset: 3,
                ch: '_'
            }
        ));
    }

    #[test]
    fn uppercase_first_component_is_a_registry() {
        // Current distribution/reference: repositories can't be uppercase, so it's a host.
        check("MyRegistry/app:v1", "MyRegistry", "app", Some("v1"), None);
    }

    #[test]
    fn falco_bug_is_not_ours() {
        // Splitting on the first ':' would make `5000/app:tag` the tag.
        let r = check(
            "registry:5000/app:tag",
            "registry:5000",
            "app",
            Some("tag"),
            None,
        );
        assert_eq!(r.full_name(), "registry:5000/app:tag");
        check("registry:5000/app", "registry:5000", "app", None, None);
        // No '/': the colon is a tag, as Docker reads it.
        check(
            "registry:5000",
            "docker.io",
            "library/registry",
            Some("5000"),
            None,
        );
    }

    #[test]
    fn uppercase_tag_and_long_tag_ok() {
        let tag = "V".repeat(128);
        let input = format!("app:{tag}");
        check(&input, "docker.io", "library/app", Some(&tag), None);
    }

    #[test]
    fn other_digest_algorithms() {
        let sha512 = format!("sha512:{HEX}{HEX}");
        check(
            &format!("app@{sha512}"),
            "docker.io",
            "library/app",
            None,
            Some(&sha512),
        );
        let novel = "blake3+b16:0123456789ABCDEF0123456789abcdef";
        check(
            &format!("app@{novel}"),
            "docker.io",
            "library/app",
            None,
            Some(novel),
        );
    }

    #[track_caller]
    fn reject(input: &str) -> ImageRefError {
        match ImageRef::parse(input) {
            Ok(r) => panic!("{input:?} parsed as {r:?}"),
            Err(e) => {
                // The owned path must agree, and the message must render.
                assert_eq!(
                    ImageRef::parse_cow(Cow::Owned(input.to_owned())),
                    Err(e.clone())
                );
                assert!(!e.to_string().is_empty());
                e
            }
        }
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(reject(""), ImageRefError::Empty);
    }

    #[test]
    fn rejects_uppercase_repository() {
        assert_eq!(
            reject("Nginx"),
            ImageRefError::RepositoryNotLowercase { offset: 0 }
        );
        assert_eq!(
            reject("ghcr.io/Org/app"),
            ImageRefError::RepositoryNotLowercase { offset: 8 }
        );
    }

    #[test]
    fn rejects_empty_tag() {
        assert_eq!(
            reject("nginx:"),
            ImageRefError::EmptyPart {
                part: Part::Tag,
                offset: 6
            }
        );
    }

    #[test]
    fn rejects_short_digest() {
        assert_eq!(
            reject("nginx@sha256:short"),
            ImageRefError::DigestLength {
                offset: 13,
                len: 5,
                expected: "sha256 needs 64"
            }
        );
        let upper = format!("nginx@sha256:{}", HEX.to_uppercase());
        assert!(matches!(
            reject(&upper),
            ImageRefError::InvalidCharacter {
                part: Part::DigestHex,
                offset: 13,
                ..
            }
        ));
        assert!(matches!(
            reject("nginx@sha256"),
            ImageRefError::EmptyPart {
                part: Part::DigestHex,
                ..
            }
        ));
        assert!(matches!(
            reject("nginx@"),
            ImageRefError::EmptyPart {
                part: Part::DigestAlgorithm,
                ..
            }
        ));
        assert!(matches!(
            reject("nginx@md5:abc"),
            ImageRefError::DigestLength {
                expected: "at least 32",
                ..
            }
        ));
    }

    #[test]
    fn rejects_space_in_tag() {
        assert_eq!(
            reject("app:bad tag"),
            ImageRefError::InvalidCharacter {
                part: Part::Tag,
                offset: 7,
                ch: ' '
            }
        );
        assert!(matches!(
            reject("app:-x"),
            ImageRefError::MisplacedSeparator {
                part: Part::Tag,
                offset: 4
            }
        ));
        assert_eq!(
            reject(&format!("app:{}", "v".repeat(129))),
            ImageRefError::TagTooLong { len: 129 }
        );
    }

    #[test]
    fn rejects_leading_dash() {
        assert_eq!(
            reject("-leading/dash"),
            ImageRefError::MisplacedSeparator {
                part: Part::Repository,
                offset: 0
            }
        );
    }

    #[test]
    fn rejects_long_name() {
        let name = "a".repeat(300);
        assert_eq!(reject(&name), ImageRefError::NameTooLong { len: 308 });
        // The limit counts the normalised path, `library/` included.
        assert_eq!(
            reject(&"a".repeat(248)),
            ImageRefError::NameTooLong { len: 256 }
        );
        check(
            &"a".repeat(247),
            "docker.io",
            &format!("library/{}", "a".repeat(247)),
            None,
            None,
        );
    }

    #[test]
    fn rejects_bad_structure() {
        use ImageRefError::*;
        let repo = Part::Repository;
        assert_eq!(
            reject("a//b"),
            EmptyPart {
                part: repo,
                offset: 2
            }
        );
        assert_eq!(
            reject("a/"),
            EmptyPart {
                part: repo,
                offset: 2
            }
        );
        assert_eq!(
            reject("a..b"),
            MisplacedSeparator {
                part: repo,
                offset: 1
            }
        );
        assert_eq!(
            reject("a___b"),
            MisplacedSeparator {
                part: repo,
                offset: 1
            }
        );
        assert_eq!(
            reject("a-/b"),
            MisplacedSeparator {
                part: repo,
                offset: 1
            }
        );
        assert_eq!(
            reject(":tag"),
            EmptyPart {
                part: repo,
                offset: 0
            }
        );
        assert_eq!(
            reject("/app"),
            EmptyPart {
                part: repo,
                offset: 0
            }
        );
        assert_eq!(
            reject("héllo"),
            InvalidCharacter {
                part: repo,
                offset: 1,
                ch: 'é'
            }
        );
        assert_eq!(
            reject("host:/app"),
            EmptyPart {
                part: Part::Port,
                offset: 5
            }
        );
        assert_eq!(
            reject("host:50a0/app"),
            InvalidCharacter {
                part: Part::Port,
                offset: 7,
                ch: 'a'
            }
        );
        assert_eq!(
            reject("-bad.com/app"),
            MisplacedSeparator {
                part: Part::Registry,
                offset: 0
            }
        );
        assert_eq!(
            reject("bad-.com/app"),
            MisplacedSeparator {
                part: Part::Registry,
                offset: 3
            }
        );
        assert_eq!(
            reject("a..com/app"),
            EmptyPart {
                part: Part::Registry,
                offset: 2
            }
        );
        assert_eq!(reject("[::1/app"), UnclosedBracket { offset: 0 });
        assert_eq!(
            reject("[]:5000/app"),
            EmptyPart {
                part: Part::Registry,
                offset: 1
            }
        );
        assert_eq!(
            reject("[::g]/app"),
            InvalidCharacter {
                part: Part::Registry,
                offset: 3,
                ch: 'g'
            }
        );
        assert_eq!(
            reject("[::1]x:5/app"),
            InvalidCharacter {
                part: Part::Registry,
                offset: 5,
                ch: 'x'
            }
        );
        assert_eq!(reject(HEX), ImageId);
    }

    #[test]
    fn lenient_keeps_a_bad_reference_visible() {
        let r = ImageRef::lenient(Cow::Borrowed(
            "Evil.Example:5000/Team/Tool:bad tag@sha256:zz",
        ));
        assert_eq!(r.reference, "Evil.Example:5000/Team/Tool:bad tag@sha256:zz");
        assert_eq!(r.registry, "Evil.Example:5000");
        assert_eq!(r.repository, "Team/Tool");
        assert_eq!(r.tag.as_deref(), Some("bad tag"));
        assert_eq!(r.digest.as_deref(), Some("sha256:zz"));

        let r = ImageRef::lenient(Cow::Borrowed("Nginx:"));
        assert_eq!(
            (
                &*r.registry,
                &*r.repository,
                r.tag.as_deref(),
                r.digest.as_deref()
            ),
            ("docker.io", "library/Nginx", None, None)
        );
        assert_eq!(r.effective_tag(), Some("latest"));

        let r = ImageRef::lenient(Cow::Borrowed(""));
        assert_eq!(
            (&*r.registry, &*r.repository, r.full_name()),
            ("", "", String::new())
        );
        let r = ImageRef::lenient(Cow::Borrowed("@sha256:x"));
        assert_eq!(
            (&*r.registry, &*r.repository, r.full_name()),
            ("", "", "@sha256:x".to_owned())
        );

        // Valid input: identical to parse.
        let good = "quay.io/prometheus/node-exporter:v1.7.0";
        assert_eq!(
            ImageRef::lenient(Cow::Borrowed(good)),
            ImageRef::parse(good).unwrap()
        );
    }

    #[test]
    fn parse_cow_owned_input() {
        let input = String::from("registry:5000/team/app:1.0");
        let r = ImageRef::parse_cow(Cow::Owned(input)).unwrap();
        assert!(matches!(r.reference, Cow::Owned(_)));
        assert!(matches!(r.registry, Cow::Owned(ref s) if s == "registry:5000"));
        assert!(matches!(r.repository, Cow::Owned(ref s) if s == "team/app"));
        assert!(matches!(r.tag, Some(Cow::Owned(ref s)) if s == "1.0"));
        assert_eq!(r.digest, None);

        // The Docker Hub default stays the static borrow even for owned input.
        let r = ImageRef::parse_cow(Cow::Owned("nginx".to_owned())).unwrap();
        assert!(matches!(r.registry, Cow::Borrowed("docker.io")));
        assert_eq!(r.repository, "library/nginx");

        let borrowed = ImageRef::parse_cow(Cow::Borrowed("nginx:1")).unwrap();
        assert!(matches!(borrowed.tag, Some(Cow::Borrowed("1"))));

        let r = ImageRef::lenient(Cow::Owned("Bad Ref:x".to_owned()));
        assert!(matches!(r.repository, Cow::Owned(ref s) if s == "library/Bad Ref"));
    }

    #[test]
    fn into_owned_outlives_input() {
        let owned: ImageRef<'static> = {
            let buf = String::from("ghcr.io/org/app:1");
            ImageRef::parse(&buf).unwrap().into_owned()
        };
        assert_eq!(owned.full_name(), "ghcr.io/org/app:1");
        assert_eq!(owned.to_string(), "ghcr.io/org/app:1");
    }

    #[test]
    fn no_panic_on_arbitrary_input() {
        // Deterministic walk over an alphabet of delimiters, multibyte and edge bytes.
        let alphabet = [
            "a",
            "Z",
            "0",
            ".",
            "_",
            "-",
            "/",
            ":",
            "@",
            "[",
            "]",
            "é",
            "€",
            "🦀",
            " ",
            "\0",
            "sha256",
            "localhost",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            for k in 0..len {
                let pick = (state >> (k * 5 % 60)) as usize % alphabet.len();
                s.push_str(alphabet[pick]);
            }
            let strict = ImageRef::parse(&s);
            let lenient = ImageRef::lenient(Cow::Borrowed(&s));
            if let Ok(r) = strict {
                assert_eq!(r, lenient, "{s:?}");
                let _ = r.full_name();
            }
            let _ = lenient.full_name();
            let _ = ImageRef::lenient(Cow::Owned(s.clone()));
        }
    }
}
