//! The named limits Clearance enforces on its inputs and on evaluation. Each
//! has a documented default (docs/guarantees.md), a command-line flag, and a
//! diagnostic of its own when exceeded: exit 2 before evaluation, or an
//! `error` outcome (which denies) during it.

/// Every limit, with the defaults below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest policy (or imported, or waiver) file, in bytes.
    pub policy_bytes: u64,
    /// Most lines in one policy file.
    pub policy_lines: usize,
    /// Deepest expression tree (operators, calls, quantifiers and brackets all
    /// count).
    pub expr_depth: usize,
    /// Largest evidence file, in bytes.
    pub evidence_bytes: u64,
    /// Deepest array/object nesting in evidence (at most 128: the JSON parser's own bound).
    pub evidence_depth: usize,
    /// Largest compiled regular expression, in bytes.
    pub regex_bytes: usize,
    /// Longest single string value (evidence, `json()` input, `+` results), in bytes.
    pub string_bytes: usize,
    /// Evaluation steps per condition.
    pub max_steps: u64,
}

pub const DEFAULT: Limits = Limits {
    policy_bytes: 1024 * 1024,
    policy_lines: 20_000,
    expr_depth: 256,
    evidence_bytes: 1024 * 1024 * 1024,
    evidence_depth: 128,
    regex_bytes: 1024 * 1024,
    string_bytes: 64 * 1024 * 1024,
    max_steps: 100_000_000,
};

/// serde_json stops at this depth whatever we allow.
pub const JSON_PARSER_DEPTH: usize = 128;

impl Default for Limits {
    fn default() -> Self {
        DEFAULT
    }
}

impl Limits {
    /// Each limit with the command-line flag that sets it and its value,
    /// in the order `--help` lists them.
    pub fn flags(&self) -> [(&'static str, String); 8] {
        [
            ("--max-policy-bytes", self.policy_bytes.to_string()),
            ("--max-policy-lines", self.policy_lines.to_string()),
            ("--max-expr-depth", self.expr_depth.to_string()),
            ("--max-evidence-bytes", self.evidence_bytes.to_string()),
            ("--max-evidence-depth", self.evidence_depth.to_string()),
            ("--max-regex-bytes", self.regex_bytes.to_string()),
            ("--max-string-bytes", self.string_bytes.to_string()),
            ("--max-steps", self.max_steps.to_string()),
        ]
    }

    /// The flags of the limits that differ from [`DEFAULT`]: what a command
    /// line must add to reproduce a run under these limits.
    pub fn non_default_flags(&self) -> Vec<(&'static str, String)> {
        let defaults = DEFAULT.flags();
        self.flags()
            .into_iter()
            .zip(defaults)
            .filter(|(mine, default)| mine.1 != default.1)
            .map(|(mine, _)| mine)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_limits_have_flags() {
        assert!(DEFAULT.non_default_flags().is_empty());
        let limits = Limits {
            max_steps: 5,
            evidence_depth: 3,
            ..DEFAULT
        };
        assert_eq!(
            limits.non_default_flags(),
            vec![
                ("--max-evidence-depth", "3".to_string()),
                ("--max-steps", "5".to_string())
            ]
        );
    }
}
