//! `clearance graph`: the promotion path as a Mermaid or Graphviz picture.

use crate::check::Program;
use crate::eval::{Decision, GateResult, Outcome};
use std::fmt::Write;

/// A decided gate to colour: (from, to, result).
pub type Decided<'a> = Option<(&'a str, &'a str, &'a GateResult)>;

fn failing(result: &GateResult) -> Vec<String> {
    result
        .rules
        .iter()
        .filter(|r| r.blocks())
        .map(|r| r.name.clone())
        .collect()
}

fn edge_label(
    program: &Program,
    from: &str,
    to: &str,
    decided: Decided<'_>,
) -> (String, Option<Decision>) {
    let Some(g) = program.gate(from, to) else {
        return ("no gate".into(), None);
    };
    // What an allow of this gate validates (its blocking rules), as in the
    // chain of trust `explain` states.
    let blocking = g.rules.iter().filter(|r| !r.advisory).count();
    let advisory = g.rules.len() - blocking;
    let mut label = format!(
        "validates {blocking} rule{}",
        if blocking == 1 { "" } else { "s" }
    );
    if advisory > 0 {
        label.push_str(&format!(" + {advisory} advisory"));
    }
    if let Some((f, t, result)) = decided {
        if f == from && t == to {
            let fails = failing(result);
            label.push_str(&format!(": {}", result.decision.as_str()));
            if !fails.is_empty() {
                label.push_str(&format!(" ({})", fails.join(", ")));
            }
            let waived = result
                .rules
                .iter()
                .filter(|r| r.outcome == Outcome::Waived)
                .count();
            if waived > 0 {
                label.push_str(&format!(", {waived} waived"));
            }
            return (label, Some(result.decision));
        }
    }
    (label, None)
}

fn id(name: &str) -> String {
    name.replace('-', "_")
}

/// A Mermaid flowchart of the promotion path.
pub fn mermaid(program: &Program, decided: Decided<'_>) -> String {
    let mut out = String::from("flowchart LR\n");
    for s in &program.stages {
        let purpose = s
            .purpose
            .as_deref()
            .map(|p| format!("<br/><small>{}</small>", p.replace('"', "'")))
            .unwrap_or_default();
        let triggers = if s.triggers.is_empty() {
            String::new()
        } else {
            format!(
                "<br/><small>{} rollback trigger{}</small>",
                s.triggers.len(),
                if s.triggers.len() == 1 { "" } else { "s" }
            )
        };
        let risks = if s.risks.is_empty() {
            String::new()
        } else {
            format!(
                "<br/><small>accepts: {}</small>",
                s.risks.join("; ").replace('"', "'")
            )
        };
        let _ = writeln!(
            out,
            "  {}[\"<b>{}</b>{purpose}{risks}{triggers}\"]",
            id(&s.name),
            s.name
        );
    }
    let mut styles = Vec::new();
    for (i, (a, b)) in program.edges.iter().enumerate() {
        let (label, decision) = edge_label(program, a, b, decided);
        let arrow = if program.gate(a, b).is_some() {
            "-->"
        } else {
            "-.->"
        };
        let _ = writeln!(
            out,
            "  {} {arrow}|\"{}\"| {}",
            id(a),
            label.replace('"', "'"),
            id(b)
        );
        match decision {
            Some(Decision::Allowed) => {
                styles.push(format!("  linkStyle {i} stroke:#2da44e,stroke-width:3px"))
            }
            Some(Decision::Denied) => {
                styles.push(format!("  linkStyle {i} stroke:#cf222e,stroke-width:3px"))
            }
            None => {}
        }
    }
    for s in styles {
        out.push_str(&s);
        out.push('\n');
    }
    out
}

/// A Graphviz digraph of the promotion path.
pub fn dot(program: &Program, decided: Decided<'_>) -> String {
    let mut out =
        String::from("digraph promotion {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    for s in &program.stages {
        let mut label = s.name.clone();
        if let Some(p) = &s.purpose {
            label.push_str(&format!("\\n{}", p.replace('"', "'")));
        }
        if !s.risks.is_empty() {
            label.push_str(&format!(
                "\\naccepts: {}",
                s.risks.join("; ").replace('"', "'")
            ));
        }
        if !s.triggers.is_empty() {
            label.push_str(&format!("\\n{} rollback triggers", s.triggers.len()));
        }
        let _ = writeln!(out, "  \"{}\" [label=\"{label}\"];", s.name);
    }
    for (a, b) in &program.edges {
        let (label, decision) = edge_label(program, a, b, decided);
        let style = match (program.gate(a, b).is_some(), decision) {
            (_, Some(Decision::Allowed)) => ", color=\"#2da44e\", penwidth=3",
            (_, Some(Decision::Denied)) => ", color=\"#cf222e\", penwidth=3",
            (false, None) => ", style=dashed",
            (true, None) => "",
        };
        let _ = writeln!(
            out,
            "  \"{a}\" -> \"{b}\" [label=\"{}\"{style}];",
            label.replace('"', "'")
        );
    }
    out.push_str("}\n");
    out
}
