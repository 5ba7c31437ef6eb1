//! The peer comparison: the promotion workload in Clearance, regorus (Rego)
//! and cel-interpreter (CEL) on the same bundles, checking each verdict.
//!
//! ```sh
//! cargo run --release --example gen_workload -- target/workload
//! cargo run --release -p clearance-peers -- table target/workload
//! ```
//!
//! `eval ENGINE FILE [N]` times evaluation alone (input already loaded), N runs.
//! `process ENGINE FILE` is one whole process: read, load, evaluate, print.
//! `table DIR` runs both for every engine and bundle and prints a Markdown table
//! (medians, min-max; whole-process peak RSS from `/usr/bin/time`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

// The allocator `clearance` ships with, for every engine alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POLICY: &str = include_str!("../../../policies/bench/workload.clr");
const REGO: &str = include_str!("../workload.rego");
const CEL: &str = include_str!("../workload.cel");
const NOW: &str = "2026-11-20T12:00:00Z";

type Verdict = Result<bool, String>;

/// An engine with its input loaded, ready to evaluate repeatedly.
trait Engine {
    fn eval(&mut self) -> Verdict;
}

struct Clearance {
    program: clearance::check::Program,
    evidence: clearance::eval::Value,
}

impl Engine for Clearance {
    fn eval(&mut self) -> Verdict {
        let gate = self.program.gates.first().ok_or("no gate")?;
        let options = clearance::eval::EvalOptions::at(NOW.parse().map_err(|e| format!("{e}"))?);
        let r = clearance::eval::evaluate_gate(&self.program, gate, &self.evidence, &options);
        Ok(r.decision == clearance::eval::Decision::Allowed)
    }
}

fn load_clearance(text: &str) -> Result<Clearance, String> {
    let program =
        clearance::compile_str("workload.clr", POLICY).map_err(|f| format!("{:?}", f.errors))?;
    let evidence =
        clearance::eval::parse_json(text, Default::default()).map_err(|e| e.to_string())?;
    Ok(Clearance { program, evidence })
}

/// What `clearance check` evaluates first: the lean load of only what the
/// rules read, decided by the compiled evaluator (`None` hands a failing
/// bundle to the explaining path, which this engine then runs in full).
struct ClearanceDecision {
    program: clearance::check::Program,
    evidence: clearance::eval::Value,
}

impl Engine for ClearanceDecision {
    fn eval(&mut self) -> Verdict {
        let gate = self.program.gates.first().ok_or("no gate")?;
        let options = clearance::eval::EvalOptions::at(NOW.parse().map_err(|e| format!("{e}"))?);
        let r = match clearance::eval::evaluate_gate_if_clean(
            &self.program,
            gate,
            &self.evidence,
            &options,
        ) {
            Some(r) => r,
            None => clearance::eval::evaluate_gate(&self.program, gate, &self.evidence, &options),
        };
        Ok(r.decision == clearance::eval::Decision::Allowed)
    }
}

fn load_clearance_decision(text: &str) -> Result<ClearanceDecision, String> {
    let program =
        clearance::compile_str("workload.clr", POLICY).map_err(|f| format!("{:?}", f.errors))?;
    let gate = program.gates.first().ok_or("no gate")?;
    let projection = clearance::eval::projection::for_decision(&program, &gate.lets, &gate.rules);
    let evidence =
        clearance::eval::projection::parse_for_decision(text, Default::default(), &projection)
            .map_err(|e| e.to_string())?;
    Ok(ClearanceDecision { program, evidence })
}

struct Rego {
    engine: regorus::Engine,
}

impl Engine for Rego {
    fn eval(&mut self) -> Verdict {
        let v = self
            .engine
            .eval_rule("data.workload.allow".to_string())
            .map_err(|e| e.to_string())?;
        Ok(v == regorus::Value::from(true))
    }
}

fn load_rego(text: &str) -> Result<Rego, String> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("workload.rego".to_string(), REGO.to_string())
        .map_err(|e| e.to_string())?;
    let input = regorus::Value::from_json_str(text).map_err(|e| e.to_string())?;
    engine.set_input(input);
    Ok(Rego { engine })
}

struct Cel {
    program: cel_interpreter::Program,
    context: cel_interpreter::Context<'static>,
}

impl Engine for Cel {
    fn eval(&mut self) -> Verdict {
        match self
            .program
            .execute(&self.context)
            .map_err(|e| e.to_string())?
        {
            cel_interpreter::Value::Bool(b) => Ok(b),
            other => Err(format!("CEL returned {other:?}")),
        }
    }
}

fn load_cel(text: &str) -> Result<Cel, String> {
    let program = cel_interpreter::Program::compile(CEL).map_err(|e| e.to_string())?;
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let input = cel_interpreter::to_value(json).map_err(|e| e.to_string())?;
    let mut context = cel_interpreter::Context::default();
    context.add_variable_from_value("input", input);
    Ok(Cel { program, context })
}

