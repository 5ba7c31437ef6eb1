//! Writes the benchmark workload bundles: `cargo run --release --example gen_workload -- DIR [small|medium|large]...`
#[path = "../benches/workload/mod.rs"]
mod workload;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "target/workload".into());
    let mut sizes: Vec<workload::Size> = args
        .filter_map(|a| match a.as_str() {
            "small" => Some(workload::Size::Small),
            "medium" => Some(workload::Size::Medium),
            "large" => Some(workload::Size::Large),
            _ => None,
        })
        .collect();
    if sizes.is_empty() {
        sizes = vec![
            workload::Size::Small,
            workload::Size::Medium,
            workload::Size::Large,
        ];
    }
    match workload::write_all(std::path::Path::new(&dir), &sizes) {
        Ok(paths) => {
            for p in paths {
                let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                println!("{} ({len} bytes)", p.display());
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
