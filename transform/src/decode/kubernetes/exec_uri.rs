//! Exec and attach requests carry no body: the command and the target container are
//! query parameters of the request URI (`.../exec?command=sh&command=-c&container=app`),
//! form-encoded. Read here for audit events (`requestURI`) and GKE (`resourceName`).

use std::borrow::Cow;

use crate::decode::uri::{form_decode, pairs, query_of};
use crate::model::{Container, Process};
use crate::normalize::process;

/// The exec/attach parameters of a `requestURI` query.
#[derive(Default)]
pub(crate) struct ExecQuery<'a> {
    /// Every `command=`, in order: the argv of the process to start.
    pub(crate) command: Vec<Cow<'a, str>>,
    /// The first `container=`; kubectl repeats it.
    pub(crate) container: Option<Cow<'a, str>>,
}

impl<'a> ExecQuery<'a> {
    /// Borrows from the URI when it came unescaped from the record.
    pub(crate) fn of(uri: &Cow<'a, str>) -> ExecQuery<'a> {
        match uri {
            Cow::Borrowed(uri) => ExecQuery::parse(uri),
            Cow::Owned(uri) => {
                let query = ExecQuery::parse(uri);
                ExecQuery {
                    command: query
                        .command
                        .into_iter()
                        .map(|c| Cow::Owned(c.into_owned()))
                        .collect(),
                    container: query.container.map(|c| Cow::Owned(c.into_owned())),
                }
            }
        }
    }

    /// The container the request entered, when it names one, and the process it
    /// started, when it started one (an attach starts none).
    pub(crate) fn into_parts(self) -> (Option<Container<'a>>, Option<Process<'a>>) {
        let container = self.container.map(|name| Container {
            name: Some(name),
            ..Container::default()
        });
        (container, process::from_argv(self.command))
    }

    fn parse(uri: &'a str) -> ExecQuery<'a> {
        let mut query = ExecQuery {
            command: Vec::new(),
            container: None,
        };
        for (key, value) in pairs(query_of(uri)) {
            match key {
                "command" => query.command.push(form_decode(value)),
                "container" if query.container.is_none() => {
                    query.container = Some(form_decode(value)).filter(|c| !c.is_empty());
                }
                _ => {}
            }
        }
        query
    }
}

/// Whether the query asks for a watch the way the API server reads it: a `watch`
/// parameter whose first value is not `false` or `0`.
pub(crate) fn watch_requested(uri: &str) -> bool {
    pairs(query_of(uri))
        .find(|(key, _)| *key == "watch")
        .is_some_and(|(_, value)| !value.eq_ignore_ascii_case("false") && value != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_query_borrows_when_nothing_is_escaped() {
        let query = ExecQuery::of(&Cow::Borrowed(
            "/x/exec?command=ls&command=a+b&command=%ZZ&container=c&container=d",
        ));
        assert!(matches!(query.command[0], Cow::Borrowed("ls")));
        assert_eq!(query.command, vec!["ls", "a b", "%ZZ"]);
        assert_eq!(query.container.as_deref(), Some("c"));
        let (container, process) = ExecQuery::of(&Cow::Borrowed("/x/attach")).into_parts();
        assert!(container.is_none() && process.is_none());
        assert!(watch_requested("/api/v1/pods?watch=1"));
        assert!(!watch_requested("/api/v1/pods?watch=false"));
    }
}
