//! Plan rendering: text (with `+ ~ -` markers and word diffs of changed values,
//! coloured only when the stream is a terminal and NO_COLOR is unset), JSON and Markdown.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::Plan;
use crate::diff::{Action, FieldChange, Kind, Op};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

fn style(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(color.into()))
}

fn paint(text: &str, s: Style) -> String {
    format!("{s}{text}{s:#}")
}

fn marker(op: Op) -> (&'static str, Style) {
    match op {
        Op::Create => ("+", style(AnsiColor::Green)),
        Op::Update => ("~", style(AnsiColor::Yellow)),
        Op::Delete => ("-", style(AnsiColor::Red)),
        Op::Adopt => ("=", style(AnsiColor::Cyan)),
        Op::Forget => ("x", style(AnsiColor::BrightBlack)),
        Op::Replace => ("-/+", style(AnsiColor::Magenta)),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

/// What an action means in an MSP's words.
fn meaning(plan: &Plan, a: &Action) -> String {
    if let Some(note) = &a.note {
        return note.clone();
    }
    match (a.kind, a.op) {
        (_, Op::Forget) if plan.allow_provider_removal.contains(&a.provider) => format!(
            "forget: provider {} was removed from the files; left as it is at the vendor",
            a.provider
        ),
        (Kind::Device, Op::Create) => "assign from the MSP inventory".into(),
        (Kind::Device, Op::Delete) => {
            "return to the MSP inventory; its licences are released".into()
        }
        (Kind::Device, Op::Update) if a.changed("customer").is_some() => {
            "move to another customer".into()
        }
        (Kind::Partner, Op::Update) => "set the partner's managed customers".into(),
        (_, Op::Create) => "create".into(),
        (_, Op::Update) => "update in place".into(),
        (_, Op::Delete) => "delete".into(),
        (_, Op::Adopt) if a.changes.is_empty() => "adopt: already live, record as managed".into(),
        (_, Op::Adopt) => "adopt: already live, record as managed and update".into(),
        (_, Op::Forget) => "forget: gone from the vendor and the files".into(),
        (_, Op::Replace) => format!(
            "replace: delete, then create again ({} cannot be changed in place; needs --allow-replace {})",
            a.replace_because.join(", "),
            a.address
        ),
    }
}

fn change_lines(out: &mut String, a: &Action, c: &FieldChange) {
    let width = a.changes.iter().map(|c| c.field.len()).max().unwrap_or(0);
    let name = format!("{:width$}", c.field);
    match a.op {
        Op::Create => {
            let _ = writeln!(out, "      {name} = {}", show(&c.after));
        }
        Op::Delete | Op::Forget => {
            let _ = writeln!(
                out,
                "      {name} = {}",
                paint(&show(&c.before), style(AnsiColor::Red))
            );
        }
        _ => {
            let before = show(&c.before);
            let after = show(&c.after);
            let _ = writeln!(
                out,
                "      {name} : {} → {}",
                paint(&before, style(AnsiColor::Red)),
                paint(&after, style(AnsiColor::Green))
            );
            // A word diff helps when long values differ in a few words.
            if before.len() + after.len() > 40 && !c.before.is_null() {
                let diff = TextDiff::from_words(before.as_str(), after.as_str());
                let mut line = String::new();
                let mut run: Option<(ChangeTag, String)> = None;
                let flush = |line: &mut String, run: Option<(ChangeTag, String)>| match run {
                    Some((ChangeTag::Delete, text)) => {
                        line.push_str(&paint(&format!("[-{text}-]"), style(AnsiColor::Red)))
                    }
                    Some((ChangeTag::Insert, text)) => {
                        line.push_str(&paint(&format!("{{+{text}+}}"), style(AnsiColor::Green)))
                    }
                    Some((ChangeTag::Equal, text)) => line.push_str(&text),
                    None => {}
                };
                // Consecutive words with the same fate are shown as one run.
                for change in diff.iter_all_changes() {
                    match &mut run {
                        Some((tag, text)) if *tag == change.tag() => text.push_str(change.value()),
                        _ => {
                            flush(&mut line, run.take());
                            run = Some((change.tag(), change.value().to_string()));
                        }
                    }
                }
                flush(&mut line, run);
                let _ = writeln!(out, "      {:width$}   {line}", "");
            }
        }
    }
}

/// Text rendering with ANSI styles; the caller's stream strips them when colour is off.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    for u in &plan.unavailable {
        let _ = writeln!(
            out,
            "{} provider {} ({}) could not be read: {}\n  Nothing is planned for it; its objects are left alone.\n",
            paint("!", style(AnsiColor::Red).bold()),
            paint(&u.provider, Style::new().bold()),
            u.kind,
            u.error
        );
    }
    if plan.actions.is_empty() && !plan.unavailable.is_empty() {
        out.push_str("No changes for the providers that could be read.\n");
    } else if plan.actions.is_empty() {
        out.push_str("No changes. The live state matches the configuration.\n");
    } else {
        out.push_str("mspform will perform these actions:\n\n");
        for a in &plan.actions {
            let (m, s) = marker(a.op);
            let _ = writeln!(
                out,
                "  {} {}  ({})",
                paint(m, s.bold()),
                paint(&a.address.to_string(), Style::new().bold()),
                meaning(plan, a)
            );
            for c in &a.changes {
                change_lines(&mut out, a, c);
            }
        }
    }
    if !plan.unmanaged.is_empty() {
        out.push_str("\nUnmanaged (live, not declared, not owned by mspform; left alone):\n");
        for u in &plan.unmanaged {
            let _ = writeln!(
                out,
                "  {} {}",
                paint("?", style(AnsiColor::BrightBlack)),
                u.address
            );
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(plan));
    out
}

pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    let replace = if s.replace > 0 {
        format!(", {} to replace", s.replace)
    } else {
        String::new()
    };
    let unavailable = match plan.unavailable.len() {
        0 => String::new(),
        n => format!(" {n} provider(s) could not be read."),
    };
    format!(
        "Plan: {} to create, {} to update, {} to delete{replace}, {} to adopt, {} to forget; {} unmanaged. Refresh spent {} API call{}.{unavailable}",
        s.create,
        s.update,
        s.delete,
        s.adopt,
        s.forget,
        s.unmanaged,
        s.refresh_calls,
        if s.refresh_calls == 1 { "" } else { "s" }
    )
}

