//! Human names for grammar rules, used in "expected ..." messages. The match
//! is exhaustive on purpose: a new grammar rule does not build until it has a name.

use super::parser::Rule;

pub(crate) fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE => "whitespace",
        Rule::COMMENT => "a comment",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::item => {
            "an item (`stages`, `stage`, `param`, `let`, `def`, `import`, `gate` or `waive`)"
        }
        Rule::keyword => "a keyword",
        Rule::ident => "a name",
        Rule::field_name => "a field name",
        Rule::rule_name => "a rule name (kebab-case)",
        Rule::stage_name => "a stage name",
        Rule::string => "a string",
        Rule::number => "a number",
        Rule::duration => "a duration",
        Rule::date => "a date (YYYY-MM-DD)",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_exists => "`exists`",
        Rule::kw_if => "`if`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_for => "`for`",
        Rule::kw_true => "`true`",
        Rule::kw_false => "`false`",
        Rule::kw_null => "`null`",
        Rule::kw_all => "`all`",
        Rule::kw_any => "`any`",
        Rule::kw_none => "`none`",
        Rule::kw_stages => "`stages`",
        Rule::kw_stage => "`stage`",
        Rule::kw_purpose => "`purpose`",
        Rule::kw_gate => "`gate`",
        Rule::kw_rule => "`rule`",
        Rule::kw_rollback => "`rollback`",
        Rule::kw_advisory => "`advisory`",
        Rule::kw_require => "`require`",
        Rule::kw_when => "`when`",
        Rule::kw_title => "`title`",
        Rule::kw_help => "`help`",
        Rule::kw_let => "`let`",
        Rule::kw_param => "`param`",
        Rule::kw_def => "`def`",
        Rule::kw_import => "`import`",
        Rule::kw_waive => "`waive`",
        Rule::kw_until => "`until`",
        Rule::kw_reason => "`reason`",
        Rule::kw_owner => "`owner`",
        Rule::kw_ticket => "`ticket`",
        Rule::kw_subject => "`subject`",
        Rule::kw_level => "`level`",
        Rule::kw_risk => "`risk`",
        Rule::arrow => "`->`",
        Rule::file => "a policy file",
        Rule::expr_only => "an expression",
        Rule::stages_decl => "a `stages` line",
        Rule::stage_decl => "a `stage` block",
        Rule::purpose => "`purpose`",
        Rule::risk => "`risk`",
        Rule::subject_decl => "`subject`",
        Rule::level_decl => "`level`",
        Rule::param_decl => "a `param`",
        Rule::let_decl => "`let`",
        Rule::def_decl => "a `def`",
        Rule::def_params => "parameter names",
        Rule::import_decl => "an `import`",
        Rule::gate_decl => "a `gate` block",
        Rule::rule_decl => "a `rule`",
        Rule::trigger_decl => "a `rollback` trigger",
        Rule::advisory => "`advisory`",
        Rule::rule_body => "`{`",
        Rule::title => "`title`",
        Rule::help => "`help`",
        Rule::when_clause => "`when`",
        Rule::require_clause => "`require`",
        Rule::waive_decl => "a `waive` line",
        Rule::waive_expiry => "an expiry date",
        Rule::waive_owner => "`owner`",
        Rule::waive_ticket => "`ticket`",
        Rule::expr
        | Rule::disjunction
        | Rule::conjunction
        | Rule::negation
        | Rule::comparison
        | Rule::coalesce
        | Rule::additive
        | Rule::multiplicative
        | Rule::unary
        | Rule::postfix
        | Rule::paren
        | Rule::primary
        | Rule::literal
        | Rule::list_or_comprehension
        | Rule::list_rest
        | Rule::quantifier
        | Rule::quant_kind
        | Rule::conditional
        | Rule::exists_expr
        | Rule::call
        | Rule::comprehension
        | Rule::object_lit
        | Rule::op_neg => "an expression",
        Rule::compare_op
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_not_in => "a comparison",
        Rule::op_coalesce => "`??`",
        Rule::op_add | Rule::op_sub | Rule::op_mul | Rule::op_div | Rule::op_rem => "an operator",
        Rule::field_access => "`.`",
        Rule::index_access => "`[`",
        Rule::object_entry => "an object entry (`key: value`)",
    }
}
