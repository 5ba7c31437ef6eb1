//! Bearer tokens of `clearance serve` (TRUST.md section 5): a TOML file of
//! hashed tokens, each scoped to policies (globs over policy paths) and
//! gates. The service never holds a token in clear.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    token: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    sha256: String,
    policies: Option<Vec<String>>,
    gates: Option<Vec<String>>,
}

/// One token: who it is (for logs), and what it may decide.
pub struct Token {
    pub name: String,
    sha256: [u8; 32],
    policies: Option<GlobSet>,
    /// Gate labels without spaces (`staging->prod`).
    gates: Option<Vec<String>>,
}

pub struct Tokens {
    tokens: Vec<Token>,
}

/// `staging -> prod` and `staging->prod` alike.
pub fn gate_key(label: &str) -> String {
    label.chars().filter(|c| !c.is_whitespace()).collect()
}

impl Tokens {
    pub fn parse(text: &str, file: &str) -> Result<Tokens, String> {
        let parsed: File = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let mut tokens = Vec::new();
        for t in parsed.token {
            let bytes: Vec<u8> = (0..t.sha256.len())
                .step_by(2)
                .filter_map(|i| t.sha256.get(i..i + 2))
                .filter_map(|h| u8::from_str_radix(h, 16).ok())
                .collect();
            let sha256: [u8; 32] = bytes
                .try_into()
                .ok()
                .filter(|_| t.sha256.len() == 64)
                .ok_or_else(|| {
                    format!(
                        "{file}: token `{}`: `sha256` is not 64 hex digits (the SHA-256 of the bearer token, e.g. `printf %s TOKEN | sha256sum`)",
                        t.name
                    )
                })?;
            let policies = match t.policies {
                None => None,
                Some(globs) => {
                    let mut set = GlobSetBuilder::new();
                    for g in &globs {
                        set.add(Glob::new(g).map_err(|e| {
                            format!("{file}: token `{}`: policy glob `{g}`: {e}", t.name)
                        })?);
                    }
                    Some(set.build().map_err(|e| format!("{file}: {e}"))?)
                }
            };
            tokens.push(Token {
                name: t.name,
                sha256,
                policies,
                gates: t.gates.map(|g| g.iter().map(|x| gate_key(x)).collect()),
            });
        }
        Ok(Tokens { tokens })
    }

    /// The token whose hash is the bearer token's.
    pub fn find(&self, bearer: &str) -> Option<&Token> {
        let digest: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
        self.tokens.iter().find(|t| t.sha256 == digest)
    }
}

impl Token {
    pub fn allows_policy(&self, policy: &str) -> bool {
        self.policies.as_ref().is_none_or(|p| p.is_match(policy))
    }

    pub fn allows_gate(&self, gate: &str) -> bool {
        let gate = gate_key(gate);
        self.gates.as_ref().is_none_or(|g| g.contains(&gate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_by_hash_and_scope_by_globs_and_gates() {
        // sha256("test") = 9f86d081...
        let text = r#"
[[token]]
name = "payments-ci"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
policies = ["payments/*"]
gates = ["staging -> prod"]
"#;
        let tokens = Tokens::parse(text, "tokens.toml").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(tokens.find("nope").is_none());
        let Some(t) = tokens.find("test") else {
            unreachable!("the token matches")
        };
        assert!(t.allows_policy("payments/policy.clr"));
        assert!(!t.allows_policy("billing/policy.clr"));
        assert!(t.allows_gate("staging->prod"));
        assert!(!t.allows_gate("dev->staging"));
        assert!(Tokens::parse("[[token]]\nname = \"x\"\nsha256 = \"abc\"\n", "t").is_err());
    }
}