pub fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_default() + "\n"
}

/// Markdown for a pull-request comment.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::from("### mspform plan\n\n");
    for u in &plan.unavailable {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> Provider `{}` ({}) could not be read: nothing is planned for it.\n> `{}`\n",
            u.provider,
            u.kind,
            u.error.replace('`', "'")
        );
    }
    if plan.actions.is_empty() {
        out.push_str("No changes.\n");
    } else {
        out.push_str("| | address | what | fields |\n|---|---|---|---|\n");
        for a in &plan.actions {
            let fields: Vec<String> = a
                .changes
                .iter()
                .map(|c| match a.op {
                    Op::Update | Op::Adopt => format!(
                        "`{}`: `{}` → `{}`",
                        c.field,
                        show(&c.before),
                        show(&c.after)
                    ),
                    Op::Create => format!("`{}` = `{}`", c.field, show(&c.after)),
                    _ => format!("`{}`", c.field),
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                marker(a.op).0,
                a.address,
                meaning(plan, a),
                fields.join("<br>").replace('|', "\\|")
            );
        }
    }
    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>{} unmanaged objects left alone</summary>\n",
            plan.unmanaged.len()
        );
        for u in &plan.unmanaged {
            let _ = writeln!(out, "- `{}`", u.address);
        }
        out.push_str("\n</details>\n");
    }
    let _ = writeln!(out, "\n{}", summary_line(plan));
    out
}

pub fn render(plan: &Plan, format: Format) -> String {
    match format {
        Format::Text => text(plan),
        Format::Json => json(plan),
        Format::Markdown => markdown(plan),
    }
}
