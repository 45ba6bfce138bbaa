//! Rule packs: the files a pack is made of, read and checked with every problem located.
//!
//! A pack is a set of Sigma files (multi-document allowed) and at most one `policy.yml`.
//! Each YAML document is handled on its own so a problem is reported at `file:line:column`
//! of the document that has it ([`documents`]); the checks that need no compiled rule are
//! [`checks`]; the policy is [`policy`]; a pack directory on disk and its changes are
//! [`dir`]. Compiling a pack into rules, all or nothing, is the rules stage's
//! (`rules::compile`): the caller keeps the running pack on any error.

pub(crate) mod checks;
pub mod dir;
pub(crate) mod documents;
pub(crate) mod infrastructure;
pub(crate) mod policy;

use crate::api::{Diagnostic, PackFile};
use documents::error;
use policy::Policy;

/// The policy of the built-in pack, also used by packs that bring none.
const BUILT_IN_POLICY: &str = include_str!("../../rules/policy.yml");

/// The pack built into every engine: `transform/rules/`.
pub fn default_pack() -> Vec<PackFile> {
    const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/default_pack.rs"));
    FILES
        .iter()
        .map(|(path, text)| PackFile {
            path: (*path).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}

/// The pack's version as findings carry it: a hash of what decides what it detects (its
/// rule files and its policy, by path and content, in path order; not its tests), so two
/// findings raised by the same rules under the same policy carry the same hash wherever
/// they ran.
pub(crate) fn content_hash(files: &[PackFile]) -> String {
    let mut used: Vec<&PackFile> = files
        .iter()
        .filter(|f| is_rule_file(&f.path) || is_policy_file(&f.path))
        .collect();
    used.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = crate::fnv::Fnv::default();
    for f in used {
        h.write(f.path.as_bytes());
        h.write(f.text.as_bytes());
    }
    h.hex()
}

/// Whether a pack file is the pack's policy.
pub(crate) fn is_policy_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "policy.yml" | "policy.yaml") && !path.split('/').any(|part| part == "tests")
}

/// Whether a pack file holds Sigma rules (as opposed to policy or rule tests).
pub(crate) fn is_rule_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    (name.ends_with(".yml") || name.ends_with(".yaml"))
        && !name.starts_with("policy.")
        && !path.split('/').any(|part| part == "tests")
}

/// The pack's policy: its `policy.yml`, or the built-in one when it has none.
pub(crate) fn load_policy(files: &[PackFile], diagnostics: &mut Vec<Diagnostic>) -> Policy {
    let mut policies = files.iter().filter(|f| is_policy_file(&f.path));
    let Some(file) = policies.next() else {
        return Policy::parse(BUILT_IN_POLICY).expect("the built-in policy parses");
    };
    for extra in policies {
        diagnostics.push(error(
            &extra.path,
            (1, 1),
            "policy.duplicate",
            format!("a pack has one policy; {} is already it", file.path),
        ));
    }
    match Policy::parse(&file.text) {
        Ok(policy) => policy
            .over_builtin(&Policy::parse(BUILT_IN_POLICY).expect("the built-in policy parses")),
        Err(errors) => {
            diagnostics.extend(
                errors
                    .into_iter()
                    .map(|e| error(&file.path, (e.line, e.column), "policy.parse", e.message)),
            );
            Policy::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_and_tests_are_not_rule_files() {
        assert!(is_rule_file("k8s/privileged.yml"));
        assert!(!is_rule_file("policy.yml"));
        assert!(!is_rule_file("tests/privileged.yml"));
        assert!(!is_rule_file("README.md"));
        assert!(is_policy_file("policy.yml"));
        assert!(!is_policy_file("tests/policy.yml"));
    }

    fn file(path: &str, text: &str) -> PackFile {
        PackFile {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn the_content_hash_follows_rules_and_policy_only() {
        let pack = [file("a.yml", "title: a"), file("policy.yml", "x: 1")];
        let base = content_hash(&pack);
        assert_eq!(base.len(), 16);
        let reordered = [pack[1].clone(), pack[0].clone()];
        assert_eq!(content_hash(&reordered), base, "file order does not matter");
        let with_test = [pack[0].clone(), pack[1].clone(), file("tests/a.yml", "t")];
        assert_eq!(
            content_hash(&with_test),
            base,
            "tests do not change what is detected"
        );
        let edited = [file("a.yml", "title: b"), pack[1].clone()];
        assert_ne!(content_hash(&edited), base);
        let policy = [pack[0].clone(), file("policy.yml", "x: 2")];
        assert_ne!(content_hash(&policy), base);
        let moved = [file("b.yml", "title: a"), pack[1].clone()];
        assert_ne!(content_hash(&moved), base);
    }
}
