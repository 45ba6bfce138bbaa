//! `crowsnest rules explain RULE FILE`: why a rule matched, or did not, on each record.
//!
//! The engine does the work ([`crowsnest_transform::explain`]); this module reads the
//! file, frames it as `replay` does, and prints the explanation: a text tree for
//! people, or with `--format jsonl` one JSON object for the rule and one per evaluated
//! event. It runs the native engine: explaining is for writing rules, not for
//! untrusted input at volume, and rsigma's explainer has no counterpart in the
//! component's interface.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use crowsnest_transform::api::{Alert, BatchOrigin, Options};
use crowsnest_transform::explain::{
    ConditionTrace, DetectionTrace, EventExplanation, ExplainError, ExplainedRule, Explanation,
    ItemTrace, RuleVerdict,
};
use crowsnest_transform::framing::{self, Batch};
use serde::Serialize;

use crate::cli::{Format, GlobalArgs};
use crate::io::input::Input;
use crate::io::pack_dir::{self, in_pack};

pub(crate) fn run(global: &GlobalArgs, rule: &str, file: &Path) -> Result<ExitCode> {
    let pack = match &global.rules {
        Some(dir) => Some(pack_dir::load(dir)?),
        None => None,
    };
    let input = if file.as_os_str() == "-" {
        Input::Stdin
    } else {
        Input::File(file.to_path_buf())
    };
    let name = input.name();
    let bytes = input.read().with_context(|| format!("reading {name}"))?;

    // The whole input is one batch: the explanation numbers its records in one run.
    let mut whole = Batch::default();
    let mut unreadable = Vec::new();
    for batch in framing::batches(&bytes, usize::MAX, usize::MAX, 0) {
        match batch {
            Ok(batch) => whole = batch,
            Err(err) => unreadable.push(err.diagnostic(&name, 0)),
        }
    }
    let batch = whole.records.join(&b'\n');
    let origin = whole.origin(&name);
    let options = Options {
        force_source: global.source,
        vpc_flow_format: global.vpc_flow_format.clone(),
        ..Options::default()
    };
    let explanation =
        match crowsnest_transform::explain(pack.as_deref(), options, rule, &batch, &origin) {
            Ok(explanation) => explanation,
            Err(ExplainError::Pack(diagnostics)) => {
                let dir = global.rules.as_deref().unwrap_or(Path::new("."));
                for diagnostic in diagnostics {
                    eprintln!("{}", in_pack(dir, diagnostic));
                }
                eprintln!("crowsnest: the rule pack in {} has errors", dir.display());
                return Ok(ExitCode::from(2));
            }
            Err(err) => anyhow::bail!(err),
        };

    let mut out = io::stdout().lock();
    if global.format == Some(Format::Jsonl) {
        write_json(&mut out, &explanation)?;
    } else {
        write_text(&mut out, &explanation, &origin)?;
    }
    for line in unreadable {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_json(out: &mut impl Write, e: &Explanation) -> Result<()> {
    #[derive(Serialize)]
    struct Event<'a> {
        #[serde(flatten)]
        event: &'a EventExplanation,
        alerts: Vec<&'a str>,
    }
    writeln!(out, "{}", serde_json::to_string(&e.rule)?)?;
    for event in &e.events {
        let alerts = alerts_at(&e.result.alerts, event.record_index)
            .map(|a| a.rule_id.as_str())
            .collect();
        writeln!(out, "{}", serde_json::to_string(&Event { event, alerts })?)?;
    }
    Ok(())
}

fn alerts_at(alerts: &[Alert], index: u32) -> impl Iterator<Item = &Alert> {
    alerts.iter().filter(move |a| a.record_index == index)
}

fn write_text(out: &mut impl Write, e: &Explanation, origin: &BatchOrigin) -> Result<()> {
    let explained_id = match &e.rule {
        ExplainedRule::Detection {
            id,
            title,
            conditions,
            logsource,
        } => {
            writeln!(out, "rule {id}: {title}")?;
            let ls: Vec<String> = logsource.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(out, "  logsource: {}", ls.join(" "))?;
            for condition in conditions {
                writeln!(out, "  condition: {condition}")?;
            }
            id
        }
        ExplainedRule::Correlation {
            id,
            title,
            correlation_type,
            group_by,
            timespan_secs,
            threshold,
            rules,
        } => {
            writeln!(out, "correlation {id}: {title}")?;
            writeln!(
                out,
                "  {correlation_type} over {timespan_secs} s, grouped by {}{}",
                if group_by.is_empty() {
                    "nothing".to_string()
                } else {
                    group_by.join(", ")
                },
                if threshold.is_empty() {
                    String::new()
                } else {
                    format!(", when the count is {threshold}")
                }
            )?;
            writeln!(out, "  references:")?;
            for r in rules {
                match (&r.rule_id, &r.title) {
                    (Some(id), Some(title)) => {
                        writeln!(out, "    {} -> detection rule {id}: {title}", r.reference)?
                    }
                    _ => writeln!(
                        out,
                        "    {} -> not a detection rule of this pack (another correlation?)",
                        r.reference
                    )?,
                }
            }
            id
        }
    };

    for (index, outcome) in e.result.outcomes.iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let line = origin.line_of(index as usize);
        writeln!(out)?;
        if outcome.source.is_none() {
            let why = e
                .result
                .diagnostics
                .iter()
                .find(|d| d.line == line)
                .map_or_else(|| "not read".to_string(), ToString::to_string);
            writeln!(out, "{}:{line}  not read: {why}", origin.file)?;
            continue;
        }
        let events: Vec<&EventExplanation> = e
            .events
            .iter()
            .filter(|ev| ev.record_index == index)
            .collect();
        if events.is_empty() {
            let source = outcome.source.map_or("?", |s| s.as_str());
            writeln!(
                out,
                "{}:{line}  {source}: not evaluated (the record only updates what the engine \
                 remembers, or begins an event later records complete)",
                origin.file
            )?;
        }
        for event in events {
            write_event(out, &origin.file, event)?;
        }
        for alert in alerts_at(&e.result.alerts, index) {
            if &alert.rule_id == explained_id {
                writeln!(out, "  => alert: {}", alert.summary)?;
            }
        }
    }
    // Events the end of the stream released (an auditd event never closed).
    for event in e.events.iter().filter(|ev| ev.record_index == u32::MAX) {
        writeln!(out)?;
        write_event(out, &origin.file, event)?;
    }
    Ok(())
}

