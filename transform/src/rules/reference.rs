//! The field reference, `docs/fields.md`, generated from the tables it describes: the
//! normalized fields (`model::fields`), the derived fields ([`super::derived`]) and the
//! format registry (`decode::FORMATS`). A test fails when the committed file is not what
//! they generate; `CROWSNEST_BLESS=1 cargo test -p crowsnest-transform field_reference`
//! rewrites it.

use std::fmt::Write as _;

use super::derived::DERIVED;
use crate::model::Source;
use crate::model::fields::{FIELDS, Read};

const INTRO: &str = "# Fields a rule can read

<!-- Generated from the field registry (transform/src/model/fields.rs), the derived fields
(transform/src/rules/derived.rs) and the format registry (transform/src/decode/mod.rs):
CROWSNEST_BLESS=1 cargo test -p crowsnest-transform field_reference -->

Every record, whatever its source, is normalized into one event. Sigma rules in a
crowsnest pack read these names, and the same names key every output: the enrichment a
pipeline receives and the `unmapped.crowsnest` member of an alert. Any other name is looked
up in the record's original JSON (`objectRef.resource`, `HostConfig.Privileged`), so rules
written for a source's raw shape run unmodified.

A pod carries several containers: a `container.*` field yields every container's value and
a selection matches when any container matches. The alert then names the containers that
match the rule on their own (the privileged one, not its sidecar). In the enrichment,
`container` is an array with one object per container, its members named without the
`container.` prefix.

A `words` field is a list of words (an entrypoint, a command): a rule reads it as one
string, the words joined with spaces; the enrichment writes the list.
";

const DERIVED_INTRO: &str = "## Derived fields (`crowsnest.*`)

Answered per event from the pack's `policy.yml` and the engine's state; a rule reads them like
any other field. Absent means \"cannot be judged\" (a thin Docker event that says nothing about
mounts has no `crowsnest.mount.sensitive`), never \"no\". Per-container fields hold one value per
container, matched like `container.*`.
";

const SOURCES_INTRO: &str = "## Sources and routing by logsource

Each source answers to a Sigma `logsource` (`product`, `service`). A rule whose `product`
or `service` names another source is skipped for that record. crowsnest's own rules read
normalized fields and say only `category: container`, so they run on every source.
";

const METADATA: &str = "## Rule metadata crowsnest reads

- `tags`: `attack.tNNNN[.NNN]` become the alert's ATT&CK techniques, `attack.<tactic>` its
  tactics (both the `privilege_escalation` and `privilege-escalation` spellings).
- `analytic`: a top-level key naming the MITRE ATT&CK analytic (`AN0693`); it becomes the
  OCSF finding's related analytic.
- `level`: the alert's severity.
";

/// One row of a table: the fields it names, their type and what they mean. Consecutive
/// fields of one type and meaning share a row.
struct Row {
    names: Vec<&'static str>,
    ty: String,
    doc: &'static str,
}

fn rows(fields: impl Iterator<Item = (&'static str, String, &'static str)>) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for (name, ty, doc) in fields {
        match rows.last_mut() {
            Some(row) if row.ty == ty && row.doc == doc => row.names.push(name),
            _ => rows.push(Row {
                names: vec![name],
                ty,
                doc,
            }),
        }
    }
    rows
}

fn table(out: &mut String, rows: &[Row]) {
    out.push_str("| field | type | meaning |\n|---|---|---|\n");
    for row in rows {
        let names: Vec<String> = row.names.iter().map(|n| format!("`{n}`")).collect();
        let _ = writeln!(out, "| {} | {} | {} |", names.join(", "), row.ty, row.doc);
    }
}

/// `docs/fields.md`, the reference of every field a rule can read and every source.
pub fn field_reference() -> String {
    let mut out = String::new();
    out.push_str(INTRO);
    out.push('\n');
    let normalized = FIELDS.iter().map(|f| {
        let ty = match (f.read, f.ty) {
            (Read::Container(_), ty) => format!("{}, per container", ty.name()),
            (Read::Event(_), ty) => ty.name().to_string(),
        };
        (f.name, ty, f.doc)
    });
    table(&mut out, &rows(normalized));
    out.push('\n');
    out.push_str(DERIVED_INTRO);
    out.push('\n');
    let derived = DERIVED.iter().map(|f| {
        let ty = if f.per_container {
            format!("{}, per container", f.ty.name())
        } else {
            f.ty.name().to_string()
        };
        (f.name, ty, f.doc)
    });
    table(&mut out, &rows(derived));
    out.push('\n');
    out.push_str(SOURCES_INTRO);
    out.push_str("\n| `source` | format | logsource |\n|---|---|---|\n");
    for source in Source::ALL {
        let (product, service) = source.logsource();
        let _ = writeln!(
            out,
            "| `{}` | {} | `{product}` / `{service}` |",
            source.as_str(),
            source.about()
        );
    }
    out.push('\n');
    out.push_str(METADATA);
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn field_reference_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/fields.md");
        let generated = field_reference();
        if std::env::var_os("CROWSNEST_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("docs/fields.md is writable");
        }
        let committed = std::fs::read_to_string(&path).expect("docs/fields.md");
        assert!(
            committed == generated,
            "docs/fields.md is not what the field registry generates; run \
             `CROWSNEST_BLESS=1 cargo test -p crowsnest-transform field_reference` and review \
             the diff"
        );
    }

    #[test]
    fn every_field_is_documented_once() {
        let mut names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        names.extend(DERIVED.iter().map(|f| f.name));
        let before = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), before, "a field name is declared twice");
        assert!(DERIVED.iter().all(|f| f.name.starts_with("crowsnest.")));
        assert!(FIELDS.iter().all(|f| !f.name.starts_with("crowsnest.")));
        for f in FIELDS {
            assert!(!f.doc.is_empty(), "{} says nothing about itself", f.name);
        }
        for f in DERIVED {
            assert!(!f.doc.is_empty(), "{} says nothing about itself", f.name);
        }
    }
}