fn load(engine: &str, text: &str) -> Result<Box<dyn Engine>, String> {
    Ok(match engine {
        "clearance" => Box::new(load_clearance(text)?),
        "clearance-decision" => Box::new(load_clearance_decision(text)?),
        "regorus" => Box::new(load_rego(text)?),
        "cel" => Box::new(load_cel(text)?),
        other => return Err(format!("unknown engine {other}")),
    })
}

fn expected(file: &Path) -> bool {
    !file.to_string_lossy().contains("denied")
}

struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    Stats {
        median: samples[samples.len() / 2],
        min: samples[0],
        max: samples[samples.len() - 1],
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Times `n` evaluations of an already loaded input.
fn eval_only(engine: &str, file: &Path, n: usize) -> Result<Stats, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let mut e = load(engine, &text)?;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let verdict = e.eval()?;
        samples.push(t.elapsed());
        if verdict != expected(file) {
            return Err(format!("{engine} decided {verdict} on {}", file.display()));
        }
    }
    Ok(stats(samples))
}

/// One whole process: read, parse, evaluate; prints the verdict.
fn process(engine: &str, file: &Path) -> Result<(), String> {
    if engine == "parse-only" {
        use serde::de::IgnoredAny;
        let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
        let _: IgnoredAny = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        println!("parsed");
        return Ok(());
    }
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let verdict = load(engine, &text)?.eval()?;
    println!("{}", if verdict { "allowed" } else { "denied" });
    Ok(())
}

/// Wall time and peak RSS (MB) of a command, by `/usr/bin/time`.
fn measure(cmd: &mut Command) -> Result<(f64, f64), String> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %M")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .output()
        .map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or("");
    let mut parts = last.split_whitespace();
    let secs: f64 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(format!("cannot read time: {err}"))?;
    let kb: f64 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(format!("cannot read RSS: {err}"))?;
    Ok((secs, kb / 1024.0))
}

fn table(dir: &Path) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let clearance_bin = me.with_file_name("clearance");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/bench/workload.clr");
    println!("## Evaluation alone (input loaded), milliseconds: median (min-max)\n");
    println!("| bundle | clearance | regorus | cel-interpreter | regorus / clearance | cel / clearance |");
    println!("|---|---|---|---|---|---|");
    for size in ["small", "medium", "large"] {
        for variant in ["allowed", "denied"] {
            let file = dir.join(format!("{size}-{variant}.json"));
            if !file.exists() {
                continue;
            }
            let n = match size {
                "small" => 200,
                "medium" => 21,
                _ => 5,
            };
            let c = eval_only("clearance", &file, n)?;
            let r = eval_only("regorus", &file, n)?;
            let e = eval_only("cel", &file, n.min(5))?;
            println!(
                "| {size}-{variant} | {:.3} ({:.3}-{:.3}) | {:.3} ({:.3}-{:.3}) | {:.3} ({:.3}-{:.3}) | {:.1}x | {:.1}x |",
                ms(c.median), ms(c.min), ms(c.max),
                ms(r.median), ms(r.min), ms(r.max),
                ms(e.median), ms(e.min), ms(e.max),
                ms(r.median) / ms(c.median),
                ms(e.median) / ms(c.median)
            );
        }
    }
    println!("\n## Whole process, large bundle: seconds and peak RSS (MB), median of 3\n");
    println!("| bundle | parse-only floor | clearance check | regorus | cel-interpreter |");
    println!("|---|---|---|---|---|");
    for variant in ["allowed", "denied"] {
        let file = dir.join(format!("large-{variant}.json"));
        if !file.exists() {
            continue;
        }
        let runs = |mk: &dyn Fn() -> Command| -> Result<String, String> {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(measure(&mut mk())?);
            }
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (t, m) = v[1];
            Ok(format!("{t:.2} s, {m:.0} MB"))
        };
        let peer = |engine: &'static str| {
            let me = me.clone();
            let file = file.clone();
            move || {
                let mut c = Command::new(&me);
                c.arg("process").arg(engine).arg(&file);
                c
            }
        };
        let floor = runs(&peer("parse-only"))?;
        let ours = runs(&|| {
            let mut c = Command::new(&clearance_bin);
            c.arg("check")
                .arg(&policy)
                .arg("--evidence")
                .arg(&file)
                .arg("--now")
                .arg(NOW)
                .arg("--format")
                .arg("json");
            c
        })?;
        let rego = runs(&peer("regorus"))?;
        let cel = runs(&peer("cel"))?;
        println!("| large-{variant} | {floor} | {ours} | {rego} | {cel} |");
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["eval", engine, file, rest @ ..] => {
            let n = rest.first().and_then(|s| s.parse().ok()).unwrap_or(11);
            eval_only(engine, Path::new(file), n).map(|s| {
                println!(
                    "{engine}: median {:.3} ms (min {:.3}, max {:.3})",
                    ms(s.median),
                    ms(s.min),
                    ms(s.max)
                )
            })
        }
        ["process", engine, file] => process(engine, Path::new(file)),
        ["table", dir] => table(&PathBuf::from(dir)),
        _ => Err(
            "usage: clearance-peers eval ENGINE FILE [N] | process ENGINE FILE | table DIR".into(),
        ),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