fn write_event(out: &mut impl Write, file: &str, event: &EventExplanation) -> Result<()> {
    let verdict = if event.rules.iter().any(|r| r.matched) {
        "MATCH"
    } else {
        "no match"
    };
    let one = event.rules.len() == 1 && event.group.is_empty();
    if one {
        writeln!(
            out,
            "{file}:{}  {} {}  -> {verdict}",
            event.line, event.source, event.action
        )?;
    } else {
        writeln!(
            out,
            "{file}:{}  {} {}",
            event.line, event.source, event.action
        )?;
        let group: Vec<String> = event
            .group
            .iter()
            .map(|(field, value)| match value {
                Some(v) => format!("{field}={v}"),
                None => format!("{field} absent"),
            })
            .collect();
        if !group.is_empty() {
            writeln!(out, "  group: {}", group.join(", "))?;
        }
    }
    for rule in &event.rules {
        write_rule(out, rule, if one { 1 } else { 2 }, !one)?;
    }
    Ok(())
}

fn write_rule(out: &mut impl Write, rule: &RuleVerdict, depth: usize, header: bool) -> Result<()> {
    let pad = "  ".repeat(depth);
    if header {
        writeln!(
            out,
            "  {} ({}): {}",
            rule.rule_id,
            rule.title,
            if rule.matched { "match" } else { "no match" }
        )?;
    }
    if !rule.logsource_applies {
        writeln!(
            out,
            "{pad}logsource: the rule names another product or service; not evaluated on this source"
        )?;
    }
    for condition in &rule.trace.conditions {
        writeln!(out, "{pad}condition: {}", yes_no(condition.matched()))?;
        write_condition(out, condition, depth + 1)?;
    }
    Ok(())
}

