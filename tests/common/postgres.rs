//! A throw-away PostgreSQL cluster for one test: `initdb` in a temporary
//! directory, a server on 127.0.0.1 at a free port (and a unix socket in
//! the same directory), stopped when dropped. Uses the PostgreSQL of the
//! machine (`pg_config --bindir`, /usr/lib/postgresql/*/bin, or PATH);
//! `.ci/run` installs it where it is missing. As root, the server runs as
//! the `postgres` user, since PostgreSQL refuses to run as root.

use std::path::PathBuf;
use std::process::Command;

pub struct TempPostgres {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// The server options it was started with (`restart` reuses them).
    options: String,
    pub url: String,
}

fn bindir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CLEARANCE_PG_BIN") {
        return PathBuf::from(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some(dir) = versions
        .into_iter()
        .rev()
        .find(|d| d.join("initdb").exists())
    {
        return dir;
    }
    panic!(
        "the PostgreSQL tests need a PostgreSQL server installation (initdb, pg_ctl): \
         `apt-get install postgresql`, or set CLEARANCE_PG_BIN; .ci/run installs it"
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl TempPostgres {
    pub fn start() -> TempPostgres {
        let bin = bindir();
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let data = dir.path().join("data");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut pg = TempPostgres {
            data: data.clone(),
            bin,
            as_postgres,
            url: format!("postgres://clearance@127.0.0.1:{port}/postgres"),
            options: String::new(),
            _dir: dir,
        };
        let socket_dir = pg._dir.path().display().to_string();
        pg.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "clearance",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {socket_dir} -c fsync=off -c max_connections=40"
        );
        pg.options = options.clone();
        pg.run(
            "pg_ctl",
            &[
                "-D",
                &data.display().to_string(),
                "-l",
                &format!("{socket_dir}/server.log"),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        pg
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&mut self, tool: &str, args: &[&str]) {
        let out = self.command(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl TempPostgres {
    /// Runs `pg_ctl ACTION` on this cluster's data, with `extra` options.
    fn pg_ctl(&self, action: &str, extra: &[&str]) -> std::process::Output {
        self.command("pg_ctl")
            .args(["-D", &self.data.display().to_string(), "-w", "-t", "60"])
            .args(extra)
            .arg(action)
            .output()
            .unwrap()
    }

    /// Stops the server (fast shutdown), as an outage would.
    #[allow(dead_code)]
    pub fn stop(&self) {
        let out = self.pg_ctl("stop", &["-m", "fast"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts it again on the same port and data.
    #[allow(dead_code)]
    pub fn restart(&self) {
        let log = format!("{}/server.log", self._dir.path().display());
        let out = self.pg_ctl("start", &["-l", &log, "-o", &self.options]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl("stop", &["-m", "immediate"]);
    }
}
