//! Static types: what the checker can know about a value without evidence,
//! and the signatures builtins declare.

/// A statically known type; `Unknown` for anything read from evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Unknown,
    Null,
    Bool,
    Num,
    Str,
    Duration,
    Time,
    Version,
    List,
    Object,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Unknown => "any",
            Ty::Null => "null",
            Ty::Bool => "boolean",
            Ty::Num => "number",
            Ty::Str => "string",
            Ty::Duration => "duration",
            Ty::Time => "time",
            Ty::Version => "version",
            Ty::List => "list",
            Ty::Object => "object",
        }
    }

    pub fn known(self) -> bool {
        self != Ty::Unknown
    }
}

/// The type a builtin accepts for one parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgTy {
    Any,
    Str,
    Num,
    List,
    /// a list or an object
    Collection,
    /// a list, an object or a string
    Sized,
    /// a string or a number
    StrOrNum,
}

impl ArgTy {
    pub fn accepts(self, ty: Ty) -> bool {
        if !ty.known() {
            return true;
        }
        match self {
            ArgTy::Any => true,
            ArgTy::Str => ty == Ty::Str,
            ArgTy::Num => ty == Ty::Num,
            ArgTy::List => ty == Ty::List,
            ArgTy::Collection => matches!(ty, Ty::List | Ty::Object),
            ArgTy::Sized => matches!(ty, Ty::List | Ty::Object | Ty::Str),
            ArgTy::StrOrNum => matches!(ty, Ty::Str | Ty::Num),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ArgTy::Any => "any",
            ArgTy::Str => "string",
            ArgTy::Num => "number",
            ArgTy::List => "list",
            ArgTy::Collection => "list or object",
            ArgTy::Sized => "list, object or string",
            ArgTy::StrOrNum => "string or number",
        }
    }
}

/// Checks the string literal given for parameter `index`; `Err` says why it is invalid.
pub type LiteralCheck = fn(index: usize, literal: &str) -> Result<(), String>;

/// What the checker knows of a builtin: declared once, next to its
/// implementation in `eval::builtins`, and handed to the checker.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    pub name: &'static str,
    pub params: &'static [(&'static str, ArgTy)],
    /// How many trailing params may be left out.
    pub optional: usize,
    pub returns: Ty,
    /// Checks a string literal given for parameter `index` (a regex, a time,
    /// a version...), so a bad literal is a compile error, not a runtime one.
    pub validate: Option<LiteralCheck>,
}

impl Signature {
    pub fn min_args(&self) -> usize {
        self.params.len() - self.optional.min(self.params.len())
    }

    pub fn render(&self) -> String {
        let min = self.min_args();
        let params: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, (n, t))| {
                if i >= min {
                    format!("{n}?: {}", t.name())
                } else {
                    format!("{n}: {}", t.name())
                }
            })
            .collect();
        format!(
            "{}({}) -> {}",
            self.name,
            params.join(", "),
            self.returns.name()
        )
    }
}