/// The selections a condition used, each with its items; the condition's own
/// structure is the one the rule header prints.
fn write_condition(out: &mut impl Write, node: &ConditionTrace, depth: usize) -> Result<()> {
    let pad = "  ".repeat(depth);
    match node {
        ConditionTrace::Selection {
            name,
            matched,
            detection,
        } => {
            writeln!(out, "{pad}{name}: {}", verdict(*matched))?;
            write_detection(out, detection, depth + 1)?;
        }
        ConditionTrace::And { children, .. } | ConditionTrace::Or { children, .. } => {
            for child in children {
                write_condition(out, child, depth)?;
            }
        }
        ConditionTrace::Not { child, .. } => write_condition(out, child, depth)?,
        ConditionTrace::Quantified {
            quantifier,
            matched,
            need,
            got,
            branches,
        } => {
            writeln!(
                out,
                "{pad}{quantifier} of {} selections: {got} matched, {need} needed: {}",
                branches.len(),
                verdict(*matched)
            )?;
            for branch in branches {
                writeln!(out, "{pad}  {}: {}", branch.name, verdict(branch.matched))?;
                write_detection(out, &branch.detection, depth + 2)?;
            }
        }
    }
    Ok(())
}

fn write_detection(out: &mut impl Write, node: &DetectionTrace, depth: usize) -> Result<()> {
    let pad = "  ".repeat(depth);
    match node {
        DetectionTrace::AllOf { items, .. } => {
            for item in items {
                write_item(out, item, depth)?;
            }
        }
        DetectionTrace::AnyOf { matched, branches } => {
            writeln!(
                out,
                "{pad}any of {} maps: {}",
                branches.len(),
                verdict(*matched)
            )?;
            for branch in branches {
                write_detection(out, branch, depth + 1)?;
            }
        }
        DetectionTrace::And { branches, .. } => {
            for branch in branches {
                write_detection(out, branch, depth)?;
            }
        }
        DetectionTrace::Keywords { item, .. } => write_item(out, item, depth)?,
        DetectionTrace::ArrayMatch {
            field,
            quantifier,
            matched,
            member_count,
            matched_count,
            ..
        } => writeln!(
            out,
            "{pad}{field}: {quantifier} of {member_count} members, {matched_count} matched: {}",
            verdict(*matched)
        )?,
        DetectionTrace::Conditional { condition, .. } => {
            write_condition(out, condition, depth)?;
        }
        DetectionTrace::Other { kind, matched } => {
            writeln!(out, "{pad}{kind}: {}", verdict(*matched))?;
        }
    }
    Ok(())
}

fn write_item(out: &mut impl Write, item: &ItemTrace, depth: usize) -> Result<()> {
    let pad = "  ".repeat(depth);
    let field = item.field.as_deref().unwrap_or("(keywords)");
    let kind = snake(&item.matcher);
    let matcher = phrase(&kind);
    let pattern = item
        .pattern
        .as_deref()
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    let read = match &item.actual {
        Some(value) => format!("read {value}"),
        None if item.field.is_some() => "absent".to_string(),
        None => "searched every field".to_string(),
    };
    let result = if item.matched {
        "match".to_string()
    } else {
        snake(&item.reason).replace('_', " ")
    };
    writeln!(out, "{pad}{field} {matcher}{pattern}; {read}: {result}")?;
    Ok(())
}

/// How a matcher reads in a sentence: `action is one of a, b`.
fn phrase(kind: &str) -> &str {
    match kind {
        "exact" | "bool" => "is",
        "one_of" | "expand" => "is one of",
        "contains" => "contains",
        "starts_with" => "starts with",
        "ends_with" => "ends with",
        "regex" => "matches",
        "cidr" => "is in",
        "numeric" => "compares",
        "exists" => "exists:",
        "field_ref" => "equals the field",
        "null" => "is null",
        "timestamp" => "has the time part",
        "keyword" => "contains the keyword",
        other => other,
    }
}

/// A serde unit variant's name (`one_of`, `value_mismatch`).
fn snake(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn verdict(matched: bool) -> &'static str {
    if matched { "match" } else { "no match" }
}

fn yes_no(matched: bool) -> &'static str {
    if matched { "true" } else { "false" }
}
