//! The chain of trust a decision states: what it *validated* (each blocking
//! rule that passed), what *risk remains* (waivers applied, advisory rules
//! that failed, the target stage's declared `risk`s) and what is *required
//! next* (the gates that lead out of the target stage). The JSON report,
//! the signed decision and `explain` all state it from here.

use crate::check::Program;
use crate::eval::{GateResult, Outcome, WaiverState};
use crate::syntax::ast::GateDecl;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TrustChain {
    pub validated: Vec<Validated>,
    pub remaining_risk: Vec<Risk>,
    /// `prod -> dr`: the gates out of the target stage, in policy order.
    pub required_next: Vec<String>,
}

/// A blocking rule that passed.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Validated {
    pub rule: String,
    pub title: Option<String>,
}

/// One risk the promotion carries forward.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Risk {
    /// A waiver turned a failing or erroring rule into a pass.
    Waiver {
        rule: String,
        reason: String,
        owner: Option<String>,
        ticket: Option<String>,
        until: String,
    },
    /// An advisory rule that failed or could not be evaluated.
    Advisory {
        rule: String,
        title: Option<String>,
        outcome: Outcome,
    },
    /// A `risk` the target stage declares it accepts.
    Accepted { stage: String, risk: String },
}

/// The chain of trust of one decision of `gate`.
pub fn of_decision(program: &Program, gate: &GateDecl, result: &GateResult) -> TrustChain {
    let validated = result
        .rules
        .iter()
        .filter(|r| !r.advisory && r.outcome == Outcome::Pass && r.waiver.is_none())
        .map(|r| Validated {
            rule: r.name.clone(),
            title: r.title.clone(),
        })
        .collect();
    let mut remaining_risk: Vec<Risk> = result
        .waivers
        .iter()
        .filter(|w| w.state == WaiverState::Applied)
        .map(|w| Risk::Waiver {
            rule: w.rule.clone(),
            reason: w.reason.clone(),
            owner: w.owner.clone(),
            ticket: w.ticket.clone(),
            until: w.until.clone(),
        })
        .collect();
    remaining_risk.extend(
        result
            .rules
            .iter()
            .filter(|r| r.advisory && matches!(r.outcome, Outcome::Fail | Outcome::Error))
            .map(|r| Risk::Advisory {
                rule: r.name.clone(),
                title: r.title.clone(),
                outcome: r.outcome,
            }),
    );
    remaining_risk.extend(accepted_risks(program, gate));
    TrustChain {
        validated,
        remaining_risk,
        required_next: required_next(program, gate),
    }
}

/// The `risk`s the gate's target stage declares.
pub fn accepted_risks(program: &Program, gate: &GateDecl) -> Vec<Risk> {
    program
        .stage(&gate.to.name)
        .map(|s| {
            s.risks
                .iter()
                .map(|r| Risk::Accepted {
                    stage: s.name.clone(),
                    risk: r.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The gates out of the gate's target stage.
pub fn required_next(program: &Program, gate: &GateDecl) -> Vec<String> {
    program
        .gates
        .iter()
        .filter(|g| g.from.name == gate.to.name)
        .map(GateDecl::label)
        .collect()
}
