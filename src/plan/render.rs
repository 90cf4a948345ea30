//! Plan rendering: text (with `+ ~ -` markers and word diffs of changed values,
//! coloured only when the stream is a terminal and NO_COLOR is unset), JSON and Markdown.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::Plan;
use crate::address::Address;
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

/// What the text rendering shows beyond the actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Word diffs under long changed values (only readable in colour: the
    /// CLI turns them off when its output is not coloured).
    pub word_diff: bool,
    /// Every unmanaged object, one line each (else a count per provider and kind).
    pub list_unmanaged: bool,
}

impl Default for TextOptions {
    /// Everything: word diffs and the whole unmanaged list.
    fn default() -> Self {
        TextOptions {
            word_diff: true,
            list_unmanaged: true,
        }
    }
}

fn marker(a: &Action) -> (&'static str, Style) {
    match a.op {
        Op::Create => ("+", style(AnsiColor::Green)),
        Op::Update => ("~", style(AnsiColor::Yellow)),
        Op::Delete => ("-", style(AnsiColor::Red)),
        Op::Adopt if a.changes.is_empty() => ("=", style(AnsiColor::Cyan)),
        Op::Adopt => ("=~", style(AnsiColor::Cyan)),
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

/// `  (default)` after a value the files did not declare (a default mspform sends).
fn default_mark(a: &Action, c: &FieldChange) -> &'static str {
    if a.is_default(&c.field) {
        "  (default)"
    } else {
        ""
    }
}

fn change_lines(out: &mut String, a: &Action, c: &FieldChange, word_diff: bool) {
    let width = a.changes.iter().map(|c| c.field.len()).max().unwrap_or(0);
    let name = format!("{:width$}", c.field);
    match a.op {
        Op::Create => {
            let _ = writeln!(
                out,
                "      {name} = {}{}",
                show(&c.after),
                default_mark(a, c)
            );
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
            if word_diff && before.len() + after.len() > 40 && !c.before.is_null() {
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
    text_with(plan, &TextOptions::default())
}

/// Text rendering with the given options.
pub fn text_with(plan: &Plan, options: &TextOptions) -> String {
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
    for w in &plan.warnings {
        let _ = writeln!(out, "{} {w}\n", paint("!", style(AnsiColor::Yellow).bold()));
    }
    if let Some(selection) = selection_note(plan) {
        let _ = writeln!(
            out,
            "{} {selection}\n",
            paint("!", style(AnsiColor::Yellow).bold())
        );
    }
    if !plan.has_changes() && !plan.unavailable.is_empty() {
        out.push_str("No changes for the providers that could be read.\n");
    } else if !plan.has_changes() {
        out.push_str("No changes. The live state matches the configuration.\n");
    } else {
        out.push_str("mspform will perform these actions:\n\n");
        for a in &plan.actions {
            let (m, s) = marker(a);
            let _ = writeln!(
                out,
                "  {} {}  ({})",
                paint(m, s.bold()),
                paint(&a.address.to_string(), Style::new().bold()),
                meaning(plan, a)
            );
            for c in &a.changes {
                change_lines(&mut out, a, c, options.word_diff);
            }
        }
        for p in &plan.protect {
            let _ = writeln!(
                out,
                "  {} {}  (record its protection in state: protect = true at {})",
                paint("#", style(AnsiColor::Blue).bold()),
                paint(&p.address.to_string(), Style::new().bold()),
                p.declared_at
            );
        }
    }
    if !plan.kept.is_empty() {
        out.push_str(
            "\nProtected, kept (the files no longer declare them; `mspform state unprotect ADDRESS` lets the next plan delete them):\n",
        );
        for k in &plan.kept {
            let _ = writeln!(
                out,
                "  {} {}{}",
                paint("#", style(AnsiColor::Blue).bold()),
                k.address,
                kept_inside(k)
            );
        }
    }
    for b in &plan.bulk {
        let _ = writeln!(
            out,
            "\n{} Bulk change: {} of the {} {} objects provider {} owns would be deleted or replaced (more than {} %); apply refuses this plan without --force-bulk.",
            paint("!", style(AnsiColor::Red).bold()),
            b.changes,
            b.owned,
            b.kind.word(),
            b.provider,
            b.threshold_percent
        );
    }
    if !plan.unmanaged.is_empty() && options.list_unmanaged {
        out.push_str("\nUnmanaged (live, not declared, not owned by mspform; left alone):\n");
        for u in &plan.unmanaged {
            let _ = writeln!(
                out,
                "  {} {}  ({})",
                paint("?", style(AnsiColor::BrightBlack)),
                u.address,
                u.provider
            );
        }
    } else if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "\nUnmanaged (live, not declared, not owned by mspform; left alone): {}. --show-unmanaged lists them.",
            unmanaged_counts(plan)
        );
    }
    if let Some(d) = &plan.drift {
        out.push('\n');
        out.push_str(&drift_line(d));
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", summary_line(plan));
    // A drift report is not a plan to apply: its repair is priced by `plan`.
    if let Some(cost) = cost_line(plan).filter(|_| plan.drift.is_none()) {
        let _ = writeln!(out, "{cost}");
    }
    out
}

/// "aruba: 7 customers, 2 devices; extreme: 1 customer".
fn unmanaged_counts(plan: &Plan) -> String {
    let mut counts: std::collections::BTreeMap<
        &str,
        std::collections::BTreeMap<u8, (Kind, usize)>,
    > = std::collections::BTreeMap::new();
    for u in &plan.unmanaged {
        counts
            .entry(u.provider.as_str())
            .or_default()
            .entry(u.kind.rank())
            .or_insert((u.kind, 0))
            .1 += 1;
    }
    counts
        .iter()
        .map(|(provider, kinds)| {
            let kinds: Vec<String> = kinds
                .values()
                .map(|(kind, n)| format!("{n} {}{}", kind.word(), if *n == 1 { "" } else { "s" }))
                .collect();
            format!("{provider}: {}", kinds.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The apply's estimated cost per provider: calls, and their time at the
/// provider's rate limit (waits for provisioning not counted), with what the
/// vendor said is left of its daily quota. `None` when nothing is to be sent.
pub fn cost_line(plan: &Plan) -> Option<String> {
    let parts: Vec<String> = plan
        .providers
        .iter()
        .filter(|p| p.apply_calls > 0)
        .map(|p| {
            let left = p
                .day_quota
                .map(|d| {
                    let of = d.limit.map(|l| format!(" of {l}")).unwrap_or_default();
                    let short = if d.remaining < p.apply_calls {
                        " — fewer than the apply needs: it will stop when they run out, and the next run after the reset resumes"
                    } else {
                        ""
                    };
                    format!("; {}{of} calls left today{short}", d.remaining)
                })
                .unwrap_or_default();
            let rate = if p.calls_per_second.fract().abs() < 0.05 {
                format!("{:.0}", p.calls_per_second)
            } else {
                format!("{:.1}", p.calls_per_second)
            };
            format!(
                "{} {} call{} ≈ {} at {rate} calls/s{left}",
                p.provider,
                p.apply_calls,
                if p.apply_calls == 1 { "" } else { "s" },
                duration_words(p.apply_seconds),
            )
        })
        .collect();
    (!parts.is_empty()).then(|| format!("Apply cost (estimated): {}.", parts.join("; ")))
}

/// Seconds as "45s", "3m05s", "2h01m".
fn duration_words(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// A few addresses, and how many more.
pub fn some(addresses: &[Address], most: usize) -> String {
    let mut text = addresses
        .iter()
        .take(most)
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if addresses.len() > most {
        let _ = write!(text, " and {} more", addresses.len() - most);
    }
    text
}

/// What a targeted plan (`--target`, `--exclude`) left out, in words.
pub fn selection_note(plan: &Plan) -> Option<String> {
    if plan.targets.is_empty() && plan.excludes.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !plan.targets.is_empty() {
        parts.push(format!(
            "Targeted plan (--target {}): only those objects, what lies inside them and what they depend on were read and planned.",
            plan.targets.join(", ")
        ));
    }
    if !plan.pulled_in.is_empty() {
        parts.push(format!(
            "Pulled in as dependencies: {}.",
            some(&plan.pulled_in, 5)
        ));
    }
    if !plan.excludes.is_empty() {
        parts.push(format!(
            "Excluded (--exclude {}): not read, not planned.",
            plan.excludes.join(", ")
        ));
    }
    if !plan.dragged_out.is_empty() {
        parts.push(format!(
            "Left out because they depend on an excluded object: {}.",
            some(&plan.dragged_out, 5)
        ));
    }
    parts
        .push("The rest of the portfolio may differ; a plan without them shows everything.".into());
    Some(parts.join(" "))
}

fn kept_inside(k: &super::Kept) -> String {
    match k.with.len() {
        0 => String::new(),
        n => format!(
            " and {n} object(s) inside it ({})",
            k.with
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What a rolling drift check read of one provider, in words.
fn coverage_line(c: &super::rolling::Coverage) -> String {
    let mut line = format!(
        "Rolling check of {}: {} of {} customer(s) read fully this run ({}); the customer list and device assignments of all of them are read every run.",
        c.provider,
        c.checked,
        c.customers,
        if c.reads.is_empty() {
            "every read is MSP-wide".to_string()
        } else {
            c.reads.join(", ")
        }
    );
    if let Some(at) = c.oldest_unchecked {
        let _ = write!(
            line,
            " The others were last read fully at {} at the earliest.",
            crate::clock::fmt_utc(at)
        );
    }
    if c.overdue > 0 {
        let _ = write!(
            line,
            " {} customer(s) are overdue (not read fully within the period) and were left for the next run by --max-calls.",
            c.overdue
        );
    }
    line
}

/// What a drift report left out, in words.
fn drift_line(d: &super::DriftNotes) -> String {
    let mut parts = vec![format!(
        "{} drifted field(s) or object(s) matched an [[ignore]] rule: counted, not shown.",
        d.ignored
    )];
    for c in &d.coverage {
        parts.push(coverage_line(c));
    }
    if let Some(n) = d.seen_before {
        parts.push(format!(
            "{n} the previous drift run saw already are not shown (--new-only; `mspform drift` shows everything)."
        ));
    }
    parts.join(" ")
}

pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    let replace = if s.replace > 0 {
        format!(", {} to replace", s.replace)
    } else {
        String::new()
    };
    let protect = match plan.protect.len() {
        0 => String::new(),
        n => format!(", {n} protection(s) to record"),
    };
    let kept = if s.kept > 0 {
        format!(", {} protected and kept", s.kept)
    } else {
        String::new()
    };
    let unavailable = match plan.unavailable.len() {
        0 => String::new(),
        n => format!(" {n} provider(s) could not be read."),
    };
    format!(
        "Plan: {} to create, {} to update, {} to delete{replace}, {} to adopt, {} to forget{protect}{kept}; {} unmanaged. Refresh spent {} API call{}.{unavailable}",
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

/// GitHub refuses a comment longer than 65,536 characters; a Markdown plan is
/// cut to at most this many bytes (a character is at least one byte).
pub const MARKDOWN_CAP: usize = 65_000;
/// Deletes and replacements listed in the warning block at the top; the rest
/// are in the provider sections below it.
const WARNING_ROWS: usize = 50;

/// How a Markdown plan is written.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// The most bytes it may have (see [`MARKDOWN_CAP`]).
    pub cap: usize,
    /// Where the JSON plan is kept (e.g. the CI run holding the artifact), for
    /// the note on a plan that was cut.
    pub artifact: Option<String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            cap: MARKDOWN_CAP,
            artifact: None,
        }
    }
}

/// Text for a Markdown code span: no backtick, no line break.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'").replace(['\n', '\r'], " "))
}

/// Text for a table cell or a blockquote line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The customer an action belongs to, for grouping (`None`: a partner).
fn customer_of(a: &Action) -> Option<String> {
    match &a.address {
        crate::address::Address::Device(_) => a
            .changed("customer")
            .and_then(|c| c.after.as_str().or(c.before.as_str()))
            .map(str::to_string),
        other => other.customer_key().map(str::to_string),
    }
}

/// One line of the Markdown plan; `action` marks a table row of one action.
struct Line {
    text: String,
    action: bool,
}

fn line(text: impl Into<String>) -> Line {
    Line {
        text: text.into(),
        action: false,
    }
}

fn action_row(plan: &Plan, a: &Action) -> Line {
    let fields: Vec<String> = a
        .changes
        .iter()
        .map(|c| match a.op {
            Op::Update | Op::Adopt | Op::Replace => format!(
                "{}: {} → {}",
                code(&c.field),
                code(&show(&c.before)),
                code(&show(&c.after))
            ),
            Op::Create => format!(
                "{} = {}{}",
                code(&c.field),
                code(&show(&c.after)),
                default_mark(a, c)
            ),
            _ => code(&c.field),
        })
        .collect();
    Line {
        text: format!(
            "| {} | {} | {} | {} |",
            marker(a).0,
            code(&a.address.to_string()),
            cell(&meaning(plan, a)),
            cell(&fields.join("<br>"))
        ),
        action: true,
    }
}

/// The warning block at the top: deletes, replacements, bulk changes and
/// protected objects kept, before anything else.
fn warning_block(plan: &Plan, out: &mut Vec<Line>) {
    let removing: Vec<&Action> = plan
        .actions
        .iter()
        .filter(|a| matches!(a.op, Op::Delete | Op::Replace))
        .collect();
    if removing.is_empty() && plan.bulk.is_empty() && plan.kept.is_empty() {
        return;
    }
    out.push(line("> [!WARNING]"));
    if !removing.is_empty() {
        out.push(line(format!(
            "> **This plan deletes or replaces {} object(s):**",
            removing.len()
        )));
        for a in removing.iter().take(WARNING_ROWS) {
            out.push(line(format!(
                "> - `{}` {} — {} (provider {})",
                marker(a).0,
                code(&a.address.to_string()),
                cell(&meaning(plan, a)),
                code(&a.provider)
            )));
        }
        if removing.len() > WARNING_ROWS {
            out.push(line(format!(
                "> - … and {} more, listed below",
                removing.len() - WARNING_ROWS
            )));
        }
    }
    for b in &plan.bulk {
        out.push(line(format!(
            "> **Bulk change:** {} of the {} {} objects provider {} owns would be deleted or replaced (more than {} %); `apply` refuses this plan without `--force-bulk`.",
            b.changes,
            b.owned,
            b.kind.word(),
            code(&b.provider),
            b.threshold_percent
        )));
    }
    if !plan.kept.is_empty() {
        out.push(line(
            "> **Protected, kept:** the files no longer declare these, but state keeps them protected, so they are not deleted (`mspform state unprotect ADDRESS` lets the next plan delete one):",
        ));
        for k in plan.kept.iter().take(WARNING_ROWS) {
            out.push(line(format!(
                "> - {}{}",
                code(&k.address.to_string()),
                cell(&kept_inside(k))
            )));
        }
        if plan.kept.len() > WARNING_ROWS {
            out.push(line(format!(
                "> - … and {} more",
                plan.kept.len() - WARNING_ROWS
            )));
        }
    }
    out.push(line(""));
}

const TABLE_HEAD: [&str; 2] = ["| | address | what | fields |", "|---|---|---|---|"];

/// The actions, grouped by provider, then by customer (partners last).
fn sections(plan: &Plan, out: &mut Vec<Line>) {
    let mut providers: Vec<&str> = plan.actions.iter().map(|a| a.provider.as_str()).collect();
    providers.extend(plan.protect.iter().map(|p| p.provider.as_str()));
    providers.sort();
    providers.dedup();
    for provider in providers {
        let kind = plan
            .providers
            .iter()
            .find(|p| p.provider == provider)
            .map(|p| format!(" ({})", p.kind))
            .unwrap_or_default();
        out.push(line(format!("#### Provider {}{kind}", code(provider))));
        out.push(line(""));
        let mine: Vec<&Action> = plan
            .actions
            .iter()
            .filter(|a| a.provider == provider)
            .collect();
        let mut groups: Vec<Option<String>> = mine.iter().map(|a| customer_of(a)).collect();
        groups.extend(
            plan.protect
                .iter()
                .filter(|p| p.provider == provider)
                .map(|p| p.address.customer_key().map(str::to_string)),
        );
        // Customers in order of their keys, partners (None) last.
        groups.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
        groups.dedup();
        for group in groups {
            out.push(line(match &group {
                Some(c) => format!("**{}**", code(&format!("customer.{c}"))),
                None => "**Partners**".to_string(),
            }));
            out.push(line(""));
            out.extend(TABLE_HEAD.iter().map(|h| line(*h)));
            for a in mine.iter().filter(|a| customer_of(a) == group) {
                out.push(action_row(plan, a));
            }
            for p in plan.protect.iter().filter(|p| {
                p.provider == provider && p.address.customer_key().map(str::to_string) == group
            }) {
                out.push(Line {
                    text: format!(
                        "| 🔒 | {} | record its protection in state (`protect = true` at {}) | |",
                        code(&p.address.to_string()),
                        cell(&p.declared_at)
                    ),
                    action: true,
                });
            }
            out.push(line(""));
        }
    }
}

/// Markdown for a pull-request comment (see [`markdown_with`]).
pub fn markdown(plan: &Plan) -> String {
    markdown_with(plan, &MarkdownOptions::default())
}

/// Markdown for a pull-request comment: the summary first, then deletes,
/// replacements, bulk changes and kept protected objects in a warning block,
/// then the actions grouped by provider and customer. Cut to `options.cap`
/// bytes, with a note saying where the whole plan is.
pub fn markdown_with(plan: &Plan, options: &MarkdownOptions) -> String {
    let mut out: Vec<Line> = vec![
        line("### mspform plan"),
        line(""),
        line(format!("**{}**", summary_line(plan))),
        line(""),
    ];
    for u in &plan.unavailable {
        out.push(line("> [!CAUTION]"));
        out.push(line(format!(
            "> Provider {} ({}) could not be read: nothing is planned for it.",
            code(&u.provider),
            u.kind
        )));
        out.push(line(format!("> {}", code(&u.error))));
        out.push(line(""));
    }
    warning_block(plan, &mut out);
    if !plan.warnings.is_empty() {
        out.push(line("> [!NOTE]"));
        for w in &plan.warnings {
            out.push(line(format!("> - {}", cell(w))));
        }
        out.push(line(""));
    }
    if !plan.has_changes() {
        out.push(line("No changes."));
        out.push(line(""));
    } else {
        sections(plan, &mut out);
    }
    if let Some(d) = &plan.drift {
        out.push(line(drift_line(d)));
        out.push(line(""));
    }
    if !plan.unmanaged.is_empty() {
        out.push(line(format!(
            "<details><summary>{} unmanaged objects left alone</summary>",
            plan.unmanaged.len()
        )));
        out.push(line(""));
        for u in &plan.unmanaged {
            out.push(line(format!("- {}", code(&u.address.to_string()))));
        }
        out.push(line(""));
        out.push(line("</details>"));
    }
    // One newline at the end, not a blank line.
    while out.last().is_some_and(|l| l.text.is_empty()) {
        out.pop();
    }
    cap(out, plan, options)
}

/// Joins the lines; when they are longer than the cap, keeps the first ones
/// that fit with a note (and closes an open `<details>`).
fn cap(lines: Vec<Line>, plan: &Plan, options: &MarkdownOptions) -> String {
    let whole: usize = lines.iter().map(|l| l.text.len() + 1).sum();
    if whole <= options.cap {
        return lines.into_iter().map(|l| l.text + "\n").collect();
    }
    let total = plan.actions.len() + plan.protect.len();
    let note = |shown: usize| {
        format!(
            "\n> [!NOTE]\n> This plan is too long for a comment: {shown} of its {total} actions are shown. The whole plan is the JSON plan (`mspform plan --out plan.json`), kept as this run's artifact{}.\n",
            options
                .artifact
                .as_deref()
                .map(|url| format!(": {url}"))
                .unwrap_or_default()
        )
    };
    let room = options
        .cap
        .saturating_sub(note(total).len() + "</details>\n".len());
    let mut out = String::new();
    let (mut shown, mut open) = (0, false);
    for l in lines {
        if out.len() + l.text.len() + 1 > room {
            break;
        }
        shown += usize::from(l.action);
        if l.text.starts_with("<details>") {
            open = true;
        } else if l.text == "</details>" {
            open = false;
        }
        out.push_str(&l.text);
        out.push('\n');
    }
    if open {
        out.push_str("</details>\n");
    }
    out.push_str(&note(shown));
    out
}

pub fn render(plan: &Plan, format: Format) -> String {
    match format {
        Format::Text => text(plan),
        Format::Json => json(plan),
        Format::Markdown => markdown(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::diff::{FieldChange, Kind};
    use crate::plan::{BulkChange, Kept, Protect, ProviderRead};
    use serde_json::json;

    fn action(provider: &str, address: &str, op: Op, fields: &[(&str, &str)]) -> Action {
        let address: Address = address.parse().unwrap();
        Action {
            kind: address.kind(),
            address,
            provider: provider.into(),
            op,
            changes: fields
                .iter()
                .map(|(f, v)| FieldChange {
                    field: f.to_string(),
                    before: json!("old"),
                    after: json!(v),
                })
                .collect(),
            replace_because: if op == Op::Replace {
                vec!["short_name".into()]
            } else {
                Vec::new()
            },
            note: None,
            defaults: Vec::new(),
        }
    }

    fn read(provider: &str, kind: &str) -> ProviderRead {
        ProviderRead::new(provider, kind, 3)
    }

    fn sample() -> Plan {
        let mut plan = Plan::new(
            vec![
                read("ext", "extremecloud"),
                read("voice", "audiocodes-live"),
            ],
            vec![
                action("ext", "customer.zeta", Op::Update, &[("name", "Zeta")]),
                action("ext", "partner.west", Op::Update, &[("customers", "x")]),
                action("ext", "customer.alpha", Op::Create, &[("name", "Alpha")]),
                action("voice", "customer.old", Op::Delete, &[]),
                action(
                    "voice",
                    "customer.phone",
                    Op::Replace,
                    &[("short_name", "P2")],
                ),
            ],
            Vec::new(),
        );
        plan.kept.push(Kept {
            address: Address::customer("keepme"),
            kind: Kind::Customer,
            provider: "ext".into(),
            protected_since: 1,
            with: Vec::new(),
        });
        plan.protect.push(Protect {
            address: Address::customer("alpha"),
            provider: "ext".into(),
            declared_at: "alpha.toml:4:1".into(),
        });
        plan.bulk.push(BulkChange {
            provider: "voice".into(),
            kind: Kind::Customer,
            changes: 2,
            owned: 3,
            threshold_percent: 30,
        });
        plan.recount();
        plan
    }

    fn at(text: &str, needle: &str) -> usize {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{text}"))
    }

    #[test]
    fn unmanaged_objects_are_counted_per_provider_unless_listed() {
        let mut plan = sample();
        for (provider, address, kind) in [
            ("ext", "customer[\"A\"]", Kind::Customer),
            ("ext", "customer[\"B\"]", Kind::Customer),
            ("voice", "customer[\"C\"]", Kind::Customer),
        ] {
            plan.unmanaged.push(crate::diff::Unmanaged {
                address: address.parse().unwrap(),
                kind,
                provider: provider.into(),
            });
        }
        let short = anstream::adapter::strip_str(&text_with(
            &plan,
            &TextOptions {
                word_diff: false,
                list_unmanaged: false,
            },
        ))
        .to_string();
        assert!(
            short.contains(
                "left alone): ext: 2 customers; voice: 1 customer. --show-unmanaged lists them."
            ),
            "{short}"
        );
        assert!(!short.contains("customer[\"A\"]"));
        let long = anstream::adapter::strip_str(&text(&plan)).to_string();
        assert!(long.contains("? customer[\"A\"]  (ext)"), "{long}");
    }

    #[test]
    fn an_adoption_that_also_updates_has_its_own_marker_and_word_diffs_follow_colour() {
        let long = "the old description of this customer, which is long";
        let mut a = action("ext", "customer.zeta", Op::Adopt, &[]);
        assert_eq!(marker(&a).0, "=");
        a.changes.push(FieldChange {
            field: "description".into(),
            before: serde_json::json!(long),
            after: serde_json::json!(long.replace("old", "new")),
        });
        assert_eq!(marker(&a).0, "=~");
        let plan = Plan::new(vec![read("ext", "extremecloud")], vec![a], Vec::new());
        let plain = text_with(
            &plan,
            &TextOptions {
                word_diff: false,
                list_unmanaged: true,
            },
        );
        assert!(!plain.contains("[-old-]"), "{plain}");
        assert!(text(&plan).contains("[-old-]"));
    }

    #[test]
    fn markdown_puts_the_summary_then_the_warnings_then_providers_and_customers() {
        let md = markdown(&sample());
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines[0], "### mspform plan");
        assert!(
            lines[2].starts_with("**Plan: 1 to create, 2 to update, 1 to delete, 1 to replace"),
            "the summary comes first: {}",
            lines[2]
        );
        assert!(lines[2].contains("1 protection(s) to record, 1 protected and kept"));
        // The warning block, before any provider section, names every delete and replacement.
        let warning = at(&md, "> [!WARNING]");
        let first_section = at(&md, "#### Provider");
        assert!(warning < first_section);
        let block = &md[warning..first_section];
        assert!(block.contains("deletes or replaces 2 object(s)"), "{block}");
        assert!(block.contains("`customer.old`") && block.contains("`customer.phone`"));
        assert!(block.contains("--allow-replace customer.phone"), "{block}");
        assert!(
            block.contains("**Bulk change:** 2 of the 3 customer objects"),
            "{block}"
        );
        assert!(block.contains("--force-bulk"), "{block}");
        assert!(block.contains("**Protected, kept:**") && block.contains("`customer.keepme`"));
        assert!(
            !block.contains("customer.zeta"),
            "updates stay out of the warning block"
        );
        // Grouped by provider (ext, then voice), then customer (alpha, zeta), partners last.
        let ext = at(&md, "#### Provider `ext` (extremecloud)");
        let voice = at(&md, "#### Provider `voice` (audiocodes-live)");
        let alpha = at(&md, "**`customer.alpha`**");
        let zeta = at(&md, "**`customer.zeta`**");
        let partners = at(&md, "**Partners**");
        assert!(
            ext < alpha && alpha < zeta && zeta < partners && partners < voice,
            "{md}"
        );
        assert!(md[alpha..zeta].contains("| 🔒 | `customer.alpha` | record its protection"));
        assert!(md[partners..voice].contains("`partner.west`"));
    }

    #[test]
    fn a_long_markdown_plan_is_cut_below_the_comment_limit_with_a_note() {
        let actions: Vec<Action> = (0..3000)
            .map(|i| {
                action(
                    "ext",
                    &format!("customer.c{i:04}"),
                    Op::Update,
                    &[("description", &"a long description ".repeat(3))],
                )
            })
            .collect();
        let plan = Plan::new(vec![read("ext", "extremecloud")], actions, Vec::new());
        let whole = markdown_with(
            &plan,
            &MarkdownOptions {
                cap: usize::MAX,
                artifact: None,
            },
        );
        assert!(
            whole.len() > 65_536,
            "the sample is long enough: {}",
            whole.len()
        );
        let options = MarkdownOptions {
            artifact: Some("https://ci.example/runs/7".into()),
            ..MarkdownOptions::default()
        };
        let md = markdown_with(&plan, &options);
        assert!(
            md.len() <= MARKDOWN_CAP && MARKDOWN_CAP < 65_536,
            "{}",
            md.len()
        );
        assert!(md.starts_with("### mspform plan\n\n**Plan: 0 to create, 3000 to update"));
        let shown = md.lines().filter(|l| l.starts_with("| ~ |")).count();
        assert!(shown > 100 && shown < 3000, "{shown}");
        assert!(
            md.contains(&format!(
                "{shown} of its 3000 actions are shown. The whole plan is the JSON plan"
            )) && md.contains("artifact: https://ci.example/runs/7"),
            "{}",
            &md[md.len() - 400..]
        );
        // A plan that fits is not cut.
        let small = markdown(&sample());
        assert!(!small.contains("too long for a comment"));
    }

    #[test]
    fn markdown_values_cannot_break_the_table() {
        let mut a = action("ext", "customer.x", Op::Update, &[("name", "a|b`c")]);
        a.changes[0].before = json!("line\nbreak");
        let plan = Plan::new(vec![read("ext", "extremecloud")], vec![a], Vec::new());
        let md = markdown(&plan);
        let row = md
            .lines()
            .find(|l| l.starts_with("| ~ |"))
            .expect("the row");
        assert!(row.contains("a\\|b'c"), "{row}");
        assert!(row.ends_with(" |"), "one line: {row}");
    }
}
